"""The agent's Node object and its heartbeats: the node Lease and the Node's status.

The agent owns the Node's status and its own labels; the spec (podCIDR from
node IPAM, taints, unschedulable) belongs to others and is never written here:
status goes through UpdateStatus, labels through Update of a fresh copy.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
import psutil
from google.protobuf.timestamp_pb2 import Timestamp

from control.client.client import Client
from control.client.version import GIT_VERSION
from control.client.wellknown import (
    CONDITION_FALSE,
    CONDITION_TRUE,
    LABEL_ARCH,
    LABEL_HOSTNAME,
    LABEL_OS,
    NAMESPACE_NODE_LEASE,
    NODE_READY,
)
from skiff.v1 import coordination_pb2, core_pb2, meta_pb2

log = logging.getLogger(__name__)

LEASE_NAMESPACE = NAMESPACE_NODE_LEASE
MAX_PODS = 110
EVICTION_MEMORY = 100 * 2**20  # the kubelet's default memory.available<100Mi
EVICTION_DISK_FRACTION = 0.10  # nodefs.available<10%
AGENT_VERSION = GIT_VERSION
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


@dataclass
class NodeConfig:
    node_name: str
    node_ip: str
    hostname: str
    root_dir: str
    agent_port: int = 0
    lease_duration: int = 40
    lease_renew_interval: float = 10.0
    status_update_interval: float = 10.0
    labels: dict[str, str] = field(default_factory=dict)


RuntimeHealth = Callable[[], Awaitable[tuple[bool, str]]]  # -> (ready, reason when not)


def now() -> Timestamp:
    ts = Timestamp()
    ts.GetCurrentTime()
    return ts


def arch() -> str:
    machine = platform.machine()
    return _ARCH.get(machine, machine)


def node_labels(config: NodeConfig) -> dict[str, str]:
    return {LABEL_HOSTNAME: config.hostname, LABEL_OS: "linux", LABEL_ARCH: arch(),
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch(),
            **config.labels}


def capacity(root_dir: str) -> tuple[dict[str, str], dict[str, str]]:
    """(capacity, allocatable): allocatable keeps the kubelet's hard eviction thresholds back."""
    memory = psutil.virtual_memory().total
    disk = psutil.disk_usage(root_dir).total
    cap = {"cpu": str(psutil.cpu_count() or 1), "memory": f"{memory // 1024}Ki", "pods": str(MAX_PODS),
           "ephemeral-storage": f"{disk // 1024}Ki"}
    alloc = dict(cap, memory=f"{max(0, memory - EVICTION_MEMORY) // 1024}Ki",
                 **{"ephemeral-storage": str(int(disk * (1 - EVICTION_DISK_FRACTION)))})
    return cap, alloc


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "Linux"


def node_info(runtime_version: str) -> core_pb2.NodeSystemInfo:
    return core_pb2.NodeSystemInfo(
        machine_id=_read("/etc/machine-id"), system_uuid=_read("/sys/class/dmi/id/product_uuid"),
        boot_id=_read("/proc/sys/kernel/random/boot_id"), kernel_version=platform.release(),
        os_image=_os_image(), container_runtime_version=runtime_version, kubelet_version=AGENT_VERSION,
        kube_proxy_version=AGENT_VERSION, operating_system="linux", architecture=arch())


def _condition(ctype: str, true: bool, reason: str, message: str) -> core_pb2.NodeCondition:
    return core_pb2.NodeCondition(type=ctype, status=CONDITION_TRUE if true else CONDITION_FALSE, reason=reason,
                              message=message)


