"""A highly available control plane for the lab: N members, each in a network namespace of its own on the
lab bridge (cp-1 … cp-N at 172.31.250.2 …) with etcd (one member of an N-member cluster, peer and client
TLS), skiff-apiserver, skiff-scheduler and skiff-controller-manager, all from the same install script and
units as a VM. With one control plane the lab keeps it on the host (lablib.cluster)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from typing import ClassVar

from lablib import host, procs
from lablib.config import (
    APISERVER,
    APISERVER_PORT,
    BRIDGE,
    DEFAULT_TOLERATION_SECONDS,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    HOST_IP,
    LB_POOL,
    NODE_MONITOR_GRACE_PERIOD,
    NODE_SUBNET,
    POD_CIDR,
    REST_PORT,
    ROOT,
    SERVICE_CIDR,
    STATE_DIR,
    VENV_BIN,
    LabHost,
    control_plane_dirs,
    pki_dir,
)

MAX_CONTROL_PLANES = 7  # addresses .2 … .8, below the nodes' .11 …
UNITS = ("etcd", "skiff-apiserver", "skiff-scheduler", "skiff-controller-manager")
LOAD_BALANCER = "apiserver-lb"  # the lab process: HOST_IP's API ports, forwarded to every live member
_CONFIG = os.path.join(STATE_DIR, "control-planes.json")


@dataclass(frozen=True)
class Member(LabHost):
    PREFIX: ClassVar[str] = "cp"
    IP_OFFSET: ClassVar[int] = 1
    GROUP: ClassVar[str] = "control-planes"

    @property
    def apiserver(self) -> str:
        return f"{self.ip}:{APISERVER_PORT}"

    @property
    def etcd_url(self) -> str:
        return f"https://{self.ip}:{ETCD_CLIENT_PORT}"

    @property
    def etcd_peer_url(self) -> str:
        return f"https://{self.ip}:{ETCD_PEER_PORT}"

    def process(self, unit: str) -> str:
        return f"{self.name}-{unit}"


def count() -> int:
    """How many control-plane members the lab runs (1: the control plane on the host)."""
    with contextlib.suppress(OSError, ValueError, KeyError):
        with open(_CONFIG) as f:
            return int(json.load(f)["count"])
    return 1


def record(n: int) -> None:
    os.makedirs(STATE_DIR, exist_ok=True)
    with open(_CONFIG, "w") as f:
        json.dump({"count": n}, f)


def members(n: int | None = None) -> list[Member]:
    n = count() if n is None else n
    return [Member(i) for i in range(1, n + 1)] if n > 1 else []


def apiservers(n: int | None = None) -> list[str]:
    """Every apiserver clients should know, in order."""
    found = members(n)
    return [m.apiserver for m in found] if found else [APISERVER]


def apiserver_target(n: int | None = None) -> str:
    return ",".join(apiservers(n))


def member_named(text: str) -> Member:
    n = count()
    if not text.isdigit() or not 1 <= int(text) <= n or n == 1:
        raise ValueError(f"no control-plane member {text!r}: this lab has "
                         f"{'members 1 … ' + str(n) if n > 1 else 'one control plane on the host'}"
                         " (scripts/lab up --control-planes 3)")
    return Member(int(text))


# ---- bringing members up ----

def _network(member: Member) -> None:
    if not host.netns_exists(member.netns):
        host.run("ip", "netns", "add", member.netns)
    host.run("ip", "link", "set", "lo", "up", netns=member.netns)
    if not host.link_exists(member.veth):
        host.run("ip", "link", "add", member.veth, "type", "veth", "peer", "name", "eth0", "netns", member.netns)
    host.run("ip", "link", "set", member.veth, "master", BRIDGE, "up")
    host.run("ip", "addr", "replace", f"{member.ip}/{NODE_SUBNET.prefixlen}", "dev", "eth0", netns=member.netns)
    host.run("ip", "link", "set", "eth0", "up", netns=member.netns)


def _shared_files(member: Member) -> None:
    """The cluster's PKI and encryption key are one for every member (as kubeadm copies them)."""
    os.makedirs(member.config_dir, mode=0o700, exist_ok=True)
    link = os.path.join(member.config_dir, "pki")
    if not os.path.islink(link):
        shutil.rmtree(link, ignore_errors=True)
        os.symlink(pki_dir(), link)
    shared_key = os.path.join(control_plane_dirs()[0], "encryption.key")
    if not os.path.exists(shared_key):
        fd = os.open(shared_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.b64encode(os.urandom(32)).decode())
    key = os.path.join(member.config_dir, "encryption.key")
    if not os.path.exists(key):
        shutil.copy2(shared_key, key)


