"""The route for Service VIPs on a node without a default route (the VM lab's nodes: no way out): the agent
puts the service CIDR on the node IP's link, and leaves a node that routes VIPs already alone."""

from __future__ import annotations

import asyncio

import pytest

from node.network.routes import RouteManager
from tests.fixtures.netns import NetLab

SERVICE_CIDR = "10.96.0.0/12"


@pytest.fixture
def lab():
    with NetLab(subnet="10.251.0.0/24") as lab:
        yield lab


def _routes(lab: NetLab, netns: str) -> str:
    return lab.run_in(netns, ["ip", "-4", "route", "show", "table", "main"]).stdout


def test_node_without_default_route_gets_the_service_cidr_on_its_link(lab: NetLab) -> None:
    node = lab.add_node("node-a")
    lab.run_in(node.netns, ["ip", "route", "del", "default"])
    unreachable = lab.run_in(node.netns, ["ip", "route", "get", "10.96.0.1"], check=False)
    assert unreachable.returncode != 0 and "unreachable" in unreachable.stderr, unreachable
    routes = RouteManager(node.netns)
    assert asyncio.run(routes.ensure_service_route(SERVICE_CIDR, node.ip)) is True
    assert f"{SERVICE_CIDR} dev eth0 proto 76 scope link src {node.ip}" in _routes(lab, node.netns)
    got = lab.run_in(node.netns, ["ip", "route", "get", "10.96.0.1"]).stdout
    assert f"dev eth0 src {node.ip}" in got, got
    assert asyncio.run(routes.ensure_service_route(SERVICE_CIDR, node.ip)) is False  # idempotent
    # The host-gw sync owns only routes with a gateway: it keeps the service route.
    asyncio.run(routes.sync({"10.244.9.0/24": lab.gateway}))
    assert asyncio.run(routes.sync({})) is None
    assert SERVICE_CIDR in _routes(lab, node.netns) and "10.244.9.0/24" not in _routes(lab, node.netns)


def test_node_with_a_default_route_is_left_alone(lab: NetLab) -> None:
    node = lab.add_node("node-a")
    before = _routes(lab, node.netns)
    assert asyncio.run(RouteManager(node.netns).ensure_service_route(SERVICE_CIDR, node.ip)) is False
    assert _routes(lab, node.netns) == before
