"""A two-node cluster on one machine, driven through the real apiserver.

Each node is a network namespace running the network half of the agent
(`python -m node.network`: CNI config, routes, service proxy, DNS). The test
plays the parts that aren't networking's: node IPAM and the kubelet (Node
objects with podCIDR and InternalIP; pods wired by the CNI plugins from the
conflist the agent wrote) and the Endpoints controller.
"""

from __future__ import annotations

import asyncio
import signal
import time

import grpc
import pytest

from control.client.client import Client
from node.network.routes import RouteManager
from skiff.v1 import core_pb2, meta_pb2
from tests.fixtures.controllers import running_controllers
from tests.fixtures.netcluster import Cluster, make_node, print_agent_logs
from tests.fixtures.netns import NetLab, start_apiserver_unix
from tests.fixtures.procs import eventually, require_host
from tests.fixtures.traffic import Traffic


@pytest.fixture(scope="module", autouse=True)
def _host_has_what_it_needs() -> None:
    require_host("nft", "busybox")


DNS_VIP = "10.96.0.10"


def endpoints_msg(name: str, ips: list[str], port: int = 8080) -> core_pb2.Endpoints:
    eps = core_pb2.Endpoints(api_version="v1", kind="Endpoints",
                             metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))
    if ips:
        subset = eps.subsets.add()
        subset.addresses.extend(core_pb2.EndpointAddress(ip=ip) for ip in ips)
        subset.ports.add(name="http", port=port, protocol="TCP")
    return eps


async def set_endpoints(client: Client, name: str, ips: list[str]) -> None:
    desired = endpoints_msg(name, ips)
    try:
        current = await client.get("Endpoints", name, "default")
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise
        await client.create(desired)
        return
    desired.metadata.resource_version = current.metadata.resource_version
    await client.update(desired)


@pytest.fixture(scope="module")
def cluster(etcd):
    api = start_apiserver_unix(etcd)
    lab = NetLab()
    try:
        for name in ("node-a", "node-b"):
            lab.add_node(name)
        c = Cluster(lab, api.target)

        async def register() -> None:
            async with Client(api.target) as client:
                for node in lab.nodes.values():
                    await make_node(client, node.name, node.ip, node.pod_cidr)
                # A node with no namespace behind it: its route must come and go with it.
                await make_node(client, "node-c", "10.250.0.99", "10.244.99.0/24")
        asyncio.run(register())
        c.start_agents()
        c.pods = {name: lab.add_pod(lab.nodes[node], name)
                  for name, node in (("a1", "node-a"), ("a2", "node-a"), ("b1", "node-b"))}
        for name in ("a1", "b1"):
            lab.serve_http(c.pods[name])
        yield c
    finally:
        print_agent_logs(lab.workdir)  # shown by pytest when a test failed
        lab.cleanup()
        api.stop()


async def answers(lab: NetLab, netns: str, url: str, n: int = 12) -> set[str | None]:
    return set(await asyncio.gather(*(asyncio.to_thread(lab.http_get, netns, url) for _ in range(n))))


async def create_web(client: Client, name: str = "web") -> core_pb2.Service:
    svc = core_pb2.Service(api_version="v1", kind="Service",
                           metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))
    svc.spec.type = "NodePort"
    svc.spec.selector["app"] = name
    svc.spec.ports.add(name="http", protocol="TCP", port=80)
    return await client.create(svc)


async def test_cni_config_and_routes_follow_nodes(cluster, client_unix):
    a, b = cluster.lab.nodes["node-a"], cluster.lab.nodes["node-b"]
    assert cluster.pods["a1"].ip.startswith("10.244.1.") and cluster.pods["b1"].ip.startswith("10.244.2.")

    async def routes_are(node, wanted: dict[str, str]) -> bool:
        return await asyncio.to_thread(RouteManager(node.netns).current) == wanted

    await eventually(lambda: routes_are(a, {b.pod_cidr: b.ip, "10.244.99.0/24": "10.250.0.99"}), timeout=10,
                     what="routes on node-a")
    # The answer comes back over node-b's route to node-a's pods: wait for that one too.
    await eventually(lambda: routes_are(b, {a.pod_cidr: a.ip, "10.244.99.0/24": "10.250.0.99"}), timeout=10,
                     what="routes on node-b")
    assert cluster.lab.http_get(cluster.pods["a2"].netns, f"http://{cluster.pods['b1'].ip}:8080/") == "b1"
    await client_unix.delete("Node", "node-c")
    await eventually(lambda: routes_are(a, {b.pod_cidr: b.ip}), timeout=10, what="node-c's route removed")
    await eventually(lambda: routes_are(b, {a.pod_cidr: a.ip}), timeout=10, what="node-c's route removed")


