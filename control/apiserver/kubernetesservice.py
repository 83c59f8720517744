"""The `kubernetes` Service in `default` and its Endpoints: the apiservers, as kube-apiserver's bootstrap
controller and its lease endpoint reconciler keep them.

The Service has the first address of --service-cluster-ip-range and port 443 (`https`) to the
apiservers' REST port. Every apiserver holds an etcd key `/registry/masterleases/<its address>` under
a lease of --endpoint-reconciler-ttl seconds, renewed every reconcile; the Endpoints list the
addresses whose keys are alive, so several apiservers are listed and one that stops drops out once
its lease expires (at once when it shuts down cleanly: it deletes its key and reconciles).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from aetcd import rpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.context import ApiContext
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.storage import prefix_end
from control.client.kinds import KINDS
from control.client.wellknown import NAMESPACE_DEFAULT
from skiff.v1 import core_pb2

log = logging.getLogger(__name__)

NAME = "kubernetes"
PORT_NAME = "https"
SERVICE_PORT = 443
LEASES_PREFIX = "/registry/masterleases/"
LABELS = {"component": "apiserver", "provider": "kubernetes"}


def first_address(service_cidr: str) -> str:
    """The Service's ClusterIP: the range's first usable address (10.96.0.1 in 10.96.0.0/12)."""
    return str(ipaddress.ip_network(service_cidr, strict=False)[1])


def advertisable(address: str) -> bool:
    """An address pods can be sent to: Endpoints refuse loopback, link-local and unspecified ones."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast)


def wanted_service(cluster_ip: str, port: int) -> core_pb2.Service:
    svc = KINDS["Service"].new()
    svc.metadata.name, svc.metadata.namespace = NAME, NAMESPACE_DEFAULT
    svc.metadata.labels.update(LABELS)
    svc.spec.type, svc.spec.session_affinity = "ClusterIP", "None"
    svc.spec.cluster_ip = cluster_ip
    svc.spec.ports.add(name=PORT_NAME, port=SERVICE_PORT, protocol="TCP").target_port.number_value = port
    return svc


def wanted_endpoints(addresses: list[str], port: int) -> core_pb2.Endpoints:
    ep = KINDS["Endpoints"].new()
    ep.metadata.name, ep.metadata.namespace = NAME, NAMESPACE_DEFAULT
    ep.metadata.labels["endpointslice.kubernetes.io/skip-mirror"] = "true"
    if addresses:
        subset = ep.subsets.add()
        for ip in sorted(addresses, key=ipaddress.ip_address):
            subset.addresses.add(ip=ip)
        subset.ports.add(name=PORT_NAME, port=port, protocol="TCP")
    return ep


class KubernetesService:
    def __init__(self, api: ApiContext, address: str, port: int, cluster_ip: str, ttl: int = 15,
                 interval: float = 10.0) -> None:
        self.api, self.address, self.port, self.cluster_ip = api, address, port, cluster_ip
        self.ttl, self.interval = ttl, interval
        self.services = ResourceHandlers(KINDS["Service"], api)
        self.endpoints = ResourceHandlers(KINDS["Endpoints"], api)

    @property
    def lease_key(self) -> bytes:
        return f"{LEASES_PREFIX}{self.address}".encode()

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception as e:  # noqa: BLE001 - etcd away or a conflict: next round
                log.warning("reconciling the kubernetes Service: %s", e)
            await asyncio.sleep(self.interval)

    async def reconcile(self) -> None:
        await self.ensure_service()
        await self.renew_lease()
        await self.write_endpoints(await self.live_addresses())

    async def stop(self) -> None:
        """Leaves the Endpoints at once rather than when the lease expires."""
        try:
            await self.api.storage.kv.DeleteRange(rpc.DeleteRangeRequest(key=self.lease_key))
            await self.write_endpoints(await self.live_addresses())
        except Exception as e:  # noqa: BLE001 - shutting down anyway; the lease expires
            log.warning("removing this apiserver from the kubernetes Endpoints: %s", e)

    async def ensure_service(self) -> None:
        wanted = wanted_service(self.cluster_ip, self.port)
        try:
            current = await self.services.get(NAMESPACE_DEFAULT, NAME)
        except errors.ApiError as e:
            if e.code.name != "NOT_FOUND":
                raise
            await self._create(self.services, wanted)
            return
        if list(current.spec.ports) != list(wanted.spec.ports):
            current.spec.ClearField("ports")
            current.spec.ports.extend(wanted.spec.ports)
            await self.services.update(current, dry_run=False)

    async def renew_lease(self) -> None:
        lease = await self.api.storage.grant_lease(self.ttl)
        await self.api.storage.kv.Put(rpc.PutRequest(key=self.lease_key, value=self.address.encode(), lease=lease))

    async def live_addresses(self) -> list[str]:
        start = LEASES_PREFIX.encode()
        resp = await self.api.storage.kv.Range(rpc.RangeRequest(key=start, range_end=prefix_end(start)))
        return [kv.value.decode() for kv in resp.kvs if advertisable(kv.value.decode())]

    async def write_endpoints(self, addresses: list[str]) -> None:
        wanted = wanted_endpoints(addresses, self.port)
        try:
            current = await self.endpoints.get(NAMESPACE_DEFAULT, NAME)
        except errors.ApiError as e:
            if e.code.name != "NOT_FOUND":
                raise
            await self._create(self.endpoints, wanted)
            return
        if list(current.subsets) != list(wanted.subsets) or \
                dict(current.metadata.labels) != {**current.metadata.labels, **wanted.metadata.labels}:
            current.ClearField("subsets")
            current.subsets.extend(wanted.subsets)
            current.metadata.labels.update(wanted.metadata.labels)
            await self.endpoints.update(current, dry_run=False)

    @staticmethod
    async def _create(handlers: ResourceHandlers, obj: Message) -> None:
        try:
            await handlers.create(obj, dry_run=False)
        except errors.ApiError as e:
            if e.code.name != "ALREADY_EXISTS":  # another apiserver was first
                raise
