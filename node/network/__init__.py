"""Node networking: pod network (CNI + host-gw routes), service proxy, NetworkPolicy, cluster DNS.

`run_node_network` is what the agent runs (inside its node's network
namespace) next to its pod sync loop: it watches Nodes, Services and
Endpoints through informers and keeps the CNI config, the routes to other
nodes' pod CIDRs, the `ip skiff` nftables table and the DNS server current;
the policy enforcer (`networkpolicy.py`) keeps the `inet skiff-netpol` table.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass

from control.client.client import Client
from control.client.informer import Informer
from node.network import cni
from node.network.dns import ClusterDNS, DNSServer
from node.network.healthcheck import ServiceHealthServer
from node.network.networkpolicy import run_policy_enforcer
from node.network.nftables import Nft, NodeConfig
from node.network.proxy import ServiceProxy
from node.network.routes import RouteManager, desired_routes, internal_ip

log = logging.getLogger(__name__)


@dataclass
class NetworkOptions:
    cni_conf_dir: str = "/etc/cni/net.d"
    cni_data_dir: str = ""  # host-local's lease dir; "" = the plugin's default
    cluster_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.96.0.0/12"
    cluster_dns: str = ""  # "" = the tenth address of service_cidr
    cluster_domain: str = "cluster.local"
    node_ip: str = ""  # "" = the Node's InternalIP
    bridge: str = "cni0"
    dns_port: int = 53
    enable_dns: bool = True
    enable_network_policy: bool = True

    def dns_address(self) -> str:
        return self.cluster_dns or str(ipaddress.ip_network(self.service_cidr).network_address + 10)


def _sysctl(path: str, value: str) -> None:
    try:
        with open(f"/proc/sys/{path}", "w") as f:
            f.write(value)
    except OSError as e:
        log.warning("cannot set %s=%s: %s", path, value, e)


def enable_forwarding() -> None:
    """Pods route through the node; bridged replies must pass conntrack for Service NAT."""
    _sysctl("net/ipv4/ip_forward", "1")
    _sysctl("net/bridge/bridge-nf-call-iptables", "1")


class NodeNetwork:
    """The node-facing half: CNI config for our podCIDR, routes to everyone else's."""

    def __init__(self, nodes: Informer, node_name: str, options: NetworkOptions,
                 routes: RouteManager | None = None) -> None:
        self.nodes, self.node_name, self.options = nodes, node_name, options
        self.routes = routes or RouteManager()
        self._changed = asyncio.Event()
        self.node_ip = asyncio.get_running_loop().create_future()
        self.cni_written = asyncio.Event()
        self.pod_cidr = ""  # the one the CNI config was written for
        self.retry_interval = 2.0
        nodes.add_handler(lambda _: self._changed.set(), lambda _o, _n: self._changed.set(),
                          lambda _: self._changed.set())

    async def run(self) -> None:
        await self.nodes.wait_synced()
        while True:
            self._changed.clear()
            try:
                await self.sync()
            except Exception:  # keep the agent alive; the next Node event (or the retry) converges
                log.exception("node network sync failed; retrying")
                asyncio.get_running_loop().call_later(self.retry_interval, self._changed.set)
            await self._changed.wait()

    async def sync(self) -> None:
        nodes = self.nodes.store.list()
        await self.routes.sync(desired_routes(nodes, self.node_name))
        me = self.nodes.store.get(self.node_name)
        if me is None:
            return
        ip = self.options.node_ip or internal_ip(me)
        if ip and not self.node_ip.done():
            self.node_ip.set_result(ip)
        if me.spec.pod_cidr and me.spec.pod_cidr != self.pod_cidr:
            path = cni.write_config(self.options.cni_conf_dir, me.spec.pod_cidr, self.options.bridge,
                                    data_dir=self.options.cni_data_dir)
            log.info("CNI config for %s written to %s", me.spec.pod_cidr, path)
            self.pod_cidr = me.spec.pod_cidr
            self.cni_written.set()


async def run_node_network(client: Client, node_name: str, options: NetworkOptions | None = None) -> None:
    """Runs until cancelled."""
    options = options or NetworkOptions()
    enable_forwarding()
    nodes, services, endpoints = (Informer(client, k) for k in ("Node", "Service", "Endpoints"))
    node_net = NodeNetwork(nodes, node_name, options)
    async with asyncio.TaskGroup() as tg:
        for informer in (nodes, services, endpoints):
            tg.create_task(informer.run())
        tg.create_task(node_net.run())
        if options.enable_network_policy:
            tg.create_task(run_policy_enforcer(client, node_name))
        node_ip = await node_net.node_ip
        await node_net.routes.ensure_service_route(options.service_cidr, node_ip)
        dns_ip = options.dns_address() if options.enable_dns else ""
        proxy = ServiceProxy(Nft(), NodeConfig(options.cluster_cidr, dns_ip, node_ip if dns_ip else "", node_name))
        proxy.health = ServiceHealthServer()
        services.add_handler(proxy.on_service, proxy.on_service, proxy.on_service_deleted)
        endpoints.add_handler(proxy.on_endpoints, proxy.on_endpoints, proxy.on_endpoints_deleted)
        await services.wait_synced()
        await endpoints.wait_synced()
        tg.create_task(proxy.run())
        if options.enable_dns:
            dns = DNSServer(ClusterDNS(proxy.services, proxy.endpoints, options.cluster_domain),
                            node_ip, options.dns_port)
            tg.create_task(dns.serve_forever())