def pressure_conditions(root_dir: str) -> list[core_pb2.NodeCondition]:
    memory_low = psutil.virtual_memory().available < EVICTION_MEMORY
    disk = psutil.disk_usage(root_dir)
    disk_low = disk.free < disk.total * EVICTION_DISK_FRACTION
    pid_max = int(_read("/proc/sys/kernel/pid_max") or 32768)
    pids_low = len(psutil.pids()) > 0.9 * pid_max
    return [
        _condition("MemoryPressure", memory_low, *(("KubeletHasInsufficientMemory", "kubelet has insufficient "
                   "memory available") if memory_low else ("KubeletHasSufficientMemory", "kubelet has "
                   "sufficient memory available"))),
        _condition("DiskPressure", disk_low, *(("KubeletHasDiskPressure", "kubelet has disk pressure")
                   if disk_low else ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"))),
        _condition("PIDPressure", pids_low, *(("KubeletHasInsufficientPID", "kubelet has insufficient PID "
                   "available") if pids_low else ("KubeletHasSufficientPID", "kubelet has sufficient PID "
                   "available"))),
    ]


def merge_conditions(old: list[core_pb2.NodeCondition], new: list[core_pb2.NodeCondition],
                     stamp: Timestamp) -> list[core_pb2.NodeCondition]:
    """Ours replace theirs by type (heartbeat now, transition kept while the status holds); others stay."""
    previous = {c.type: c for c in old}
    ours = {c.type for c in new}
    merged = [c for c in old if c.type not in ours]
    for cond in new:
        cond.last_heartbeat_time.CopyFrom(stamp)
        before = previous.get(cond.type)
        if before is not None and before.status == cond.status and before.HasField("last_transition_time"):
            cond.last_transition_time.CopyFrom(before.last_transition_time)
        else:
            cond.last_transition_time.CopyFrom(stamp)
        merged.append(cond)
    return merged


class NodeRegistration:
    def __init__(self, client: Client, config: NodeConfig, runtime_health: RuntimeHealth,
                 runtime_version: str = "") -> None:
        self.client = client
        self.config = config
        self.runtime_health = runtime_health
        self.runtime_version = runtime_version
        self.node: core_pb2.Node | None = None

    async def run(self) -> None:
        """Registers, then renews the Lease and refreshes the status until cancelled."""
        await self.register()
        await asyncio.gather(self._forever(self.renew_lease, self.config.lease_renew_interval),
                             self._forever(self.update_status, self.config.status_update_interval))

    async def _forever(self, step: Callable[[], Awaitable[None]], interval: float) -> None:
        while True:
            try:
                await step()
            except grpc.aio.AioRpcError as e:
                log.warning("%s: %s: %s", step.__name__, e.code().name, e.details())
            await asyncio.sleep(interval)

    def desired_node(self) -> core_pb2.Node:
        return core_pb2.Node(api_version="v1", kind="Node",
                             metadata=meta_pb2.ObjectMeta(name=self.config.node_name,
                                                          labels=node_labels(self.config)))

    async def register(self) -> core_pb2.Node:
        while True:
            try:
                self.node = await self.client.create(self.desired_node())
                break
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.ALREADY_EXISTS:
                    self.node = await self._adopt_existing()
                    break
                log.warning("registering node %s: %s: %s", self.config.node_name, e.code().name, e.details())
                await asyncio.sleep(1.0)
        await self.update_status()
        await self.renew_lease()
        return self.node

    async def _adopt_existing(self) -> core_pb2.Node:
        for _ in range(5):
            node = await self.client.get("Node", self.config.node_name)
            wanted = node_labels(self.config)
            if all(node.metadata.labels.get(k) == v for k, v in wanted.items()):
                return node
            node.metadata.labels.update(wanted)
            try:
                return await self.client.update(node)
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.ABORTED:
                    raise
        raise RuntimeError(f"could not update node {self.config.node_name}: too many conflicts")

    async def _status(self, node: core_pb2.Node) -> core_pb2.NodeStatus:
        cap, alloc = capacity(self.config.root_dir)
        ready, why = await self.runtime_health()
        conditions = [*pressure_conditions(self.config.root_dir),
                      _condition(NODE_READY, ready, "KubeletReady" if ready else "KubeletNotReady",
                                 "kubelet is posting ready status" if ready else why)]
        status = core_pb2.NodeStatus()
        status.CopyFrom(node.status)
        status.capacity.clear()
        status.capacity.update(cap)
        status.allocatable.clear()
        status.allocatable.update(alloc)
        del status.conditions[:]
        status.conditions.extend(merge_conditions(list(node.status.conditions), conditions, now()))
        del status.addresses[:]
        if self.config.node_ip:
            status.addresses.add(type="InternalIP", address=self.config.node_ip)
        status.addresses.add(type="Hostname", address=self.config.hostname)
        status.daemon_endpoints.kubelet_endpoint.port = self.config.agent_port
        status.node_info.CopyFrom(node_info(self.runtime_version))
        return status

    async def update_status(self) -> None:
        for _ in range(5):
            node = await self.client.get("Node", self.config.node_name)
            node.status.CopyFrom(await self._status(node))
            try:
                self.node = await self.client.update_status(node)
                return
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.ABORTED:
                    raise

    def _lease(self) -> coordination_pb2.Lease:
        owner = meta_pb2.OwnerReference(api_version="v1", kind="Node", name=self.config.node_name,
                                        uid=self.node.metadata.uid if self.node else "")
        return coordination_pb2.Lease(
            api_version="coordination.k8s.io/v1", kind="Lease",
            metadata=meta_pb2.ObjectMeta(name=self.config.node_name, namespace=LEASE_NAMESPACE,
                                         owner_references=[owner] if owner.uid else []),
            spec=coordination_pb2.LeaseSpec(holder_identity=self.config.node_name,
                                            lease_duration_seconds=self.config.lease_duration,
                                            renew_time=now()))

    async def renew_lease(self) -> None:
        for _ in range(5):
            try:
                lease = await self.client.get("Lease", self.config.node_name, LEASE_NAMESPACE)
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                try:
                    await self.client.create(self._lease())
                    return
                except grpc.aio.AioRpcError as e2:
                    if e2.code() != grpc.StatusCode.ALREADY_EXISTS:
                        raise
                    continue
            lease.spec.holder_identity = self.config.node_name
            lease.spec.lease_duration_seconds = self.config.lease_duration
            lease.spec.renew_time.CopyFrom(now())
            try:
                await self.client.update(lease)
                return
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.ABORTED:
                    raise


def default_node_ip() -> str:
    """The first global IPv4 address of an interface that is up (what the kubelet would pick)."""
    stats = psutil.net_if_stats()
    for name, addrs in psutil.net_if_addrs().items():
        if name == "lo" or not stats.get(name) or not stats[name].isup:
            continue
        for addr in addrs:
            if addr.family.name == "AF_INET" and not addr.address.startswith("127."):
                return addr.address
    return "127.0.0.1"


def default_hostname() -> str:
    return os.uname().nodename.lower()
