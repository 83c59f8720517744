"""The service proxy: Services + Endpoints -> the node's nftables table.

Informer handlers only record objects and mark their Service key dirty; one
sync loop turns the dirty keys into a single incremental `nft -f`
transaction. Changes that arrive while a transaction runs are batched into
the next one. The first sync after start replaces the table atomically (so a
restarted agent adopts whatever an earlier one left, without a gap); any
failed incremental transaction falls back to such a full sync.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Callable

from node.network import metrics
from node.network.healthcheck import HealthCheck, ServiceHealthServer
from node.network.nftables import (
    DEFAULT_AFFINITY_TIMEOUT,
    MAX_ENDPOINTS,
    Nft,
    NftError,
    NodeConfig,
    Ruleset,
    ServicePortRules,
    diff_transaction,
    full_transaction,
    render,
)
from skiff.v1 import core_pb2

log = logging.getLogger(__name__)

PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


def service_key(obj) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def has_cluster_ip(svc: core_pb2.Service) -> bool:
    """Headless and ExternalName Services get no VIP and no rules."""
    return svc.spec.type != "ExternalName" and svc.spec.cluster_ip not in ("", "None")


def _affinity_timeout(svc: core_pb2.Service) -> int:
    if svc.spec.session_affinity != "ClientIP":
        return 0
    cfg = svc.spec.session_affinity_config.client_ip
    return cfg.timeout_seconds if cfg.HasField("timeout_seconds") else DEFAULT_AFFINITY_TIMEOUT


def _endpoints_for(port: core_pb2.ServicePort,
                   eps: core_pb2.Endpoints | None) -> list[tuple[str, int, str]]:
    """(ip, port, nodeName) of the ready addresses of the Endpoints port matching the Service port
    by name and protocol, sorted."""
    if eps is None:
        return []
    protocol = port.protocol or "TCP"
    found: dict[tuple[str, int], str] = {}
    for subset in eps.subsets:
        for ep_port in subset.ports:
            if ep_port.name == port.name and (ep_port.protocol or "TCP") == protocol:
                for a in subset.addresses:
                    if a.ip:
                        found[(a.ip, ep_port.port)] = a.node_name
    if len(found) > MAX_ENDPOINTS:
        log.warning("%s/%s port %r: %d endpoints, using the first %d", eps.metadata.namespace,
                    eps.metadata.name, port.name, len(found), MAX_ENDPOINTS)
    return [(ip, p, found[(ip, p)]) for ip, p in sorted(found)[:MAX_ENDPOINTS]]


def service_ports(svc: core_pb2.Service, eps: core_pb2.Endpoints | None,
                  node_name: str = "", cluster_cidr: str = "") -> list[ServicePortRules]:
    """The Service's ports with their ready endpoints (`node_name`: this node, for the Local policies)."""
    if not has_cluster_ip(svc):
        return []
    node_ports = svc.spec.type in ("NodePort", "LoadBalancer")
    external_local = node_ports and svc.spec.external_traffic_policy == "Local"
    internal_local = svc.spec.internal_traffic_policy == "Local"
    timeout = _affinity_timeout(svc)
    lb_ips, ranges = _load_balancer(svc)
    out = []
    for port in svc.spec.ports:
        protocol = PROTOCOLS.get(port.protocol or "TCP")
        if protocol is None:
            continue
        found = _endpoints_for(port, eps)
        out.append(ServicePortRules(
            namespace=svc.metadata.namespace, name=svc.metadata.name, port_name=port.name,
            protocol=protocol, cluster_ip=svc.spec.cluster_ip, port=port.port,
            node_port=port.node_port if node_ports else 0, affinity_timeout=timeout,
            endpoints=tuple((ip, p) for ip, p, _ in found),
            local_endpoints=tuple((ip, p) for ip, p, n in found if node_name and n == node_name),
            external_local=external_local, internal_local=internal_local,
            load_balancer_ips=lb_ips, source_ranges=ranges, cluster_cidr=cluster_cidr if lb_ips else ""))
    return out


def _load_balancer(svc: core_pb2.Service) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The Service's IPv4 load balancer addresses and the source ranges allowed to reach them."""
    if svc.spec.type != "LoadBalancer":
        return (), ()
    ips = tuple(sorted({i.ip for i in svc.status.load_balancer.ingress if _ipv4(i.ip)}))
    ranges = tuple(str(ipaddress.ip_network(r.strip(), strict=False))
                   for r in svc.spec.load_balancer_source_ranges if _ipv4_net(r.strip()))
    return ips, ranges


def _ipv4(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).version == 4
    except ValueError:
        return False


def _ipv4_net(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).version == 4
    except ValueError:
        return False


def health_checks(services: dict[str, core_pb2.Service], endpoints: dict[str, core_pb2.Endpoints],
                  node_name: str) -> dict[int, HealthCheck]:
    """healthCheckNodePort -> this node's count of ready endpoints, for LoadBalancers with policy Local."""
    checks = {}
    for key, svc in services.items():
        if not svc.spec.health_check_node_port or svc.spec.type != "LoadBalancer" \
                or svc.spec.external_traffic_policy != "Local":
            continue
        eps = endpoints.get(key)
        local = {a.ip for s in (eps.subsets if eps else []) for a in s.addresses if a.node_name == node_name}
        checks[svc.spec.health_check_node_port] = HealthCheck(svc.metadata.namespace, svc.metadata.name, len(local))
    return checks