async def test_service_vip_nodeport_and_dns_across_nodes(cluster, client_unix):
    lab, pods = cluster.lab, cluster.pods
    svc = await create_web(client_unix)
    vip, node_port = svc.spec.cluster_ip, svc.spec.ports[0].node_port
    await set_endpoints(client_unix, "web", [pods["a1"].ip, pods["b1"].ip])

    async def balanced(netns: str, url: str) -> bool:
        return await answers(lab, netns, url) == {"a1", "b1"}
    await eventually(lambda: balanced(pods["a2"].netns, f"http://{vip}/"), timeout=15, what="VIP balancing")
    for node in lab.nodes.values():
        await eventually(lambda node=node: balanced(lab.bridge_ns, f"http://{node.ip}:{node_port}/"),
                         timeout=15, what=f"NodePort on {node.name}")

    async def resolves() -> bool:
        r = await asyncio.to_thread(lab.run_in, pods["a2"].netns,
                                    ["busybox", "nslookup", "web.default.svc.cluster.local", DNS_VIP],
                                    check=False)
        return f"Address: {vip}" in r.stdout
    await eventually(resolves, timeout=15, what="DNS answer through the cluster DNS VIP")
    r = lab.run_in(pods["b1"].netns, ["busybox", "nslookup", "nothere.default.svc.cluster.local", DNS_VIP],
                   check=False)
    assert "NXDOMAIN" in r.stdout + r.stderr

    # Endpoint removal converges on every node.
    await set_endpoints(client_unix, "web", [pods["b1"].ip])
    await eventually(lambda: _only(lab, pods["a2"].netns, f"http://{vip}/", "b1"), timeout=15,
                     what="a1 removed from the VIP")
    await client_unix.delete("Service", "web", "default")
    await client_unix.delete("Endpoints", "web", "default")

    async def gone() -> bool:
        table = await asyncio.to_thread(lab.run_in, lab.nodes["node-b"].netns,
                                        ["nft", "list", "table", "ip", "skiff"])
        return "svc-default/web/" not in table.stdout and vip not in table.stdout
    await eventually(gone, timeout=15, what="service rules removed")


async def _only(lab: NetLab, netns: str, url: str, pod: str) -> bool:
    return await answers(lab, netns, url) == {pod}


async def test_agent_restart_does_not_interrupt_traffic(cluster, client_unix):
    lab, pods = cluster.lab, cluster.pods
    svc = await create_web(client_unix, "steady")
    vip = svc.spec.cluster_ip
    await set_endpoints(client_unix, "steady", [pods["a1"].ip, pods["b1"].ip])
    await eventually(lambda: _balanced(lab, pods["a2"].netns, f"http://{vip}/"), timeout=15, what="VIP ready")
    # Requests flow before the stop, while the agent is down and restarting, and after; none fails.
    url = f"http://{vip}/"
    async with Traffic(lambda: lab.http_get(pods["a2"].netns, url), lambda answer: answer in ("a1", "b1")) as traffic:
        await traffic.wait_sent(after=0, count=3)
        agent = cluster.agents["node-a"]
        stopped = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        await asyncio.to_thread(agent.wait, 10)
        cluster.start_agent("node-a")
        # The restarted agent applies new changes (only b1 left) after adopting the table.
        await set_endpoints(client_unix, "steady", [pods["b1"].ip])
        await eventually(lambda: _only(lab, pods["a2"].netns, url, "b1"), timeout=20,
                         what="restarted agent programs changes")
        programmed = time.monotonic()
        await traffic.wait_sent(after=programmed, count=3)
    assert traffic.failures == []
    assert traffic.between(stopped, programmed) >= 1, "no request was sent while the agent restarted"


async def _balanced(lab: NetLab, netns: str, url: str) -> bool:
    return await answers(lab, netns, url) == {"a1", "b1"}


@pytest.fixture
async def client_unix(cluster):
    c = Client(cluster.target)
    yield c
    await c.close()


LB_POOL = "10.250.0.200-10.250.0.201"


async def create_lb(client: Client, name: str, **spec) -> core_pb2.Service:
    svc = core_pb2.Service(api_version="v1", kind="Service",
                           metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))
    svc.spec.type = "LoadBalancer"
    svc.spec.ports.add(name="http", protocol="TCP", port=80)
    for field, value in spec.items():
        if isinstance(value, list):
            getattr(svc.spec, field).extend(value)
        else:
            setattr(svc.spec, field, value)
    return await client.create(svc)


