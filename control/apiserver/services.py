"""Services' ClusterIPs and NodePorts: allocated on write, released on delete.

The allocators' state is rebuilt from the stored Services at start; one
apiserver owns allocation (a lock serialises it), and a failed write gives
back what it took.
"""

from __future__ import annotations

import asyncio

from control.apiserver import errors
from control.apiserver.allocators import AllocationError, ClusterIPAllocator, NodePortAllocator, RangeFullError
from control.apiserver.context import KindHooks
from skiff.v1 import core_pb2

NODE_PORT_TYPES = ("NodePort", "LoadBalancer")


def _wants_cluster_ip(svc: core_pb2.Service) -> bool:
    return svc.spec.type != "ExternalName" and svc.spec.cluster_ip != "None"


def _held(svc: core_pb2.Service) -> tuple[set[str], set[int]]:
    ips = {svc.spec.cluster_ip} if svc.spec.cluster_ip and svc.spec.cluster_ip != "None" else set()
    ports = {p.node_port for p in svc.spec.ports if p.node_port}
    return ips, ports


class ServiceHooks(KindHooks):
    def __init__(self, cluster_ips: ClusterIPAllocator, node_ports: NodePortAllocator) -> None:
        self.cluster_ips = cluster_ips
        self.node_ports = node_ports
        self.lock = asyncio.Lock()

    def load(self, services: list[core_pb2.Service]) -> None:
        ips: set[str] = set()
        ports: set[int] = set()
        for svc in services:
            held_ips, held_ports = _held(svc)
            ips |= held_ips
            ports |= held_ports
        self.cluster_ips.load(ips)
        self.node_ports.load(ports)

    async def before_create(self, svc: core_pb2.Service, dry_run: bool) -> None:
        async with self.lock:
            taken = self._allocate(svc, core_pb2.Service())
            if dry_run:
                self._release(*taken)

    async def after_failed_create(self, svc: core_pb2.Service) -> None:
        async with self.lock:
            self._release(*_held(svc))

    async def before_update(self, new: core_pb2.Service, old: core_pb2.Service, dry_run: bool) -> None:
        async with self.lock:
            taken = self._allocate(new, old)
            if dry_run:
                self._release(*taken)
                return
            old_ips, old_ports = _held(old)
            new_ips, new_ports = _held(new)
            self._release(old_ips - new_ips, old_ports - new_ports)

    async def after_failed_update(self, new: core_pb2.Service, old: core_pb2.Service) -> None:
        old_ips, old_ports = _held(old)
        new_ips, new_ports = _held(new)
        async with self.lock:
            self._release(new_ips - old_ips, new_ports - old_ports)
            self.cluster_ips.load(old_ips)
            self.node_ports.load(old_ports)

    async def after_delete(self, svc: core_pb2.Service) -> None:
        async with self.lock:
            self._release(*_held(svc))

    def _allocate(self, svc: core_pb2.Service, old: core_pb2.Service) -> tuple[set[str], set[int]]:
        """Fills in clusterIP and nodePorts; returns what was newly taken."""
        old_ips, old_ports = _held(old)
        ips: set[str] = set()
        ports: set[int] = set()
        try:
            if _wants_cluster_ip(svc) and svc.spec.cluster_ip not in old_ips:
                requested = svc.spec.cluster_ip or None
                ip = self._call(self.cluster_ips.allocate, requested, "spec.clusterIP")
                ips.add(ip)
                svc.spec.cluster_ip = ip
                del svc.spec.cluster_ips[:]
                svc.spec.cluster_ips.append(ip)
            for i, port in enumerate(svc.spec.ports):
                if svc.spec.type not in NODE_PORT_TYPES:
                    if port.node_port and port.node_port not in old_ports:
                        raise errors.bad_request(
                            f"spec.ports[{i}].nodePort: Forbidden: may not be used when `type` is "
                            f"'{svc.spec.type}'", f"spec.ports[{i}].nodePort")
                    continue
                if port.node_port and port.node_port in old_ports:
                    continue
                got = self._call(self.node_ports.allocate, port.node_port or None, f"spec.ports[{i}].nodePort")
                ports.add(got)
                port.node_port = got
        except BaseException:
            self._release(ips, ports)
            raise
        return ips, ports

    @staticmethod
    def _call(allocate, requested, field: str):
        try:
            return allocate(requested, field=field)
        except RangeFullError as e:
            raise errors.ApiError(errors.grpc.StatusCode.INTERNAL, f"failed to allocate: {e}") from None
        except AllocationError as e:
            raise errors.bad_request(str(e), field) from None

    def _release(self, ips: set[str], ports: set[int]) -> None:
        for ip in ips:
            self.cluster_ips.release(ip)
        for port in ports:
            self.node_ports.release(port)