class ServiceProxy:
    def __init__(self, nft: Nft, config: NodeConfig) -> None:
        self.nft = nft
        self.config = config
        self.services: dict[str, core_pb2.Service] = {}
        self.endpoints: dict[str, core_pb2.Endpoints] = {}
        self._rendered: dict[str, Ruleset] = {}
        self._picks: set[int] = set()  # shared pick chains the table has
        self._hairpin: Counter[str] = Counter()
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._full_sync_needed = True
        self.synced = asyncio.Event()  # set after each successful sync with nothing left to do
        self.on_synced: Callable[[set[str]], None] | None = None  # benchmarks observe applied keys
        self.retry_interval = 1.0
        self.health: ServiceHealthServer | None = None  # answers healthCheckNodePorts when set

    # Informer handlers: record and mark dirty, nothing else.
    def on_service(self, svc: core_pb2.Service, new: core_pb2.Service | None = None) -> None:
        svc = new if new is not None else svc
        self.services[service_key(svc)] = svc
        self._mark(service_key(svc))

    def on_service_deleted(self, svc: core_pb2.Service) -> None:
        self.services.pop(service_key(svc), None)
        self._mark(service_key(svc))

    def on_endpoints(self, eps: core_pb2.Endpoints, new: core_pb2.Endpoints | None = None) -> None:
        eps = new if new is not None else eps
        self.endpoints[service_key(eps)] = eps
        self._mark(service_key(eps))

    def on_endpoints_deleted(self, eps: core_pb2.Endpoints) -> None:
        self.endpoints.pop(service_key(eps), None)
        self._mark(service_key(eps))

    def _mark(self, key: str) -> None:
        self._dirty.add(key)
        self.synced.clear()
        self._wake.set()

    def request_full_sync(self) -> None:
        self._full_sync_needed = True
        self.synced.clear()
        self._wake.set()

    async def run(self) -> None:
        """Syncs until cancelled; call once the caches are filled."""
        self._wake.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.sync()
            except (NftError, OSError) as e:
                log.error("service proxy: sync failed, retrying with a full sync: %s", e)
                self._retry_later()
            except Exception:
                log.exception("service proxy: sync failed, retrying with a full sync")
                self._retry_later()

    def _retry_later(self) -> None:
        self._full_sync_needed = True
        asyncio.get_running_loop().call_later(self.retry_interval, self._wake.set)

    async def sync(self) -> None:
        dirty, self._dirty = self._dirty, set()
        started, full = time.monotonic(), self._full_sync_needed
        try:
            if full:
                await self._full_sync()
                metrics.synced(started, full=True)
            elif dirty:
                await self._incremental_sync(dirty)
                metrics.synced(started, full=False)
        except BaseException:
            self._dirty |= dirty
            raise
        if self.health is not None and (full or dirty):
            await self.health.update(health_checks(self.services, self.endpoints, self.config.node_name))
        if self.on_synced is not None:
            self.on_synced(dirty)
        if not self._dirty:
            self.synced.set()

    def _render(self, key: str) -> Ruleset:
        svc = self.services.get(key)
        dns = self.config.cluster_dns
        if svc is None or not has_cluster_ip(svc) or (dns and svc.spec.cluster_ip == dns):
            # The node's own resolver answers on the cluster DNS address (as NodeLocal DNSCache
            # does); a kube-dns Service holding that address must not shadow or reject it.
            return Ruleset()
        return render(service_ports(svc, self.endpoints.get(key), self.config.node_name, self.config.cluster_cidr))

    async def _full_sync(self) -> None:
        start = time.monotonic()
        rendered = {key: self._render(key) for key in self.services}
        hairpin: Counter[str] = Counter()
        for rs in rendered.values():
            hairpin.update(rs.elements["hairpin"].keys())
        await self.nft.apply(full_transaction(self.config, rendered.values()))
        self._rendered, self._hairpin = rendered, hairpin
        self._picks = {n for rs in rendered.values() for n in rs.picks}
        self._full_sync_needed = False
        log.info("service proxy: full sync of %d services in %.3fs", len(rendered), time.monotonic() - start)

    async def _incremental_sync(self, keys: set[str]) -> None:
        old, new = Ruleset(), Ruleset()
        fresh = {key: self._render(key) for key in keys}
        for key in keys:
            old.add(self._rendered.get(key, Ruleset()))
            new.add(fresh[key])
        # Hairpin elements are shared by every service with that endpoint: count only the touched ones.
        delta: Counter[str] = Counter()
        for key in keys:
            delta.subtract(self._rendered.get(key, Ruleset()).elements["hairpin"].keys())
            delta.update(fresh[key].elements["hairpin"].keys())
        after = {k: self._hairpin[k] + d for k, d in delta.items()}
        old.elements["hairpin"] = {k: "" for k in delta if self._hairpin[k] > 0}
        new.elements["hairpin"] = {k: "" for k, n in after.items() if n > 0}
        await self.nft.apply(diff_transaction(old, new, self._picks))
        self._picks |= new.picks
        for key, rs in fresh.items():
            if key in self.services:
                self._rendered[key] = rs
            else:
                self._rendered.pop(key, None)
        for k, n in after.items():
            if n > 0:
                self._hairpin[k] = n
            else:
                self._hairpin.pop(k, None)
