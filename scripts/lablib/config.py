"""The lab's names, address ranges and paths, in one place."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import ClassVar

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
STATE_DIR = os.environ.get("SKIFF_LAB_STATE", "/var/lib/skiff-lab")

BRIDGE = "skiff-lab0"
VETH_PREFIX = "sklab-"  # host side of each node's veth pair: sklab-node-1
NODE_SUBNET = ipaddress.ip_network("172.31.250.0/24")
HOST_IP = "172.31.250.1"  # the host's address on the bridge: apiserver and registry
POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/12"
CLUSTER_DNS = "10.96.0.10"
LAB_RANGES = (str(NODE_SUBNET), POD_CIDR, SERVICE_CIDR)
# LoadBalancer Services' addresses: on the lab bridge, routed by the host to the nodes (LB_ROUTE).
LB_POOL = "172.31.250.200-172.31.250.250"
LB_ROUTE = "172.31.250.192/26"
INGRESS_USER = "skiff-ingress-controller"
INGRESS_CLASS = "nginx"
NFT_TABLE = "skiff_lab_guard"  # inet family

APISERVER_PORT = 6443
REST_PORT = 6444  # Kubernetes' REST API, for kubectl
APISERVER = f"{HOST_IP}:{APISERVER_PORT}"
ETCD_CLIENT_PORT = 23790
ETCD_PEER_PORT = 23800
REGISTRY_PORT = 5000
NODE_MONITOR_GRACE_PERIOD = "20s"
DEFAULT_TOLERATION_SECONDS = 30
AGENT_PORT = 10250
CONFIG_MARKER = "# written by scripts/lab"

_NODE_NAME = re.compile(r"^node-([1-9][0-9]?)$")
MAX_NODES = 99


@dataclass(frozen=True)
class LabHost:
    """A member of the lab on its bridge: a network namespace of its own, with an address and directories."""
    index: int
    PREFIX: ClassVar[str] = ""
    IP_OFFSET: ClassVar[int] = 0  # its address: the subnet's + IP_OFFSET + index
    GROUP: ClassVar[str] = ""  # its directory: STATE_DIR/GROUP/name

    @property
    def name(self) -> str:
        return f"{self.PREFIX}-{self.index}"

    @property
    def ip(self) -> str:
        return str(NODE_SUBNET.network_address + self.IP_OFFSET + self.index)

    @property
    def netns(self) -> str:
        return self.name

    @property
    def veth(self) -> str:
        return f"{VETH_PREFIX}{self.name}"

    @property
    def dir(self) -> str:
        return os.path.join(STATE_DIR, self.GROUP, self.name)

    @property
    def config_dir(self) -> str:
        return os.path.join(self.dir, "etc")

    @property
    def state_dir(self) -> str:
        return os.path.join(self.dir, "var")


@dataclass(frozen=True)
class Node(LabHost):
    PREFIX: ClassVar[str] = "node"
    IP_OFFSET: ClassVar[int] = 10
    GROUP: ClassVar[str] = "nodes"


def node_named(name: str) -> Node:
    m = _NODE_NAME.match(name)
    if not m:
        raise ValueError(f"no such node {name!r}: lab nodes are named node-1 … node-{MAX_NODES}")
    return Node(int(m.group(1)))


def control_plane_dirs() -> tuple[str, str]:
    base = os.path.join(STATE_DIR, "control-plane")
    return os.path.join(base, "etc"), os.path.join(base, "var")


def pki_dir() -> str:
    """The cluster PKI (scripts/certs DIR cluster): CA, certificates, kubeconfigs of every component."""
    return os.path.join(control_plane_dirs()[0], "pki")


def admin_config() -> str:
    """The admin's client config (absolute paths) written by scripts/install-control-plane."""
    return os.path.join(control_plane_dirs()[0], "skiffctl.yaml")


def admin_kubeconfig() -> str:
    """A standard kubeconfig of the admin over the REST port, for kubectl (scripts/install-control-plane)."""
    return os.path.join(control_plane_dirs()[0], "admin.kubeconfig")


def run_dir() -> str:
    return os.path.join(STATE_DIR, "run")


def log_dir() -> str:
    return os.path.join(STATE_DIR, "logs")
