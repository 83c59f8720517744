"""Services' ClusterIPs and NodePorts: allocated on write, given back on delete, safe with several
apiservers.

Every allocated value is a claim key in etcd (`/registry/ranges/serviceips/<ip>`,
`/registry/ranges/servicenodeports/<port>`, valued with the owning Service) taken and released in
the same transaction as the Service itself, so two apiservers can never hand out the same value
and a failed write leaks nothing. Each apiserver keeps a local view of what is taken to pick
candidates; a claim another apiserver took first makes the write fail, the view learns it and the
pick is made again. At start the view is read from etcd, and claims missing for Services stored
before claims existed are written.
"""

from __future__ import annotations

import asyncio
import logging

from control.apiserver import errors
from control.apiserver.allocators import (
    AllocationError,
    AlreadyAllocatedError,
    ClusterIPAllocator,
    NodePortAllocator,
    RangeFullError,
)
from control.apiserver.context import KindHooks
from control.apiserver.storage import Claims, ClaimTakenError, Storage
from skiff.v1 import core_pb2

log = logging.getLogger(__name__)

NODE_PORT_TYPES = ("NodePort", "LoadBalancer")
IP_PREFIX = "/registry/ranges/serviceips/"
PORT_PREFIX = "/registry/ranges/servicenodeports/"

Held = tuple[set[str], set[int]]


def _wants_cluster_ip(svc: core_pb2.Service) -> bool:
    return svc.spec.type != "ExternalName" and svc.spec.cluster_ip != "None"


def allocates_node_ports(svc: core_pb2.Service) -> bool:
    """`allocateLoadBalancerNodePorts: false`: a LoadBalancer gets only the nodePorts it names."""
    return not (svc.spec.type == "LoadBalancer" and svc.spec.HasField("allocate_load_balancer_node_ports")
                and not svc.spec.allocate_load_balancer_node_ports)


def needs_health_check_port(svc: core_pb2.Service) -> bool:
    return svc.spec.type == "LoadBalancer" and svc.spec.external_traffic_policy == "Local"


def held(svc: core_pb2.Service) -> Held:
    ips = {svc.spec.cluster_ip} if svc.spec.cluster_ip and svc.spec.cluster_ip != "None" else set()
    ports = {p.node_port for p in svc.spec.ports if p.node_port}
    if svc.spec.health_check_node_port:
        ports.add(svc.spec.health_check_node_port)
    return ips, ports


def claim_keys(ips: set[str], ports: set[int]) -> list[str]:
    return [IP_PREFIX + ip for ip in sorted(ips)] + [PORT_PREFIX + str(p) for p in sorted(ports)]


def _owner(svc: core_pb2.Service) -> str:
    return f"{svc.metadata.namespace}/{svc.metadata.name}"


