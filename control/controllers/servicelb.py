"""The service controller for LoadBalancer Services, as k3s ServiceLB and MetalLB (layer 2) do
without a cloud: each LoadBalancer Service of our class (`--loadbalancer-class`; none named by
default, as the cloud service controller serves) gets an address from `--loadbalancer-ip-range` in
`status.loadBalancer.ingress`; every agent then accepts traffic for it as for a NodePort.

What is taken is read from the Services themselves (their stored status), so a restarted or newly
elected controller hands out nothing twice; addresses written but not yet seen back through the
informer are held in memory meanwhile. Should two Services still claim one address (a write seen
late after a failover), the older Service keeps it and the other is given another. A Service that
is deleted, stops being a LoadBalancer or goes to another class frees its address; Services
waiting for one are then tried again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, option
from control.client.events import NORMAL, WARNING
from control.client.informer import key_of
from control.controllers.lbpool import AddressPool
from skiff.v1 import core_pb2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceLBOptions:
    loadbalancer_ip_range: str = option(
        "", "addresses for LoadBalancer Services: CIDRs and first-last ranges, comma-separated "
            "(empty: LoadBalancer Services stay pending)")
    loadbalancer_class: str = option(
        "", "the spec.loadBalancerClass served (empty: Services that name no class)")


class AllocationFailed(Exception):
    pass


def ingress_ips(svc: core_pb2.Service) -> list[str]:
    return [i.ip for i in svc.status.load_balancer.ingress if i.ip]


def _age(svc: core_pb2.Service) -> tuple:
    ts = svc.metadata.creation_timestamp
    return ts.seconds, ts.nanos, key_of(svc)


class ServiceLBController(Controller):
    name = "service"  # kube-controller-manager's name for the cloud service controller
    Options = ServiceLBOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)  # one worker: allocation must be serial
        options: ServiceLBOptions = ctx.options
        self.pool = AddressPool(options.loadbalancer_ip_range)
        self.lb_class = options.loadbalancer_class
        self.services = ctx.informers.get("Service")
        self.services.add_handler(on_add=self.enqueue, on_update=self._updated, on_delete=self._deleted)
        self.pending: dict[str, str] = {}  # Service key -> address written but not yet observed

    # -- wiring ------------------------------------------------------------------------------------

    def _updated(self, old: Message, new: Message) -> None:
        self.enqueue(new)
        if set(ingress_ips(old)) - set(ingress_ips(new)):
            self._enqueue_waiting()

    def _deleted(self, svc: Message) -> None:
        self.enqueue(svc)
        if ingress_ips(svc):
            self._enqueue_waiting()

    def _enqueue_waiting(self) -> None:
        for svc in self.services.store.list():
            if self.ours(svc) and not ingress_ips(svc):
                self.enqueue(svc)

    def ours(self, svc: core_pb2.Service) -> bool:
        return svc.spec.type == "LoadBalancer" and svc.spec.load_balancer_class == self.lb_class

    # -- what is taken -----------------------------------------------------------------------------

    def _holders(self) -> dict[str, list[core_pb2.Service]]:
        """Address -> the Services of ours holding it (stored or just written), oldest first."""
        by_key = {key_of(s): s for s in self.services.store.list() if self.ours(s)}
        self.pending = {k: ip for k, ip in self.pending.items()
                        if k in by_key and ip not in ingress_ips(by_key[k])}
        holders: dict[str, list[core_pb2.Service]] = {}
        for key, svc in by_key.items():
            ips = set(ingress_ips(svc)) | ({self.pending[key]} if key in self.pending else set())
            for ip in ips:
                holders.setdefault(ip, []).append(svc)
        for held in holders.values():
            held.sort(key=_age)
        return holders

    def _choose(self, svc: core_pb2.Service) -> str:
        key = key_of(svc)
        holders = self._holders()

        def free_for_us(ip: str) -> bool:
            return key_of(holders.get(ip, [svc])[0]) == key

        requested = svc.spec.load_balancer_ip
        if requested:
            if requested not in self.pool:
                raise AllocationFailed(f"requested IP {requested} is not in the address pool "
                                       f"{self.pool.spec or '(none)'}")
            if not free_for_us(requested):
                other = key_of(holders[requested][0])
                raise AllocationFailed(f"requested IP {requested} is already allocated to {other}")
            return requested
        for ip in ingress_ips(svc):
            if ip in self.pool and free_for_us(ip):
                return ip
        ip = self.pool.first_free(set(holders))
        if ip is None:
            raise AllocationFailed(f"no available IPs in the address pool {self.pool.spec or '(none)'}")
        return ip

    # -- reconcile ---------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        svc = self.services.store.get(key)
        if svc is None:
            self.pending.pop(key, None)
            return
        if self.ours(svc):
            await self._ensure(svc)
        elif svc.spec.type != "LoadBalancer" and svc.status.load_balancer.ingress:
            await self._clean_up(svc)

    async def _ensure(self, svc: core_pb2.Service) -> None:
        try:
            ip = self._choose(svc)
        except AllocationFailed as e:
            self.recorder.event(svc, WARNING, "SyncLoadBalancerFailed",
                                f"Error syncing load balancer: failed to ensure load balancer: {e}")
            if ingress_ips(svc):  # what it held is no longer its own
                await self._write(svc, None)
            return
        if ingress_ips(svc) == [ip] and len(svc.status.load_balancer.ingress) == 1:
            return
        self.recorder.event(svc, NORMAL, "EnsuringLoadBalancer", "Ensuring load balancer")
        if await self._write(svc, ip) is not None:
            self.pending[key_of(svc)] = ip
            self.recorder.event(svc, NORMAL, "EnsuredLoadBalancer", "Ensured load balancer")
            log.info("service %s: load balancer address %s", key_of(svc), ip)

    async def _clean_up(self, svc: core_pb2.Service) -> None:
        self.recorder.event(svc, NORMAL, "DeletingLoadBalancer", "Deleting load balancer")
        if await self._write(svc, None) is not None:
            self.recorder.event(svc, NORMAL, "DeletedLoadBalancer", "Deleted load balancer")

    async def _write(self, svc: core_pb2.Service, ip: str | None) -> Message | None:
        status = core_pb2.ServiceStatus()
        status.CopyFrom(svc.status)
        del status.load_balancer.ingress[:]
        if ip is not None:
            status.load_balancer.ingress.add(ip=ip, ip_mode="VIP")
        return await self.write_status(svc, status)
