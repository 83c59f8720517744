"""host-gw routing: a route to every other node's podCIDR via its InternalIP; and, on a node with no
route for Service VIPs (no default route: an isolated lab), one for the service CIDR on the node IP's link.

Routes are tagged with their own `proto` number so a restarted agent finds
(and prunes) exactly the routes it owns and no others.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from skiff.v1 import core_pb2

log = logging.getLogger(__name__)

RTPROT_SKIFF = 76  # unassigned in /etc/iproute2/rt_protos


def internal_ip(node: core_pb2.Node) -> str:
    for addr in node.status.addresses:
        if addr.type == "InternalIP":
            return addr.address
    return ""


def desired_routes(nodes: list[core_pb2.Node], self_name: str) -> dict[str, str]:
    """podCIDR -> gateway for every other node that has both."""
    routes = {}
    for node in nodes:
        if node.metadata.name == self_name or not node.spec.pod_cidr:
            continue
        gateway = internal_ip(node)
        if gateway:
            routes[str(ipaddress.ip_network(node.spec.pod_cidr, strict=False))] = gateway
    return routes


class RouteManager:
    """Converges the main routing table's skiff routes to a desired set."""

    def __init__(self, netns: str | None = None) -> None:
        self.netns = netns  # for tests; the agent runs inside its node's namespace
        self._lock = asyncio.Lock()

    def _ipr(self) -> IPRoute:
        return IPRoute(netns=self.netns) if self.netns else IPRoute()

    async def sync(self, wanted: dict[str, str]) -> None:
        async with self._lock:
            await asyncio.to_thread(self._sync, wanted)

    def current(self) -> dict[str, str]:
        with self._ipr() as ipr:
            return self._current(ipr)

    @staticmethod
    def _current(ipr: IPRoute) -> dict[str, str]:
        found = {}
        for route in ipr.get_routes(family=2, table=254, proto=RTPROT_SKIFF):
            dst = route.get_attr("RTA_DST")
            if dst is not None and route.get_attr("RTA_GATEWAY"):  # the service CIDR's route has none
                found[f"{dst}/{route['dst_len']}"] = route.get_attr("RTA_GATEWAY") or ""
        return found

    def _sync(self, wanted: dict[str, str]) -> None:
        with self._ipr() as ipr:
            have = self._current(ipr)
            for dst in have.keys() - wanted.keys():
                ipr.route("del", dst=dst, proto=RTPROT_SKIFF)
                log.info("route to %s removed", dst)
            for dst, gateway in wanted.items():
                if have.get(dst) == gateway:
                    continue
                try:
                    ipr.route("replace", dst=dst, gateway=gateway, proto=RTPROT_SKIFF)
                    log.info("route to %s via %s", dst, gateway)
                except Exception as e:  # noqa: BLE001 - e.g. a gateway not on a connected network
                    log.error("cannot route %s via %s: %s", dst, gateway, e)

    async def ensure_service_route(self, service_cidr: str, node_ip: str) -> bool:
        """The proxy DNATs a VIP after the routing decision, so the VIP needs a route; where the node has
        none (no default route), the service CIDR goes on the node IP's link, sourced from the node IP.
        True when it added the route."""
        async with self._lock:
            return await asyncio.to_thread(self._ensure_service_route, service_cidr, node_ip)

    def _ensure_service_route(self, service_cidr: str, node_ip: str) -> bool:
        network = ipaddress.ip_network(service_cidr, strict=False)
        with self._ipr() as ipr:
            try:
                ipr.route("get", dst=str(network.network_address + 1))
                return False
            except NetlinkError as e:
                if e.code != errno.ENETUNREACH:
                    raise
            links = [a["index"] for a in ipr.get_addr(family=2) if a.get_attr("IFA_ADDRESS") == node_ip]
            if not links:
                log.error("no route for Services (%s), and no link holds the node IP %s", network, node_ip)
                return False
            ipr.route("replace", dst=str(network), oif=links[0], prefsrc=node_ip, scope=253, proto=RTPROT_SKIFF)
            log.info("route to the service CIDR %s on the node IP's link (the node has no default route)", network)
            return True