class ServiceAllocations(KindHooks):
    def __init__(self, storage: Storage, cluster_ips: ClusterIPAllocator, node_ports: NodePortAllocator) -> None:
        self.storage = storage
        self.cluster_ips = cluster_ips
        self.node_ports = node_ports
        self.lock = asyncio.Lock()

    async def start(self, services: list[core_pb2.Service]) -> None:
        await self.refresh()
        repaired = [await self._repair(svc) for svc in services]
        if any(repaired):
            await self.refresh()

    async def refresh(self) -> None:
        """The local view of what is taken, read from etcd's claims."""
        claimed = await self.storage.list_claims("/registry/ranges/")
        self.cluster_ips.load(k.removeprefix(IP_PREFIX) for k in claimed if k.startswith(IP_PREFIX))
        self.node_ports.load(int(k.removeprefix(PORT_PREFIX)) for k in claimed if k.startswith(PORT_PREFIX))

    async def _repair(self, svc: core_pb2.Service) -> bool:
        """Claims for what a Service stored before claims existed holds (Kubernetes' repair loop);
        whether any was missing."""
        ips, ports = held(svc)
        missing = claim_keys({ip for ip in ips if ip not in self.cluster_ips},
                             {p for p in ports if p not in self.node_ports})
        for key in missing:
            try:
                await self.storage.claim(key, _owner(svc))
            except ClaimTakenError:
                log.warning("service %s holds %s, which another object claims", _owner(svc), key)
        return bool(missing)

    # -- the write path ----------------------------------------------------------------------------

    async def before_create(self, svc: core_pb2.Service, dry_run: bool) -> Claims | None:
        return await self.before_update(svc, core_pb2.Service(), dry_run)

    async def after_failed_create(self, svc: core_pb2.Service) -> None:
        async with self.lock:
            self._release(*held(svc))

    async def before_update(self, new: core_pb2.Service, old: core_pb2.Service, dry_run: bool) -> Claims | None:
        async with self.lock:
            taken = await self._allocate(new, old)
            if dry_run:
                self._release(*taken)
                return None
            old_ips, old_ports = held(old)
            new_ips, new_ports = held(new)
            return Claims(take=dict.fromkeys(claim_keys(*taken), _owner(new)),
                          release=claim_keys(old_ips - new_ips, old_ports - new_ports))

    async def after_failed_update(self, new: core_pb2.Service, old: core_pb2.Service) -> None:
        old_ips, old_ports = held(old)
        new_ips, new_ports = held(new)
        async with self.lock:
            self._release(new_ips - old_ips, new_ports - old_ports)

    async def claim_taken(self, key: str) -> None:
        """Another apiserver was first: what it holds, and whatever else changed, comes from etcd."""
        async with self.lock:
            await self.refresh()

    def claims_for_delete(self, svc: core_pb2.Service) -> Claims:
        return Claims(release=claim_keys(*held(svc)))

    async def after_delete(self, svc: core_pb2.Service) -> None:
        async with self.lock:
            self._release(*held(svc))

    # -- picking -----------------------------------------------------------------------------------

    async def _allocate(self, svc: core_pb2.Service, old: core_pb2.Service) -> Held:
        """Fills in clusterIP and nodePorts from the local view; returns what was newly taken. When the
        view says no, it is read again from etcd once: other apiservers may have released values."""
        try:
            try:
                return self._allocate_from_view(svc, old)
            except (RangeFullError, AlreadyAllocatedError):
                await self.refresh()
            return self._allocate_from_view(svc, old)
        except RangeFullError as e:
            raise errors.ApiError(errors.grpc.StatusCode.INTERNAL, f"failed to allocate: {e}") from None
        except AllocationError as e:  # a Service the registry cannot take is invalid, as in Kubernetes
            description = str(e).removeprefix(f"{e.field}: ")
            raise errors.invalid("Service", svc.metadata.name, [errors.FieldViolation(
                field=e.field, description=description)]) from None

    def _allocate_from_view(self, svc: core_pb2.Service, old: core_pb2.Service) -> Held:
        old_ips, old_ports = held(old)
        ips: set[str] = set()
        ports: set[int] = set()
        try:
            if _wants_cluster_ip(svc) and svc.spec.cluster_ip not in old_ips:
                ip = self._call(self.cluster_ips.allocate, svc.spec.cluster_ip or None, "spec.clusterIP")
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
                if not port.node_port and not allocates_node_ports(svc):
                    continue
                got = self._call(self.node_ports.allocate, port.node_port or None, f"spec.ports[{i}].nodePort")
                ports.add(got)
                port.node_port = got
            hc = svc.spec.health_check_node_port
            if needs_health_check_port(svc) and not (hc and hc in old_ports):
                got = self._call(self.node_ports.allocate, hc or None, "spec.healthCheckNodePort")
                ports.add(got)
                svc.spec.health_check_node_port = got
        except BaseException:
            self._release(ips, ports)
            raise
        return ips, ports

    @staticmethod
    def _call(allocate, requested, field: str):
        return allocate(requested, field=field)

    def _release(self, ips: set[str], ports: set[int]) -> None:
        for ip in ips:
            self.cluster_ips.release(ip)
        for port in ports:
            self.node_ports.release(port)