async def lb_address(client: Client, name: str) -> str:
    svc = await client.get("Service", name, "default")
    return ",".join(i.ip for i in svc.status.load_balancer.ingress)


async def test_load_balancer_address_answers_from_the_host(cluster, client_unix):
    """The service controller gives the Service an address of its pool; the host (the lab's bridge
    namespace) routes the pool to both nodes, and each node's proxy answers for it."""
    lab, pods = cluster.lab, cluster.pods
    a, b = lab.nodes["node-a"], lab.nodes["node-b"]
    lab.run_in(lab.bridge_ns, ["ip", "route", "replace", "10.250.0.200/31",
                               "nexthop", "via", a.ip, "nexthop", "via", b.ip])
    async with running_controllers(cluster.target, ["service"], {"loadbalancer_ip_range": LB_POOL}):
        svc = await create_lb(client_unix, "front")
        assert svc.spec.allocate_load_balancer_node_ports and svc.spec.ports[0].node_port  # the default
        await set_endpoints(client_unix, "front", [pods["a1"].ip, pods["b1"].ip])
        await eventually(lambda: _is(lb_address(client_unix, "front"), "10.250.0.200"), timeout=15,
                         what="front's address")
        url = "http://10.250.0.200/"
        await eventually(lambda: _balanced(lab, lab.bridge_ns, url), timeout=15, what="the address from the host")

        bare = await create_lb(client_unix, "bare", allocate_load_balancer_node_ports=False)
        assert bare.spec.ports[0].node_port == 0
        await set_endpoints(client_unix, "bare", [pods["b1"].ip])
        await eventually(lambda: _is(lb_address(client_unix, "bare"), "10.250.0.201"), timeout=15,
                         what="bare's address")
        await eventually(lambda: _only(lab, lab.bridge_ns, "http://10.250.0.201/", "b1"), timeout=15,
                         what="an address without nodePorts")

        # loadBalancerSourceRanges: the host is not in the range, so its packets are dropped ...
        await _set_source_ranges(client_unix, "front", ["10.99.0.0/16"])
        await eventually(lambda: _refused(lab, "10.250.0.200"), timeout=15, what="the source range enforced")
        # ... until it is.
        await _set_source_ranges(client_unix, "front", ["10.250.0.1/32"])
        await eventually(lambda: _balanced(lab, lab.bridge_ns, url), timeout=15, what="the host allowed again")

        # externalTrafficPolicy Local: each node's health check port says whether it has an endpoint.
        local = await create_lb(client_unix, "local", external_traffic_policy="Local")
        eps = endpoints_msg("local", [pods["a1"].ip])
        eps.subsets[0].addresses[0].node_name = "node-a"
        await client_unix.create(eps)
        hc = local.spec.health_check_node_port
        await eventually(lambda: _health(lab, a.ip, hc, '"localEndpoints": 1'), timeout=15, what="node-a healthy")
        await eventually(lambda: _health(lab, b.ip, hc, "503"), timeout=15, what="node-b unavailable")
        await client_unix.delete("Service", "local", "default")

        # Deleted: the address goes back to the pool and to the next Service asking.
        await client_unix.delete("Service", "front", "default")
        await create_lb(client_unix, "next")
        await eventually(lambda: _is(lb_address(client_unix, "next"), "10.250.0.200"), timeout=15,
                         what="the freed address reused")
        for name in ("bare", "next"):
            await client_unix.delete("Service", name, "default")


async def _health(lab: NetLab, ip: str, port: int, fragment: str) -> bool:
    code = ("import urllib.request, urllib.error, sys\n"
            f"try: r = urllib.request.urlopen('http://{ip}:{port}/', timeout=2); print(r.status, r.read().decode())\n"
            "except urllib.error.HTTPError as e: print(e.code, e.read().decode())\n"
            "except OSError as e: print('error', e)")
    out = await asyncio.to_thread(lab.run_in, lab.bridge_ns, ["python3", "-c", code], check=False)
    return fragment in out.stdout


async def _is(value, expected: str) -> bool:
    return await value == expected


async def _refused(lab: NetLab, ip: str) -> bool:
    return await asyncio.to_thread(lab.http_get, lab.bridge_ns, f"http://{ip}/", 1) is None


async def _set_source_ranges(client: Client, name: str, ranges: list[str]) -> None:
    svc = await client.get("Service", name, "default")
    del svc.spec.load_balancer_source_ranges[:]
    svc.spec.load_balancer_source_ranges.extend(ranges)
    await client.update(svc)