def install(member: Member, all_members: list[Member]) -> None:
    _network(member)
    _shared_files(member)
    initial = ",".join(f"{m.name}={m.etcd_peer_url}" for m in all_members)
    result = subprocess.run(
        [os.path.join(ROOT, "scripts", "install-control-plane"), "--no-systemd", "--skip-deps",
         "--config-dir", member.config_dir, "--state-dir", member.state_dir, "--advertise-address", member.ip,
         "--apiserver-port", str(APISERVER_PORT), "--rest-port", str(REST_PORT),
         "--etcd-client-port", str(ETCD_CLIENT_PORT), "--etcd-peer-port", str(ETCD_PEER_PORT),
         "--etcd-address", member.ip, "--etcd-tls", "--etcd-name", member.name,
         "--etcd-initial-cluster", initial, "--etcd-servers", ",".join(m.etcd_url for m in all_members),
         "--apiservers", ",".join(m.apiserver for m in all_members),
         "--service-cidr", SERVICE_CIDR, "--cluster-cidr", POD_CIDR,
         "--node-monitor-grace-period", NODE_MONITOR_GRACE_PERIOD,
         "--default-toleration-seconds", str(DEFAULT_TOLERATION_SECONDS), "--loadbalancer-ip-range", LB_POOL],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/install-control-plane for {member.name} failed:\n{result.stderr.strip()}")


def _unit_path(member: Member, unit: str) -> str:
    return os.path.join(member.config_dir, "units", f"{unit}.service")


def start(member: Member, units: tuple[str, ...] = UNITS) -> None:
    from lablib.cluster import start_unit
    for unit in units:
        start_unit(member.process(unit), _unit_path(member, unit), netns=member.netns)


def up(n: int) -> list[Member]:
    """Installs and starts every member; etcd first on all (a new cluster needs its quorum), then the rest."""
    found = members(n)
    record(n)
    os.makedirs(pki_dir(), exist_ok=True)
    for m in found:
        install(m, found)
    for m in found:
        start(m, ("etcd",))
    for m in found:
        procs.must_wait(lambda m=m: port_open(m.ip, ETCD_CLIENT_PORT), 20, f"{m.name}'s etcd",
                        log=m.process("etcd"))
    for m in found:
        start(m, ("skiff-apiserver",))
    for m in found:
        procs.must_wait(lambda m=m: port_open(m.ip, APISERVER_PORT), 40, f"{m.name}'s apiserver",
                        log=m.process("skiff-apiserver"))
    for m in found:
        start(m, ("skiff-scheduler", "skiff-controller-manager"))
    start_load_balancer(found)
    _copy_admin_files(found[0])
    return found


def start_load_balancer(found: list[Member]) -> None:
    """The control plane's one address for clients that take a single server (kubectl): the host's
    address on the bridge, where the single-host lab's apiserver answers (lablib/apiproxy.py)."""
    routes = [f"{HOST_IP}:{port}=" + ",".join(f"{m.ip}:{port}" for m in found) for port in (APISERVER_PORT, REST_PORT)]
    script = os.path.join(ROOT, "scripts", "lablib", "apiproxy.py")
    procs.start(LOAD_BALANCER, [os.path.join(VENV_BIN, "python"), script, *(f"--listen={r}" for r in routes)])
    procs.must_wait(lambda: port_open(HOST_IP, REST_PORT), 10, "the apiservers' load balancer", log=LOAD_BALANCER)


def _copy_admin_files(member: Member) -> None:
    """skiffctl's and kubectl's admin configs where the single-host lab keeps them: skiffctl's names every
    member, kubectl's (one server) the load balancer in front of them."""
    etc = control_plane_dirs()[0]
    for name in ("skiffctl.yaml", "admin.kubeconfig"):
        source = os.path.join(member.config_dir, name)
        if not os.path.exists(source):
            continue
        with open(source) as f:
            text = f.read()
        if name == "admin.kubeconfig":
            text = text.replace(f"https://{member.ip}:{REST_PORT}", f"https://{HOST_IP}:{REST_PORT}")
        fd = os.open(os.path.join(etc, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)


def port_open(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.3):
            return True
    except OSError:
        return False


# ---- crash and rejoin ----

def pids_in(member: Member) -> list[int]:
    """Every process in the member's network namespace (its etcd, apiserver workers, scheduler, ...)."""
    try:
        target = os.stat(f"/var/run/netns/{member.netns}").st_ino
    except FileNotFoundError:
        return []
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            if os.stat(f"/proc/{pid}/ns/net").st_ino == target and int(pid) != os.getpid():
                found.append(int(pid))
    return found


def kill(member: Member) -> list[int]:
    """SIGKILL of every process of the member at once, as a crash; returns their pids."""
    pids = pids_in(member)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    procs.wait_until(lambda: not pids_in(member), 10)
    return pids


def down() -> None:
    for m in members():
        kill(m)
        for unit in UNITS:
            procs.stop(m.process(unit))
        if host.link_exists(m.veth):
            host.run("ip", "link", "del", m.veth, check=False)
        if host.netns_exists(m.netns):
            host.run("ip", "netns", "delete", m.netns, check=False)
    with contextlib.suppress(FileNotFoundError):
        os.remove(_CONFIG)
