"""The network layer on real namespaces, CNI plugins, routes and nftables.

Two nodes on a bridge, pods wired by the CNI bridge plugin from the conflist
node/network/cni.py writes, host-gw routes from RouteManager and one
ServiceProxy per node fed with Service/Endpoints messages directly (the
apiserver-driven path is in test_network_cluster.py).
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from node.network import cni
from node.network.nftables import Nft, NodeConfig
from node.network.proxy import ServiceProxy
from node.network.routes import RouteManager, desired_routes
from skiff.v1 import core_pb2, meta_pb2
from tests.fixtures.netns import NetLab
from tests.fixtures.procs import eventually, require_host


@pytest.fixture(scope="module", autouse=True)
def _host_has_what_it_needs() -> None:
    require_host("nft", "busybox")


VIP = "10.96.0.50"


def node_msg(name: str, ip: str, pod_cidr: str) -> core_pb2.Node:
    return core_pb2.Node(metadata=meta_pb2.ObjectMeta(name=name), spec=core_pb2.NodeSpec(pod_cidr=pod_cidr),
                         status=core_pb2.NodeStatus(addresses=[core_pb2.NodeAddress(type="InternalIP",
                                                                                     address=ip)]))


def service(name: str, cluster_ip: str, node_port: int = 0, affinity: bool = False,
            policy: str = "Cluster", internal_policy: str = "Cluster") -> core_pb2.Service:
    svc = core_pb2.Service(metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))
    svc.spec.cluster_ip = cluster_ip
    svc.spec.type = "NodePort" if node_port else "ClusterIP"
    svc.spec.external_traffic_policy = policy
    svc.spec.internal_traffic_policy = internal_policy
    svc.spec.ports.add(name="http", protocol="TCP", port=80, node_port=node_port)
    if affinity:
        svc.spec.session_affinity = "ClientIP"
    return svc


def endpoints(name: str, ips: list[str], port: int = 8080, nodes: dict[str, str] | None = None):
    eps = core_pb2.Endpoints(metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))
    if ips:
        subset = eps.subsets.add()
        for ip in ips:
            addr = subset.addresses.add(ip=ip)
            if nodes:
                addr.node_name = nodes[ip]
        subset.ports.add(name="http", port=port, protocol="TCP")
    return eps


@pytest.fixture(scope="module")
def lab():
    with NetLab() as lab:
        a, b = lab.add_node("node-a"), lab.add_node("node-b")
        for node in (a, b):
            cni.write_config(node.cni_conf_dir, node.pod_cidr, data_dir=node.cni_data_dir)
        lab.pods = {name: lab.add_pod(node, name) for name, node in
                    (("a1", a), ("a2", a), ("b1", b))}
        for name in ("a1", "b1"):
            lab.serve_http(lab.pods[name])
        nodes = [node_msg(n.name, n.ip, n.pod_cidr) for n in (a, b)]
        for n in (a, b):
            asyncio.run(RouteManager(n.netns).sync(desired_routes(nodes, n.name)))
        yield lab


@pytest.fixture
async def proxies(lab):
    """One running proxy per node; each start is a restart of the one before."""
    made = {n.name: ServiceProxy(Nft(n.netns), NodeConfig(str(lab.cluster_cidr), node_name=n.name))
            for n in lab.nodes.values()}
    tasks = [asyncio.create_task(p.run()) for p in made.values()]
    yield made
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def feed(proxies, *objs) -> None:
    for p in proxies.values():
        for obj in objs:
            (p.on_service if isinstance(obj, core_pb2.Service) else p.on_endpoints)(obj)
    for p in proxies.values():
        await asyncio.wait_for(p.synced.wait(), 10)


async def answers(lab, netns: str, url: str, n: int = 16) -> list[str | None]:
    return await asyncio.gather(*(asyncio.to_thread(lab.http_get, netns, url) for _ in range(n)))


def test_cni_config_and_pod_addresses(lab):
    a1, b1 = lab.pods["a1"], lab.pods["b1"]
    assert a1.ip.startswith("10.244.1.") and b1.ip.startswith("10.244.2.")
    conf = cni.conflist("10.244.1.0/24")
    assert conf["plugins"][0]["type"] == "bridge" and conf["plugins"][0]["ipMasq"] is False
    with pytest.raises(ValueError):
        cni.conflist("10.244.1.5/24")


def test_pods_reach_each_other_across_nodes(lab):
    a2, b1 = lab.pods["a2"], lab.pods["b1"]
    assert lab.http_get(a2.netns, f"http://{b1.ip}:8080/") == "b1"
    assert lab.http_get(b1.netns, f"http://{lab.pods['a1'].ip}:8080/") == "a1"


async def test_masquerade_only_for_traffic_leaving_the_cluster_network(lab, proxies):
    a2, b1 = lab.pods["a2"], lab.pods["b1"]
    await feed(proxies)
    # Pod to pod on another node keeps the source address ...
    assert lab.http_get(a2.netns, f"http://{b1.ip}:8080/cgi-bin/remote") == a2.ip
    # ... traffic to outside the cluster CIDR leaves with the node's address.
    lab.serve_http_in(lab.bridge_ns, "outside")
    await eventually(lambda: _remote_is(lab, a2.netns, f"http://{lab.gateway}:8080/cgi-bin/remote",
                                        lab.nodes["node-a"].ip), timeout=10, what="masqueraded to node-a")


async def _remote_is(lab, netns: str, url: str, expected: str) -> bool:
    return await asyncio.to_thread(lab.http_get, netns, url) == expected


async def test_vip_balances_across_nodes_and_nodeport_answers_everywhere(lab, proxies):
    a1, a2, b1 = lab.pods["a1"], lab.pods["a2"], lab.pods["b1"]
    await feed(proxies, service("web", VIP, node_port=30080), endpoints("web", [a1.ip, b1.ip]))
    assert set(await answers(lab, a2.netns, f"http://{VIP}/")) == {"a1", "b1"}
    # From a node itself (output hook) and from outside through every node's NodePort.
    assert set(await answers(lab, lab.nodes["node-b"].netns, f"http://{VIP}/")) == {"a1", "b1"}
    for node in lab.nodes.values():
        got = set(await answers(lab, lab.bridge_ns, f"http://{node.ip}:30080/"))
        assert got == {"a1", "b1"}, node.name


async def test_endpoint_changes_converge(lab, proxies):
    a1, a2, b1 = lab.pods["a1"], lab.pods["a2"], lab.pods["b1"]
    await feed(proxies, service("web", VIP, node_port=30080), endpoints("web", [a1.ip, b1.ip]))
    await feed(proxies, endpoints("web", [b1.ip]))
    assert set(await answers(lab, a2.netns, f"http://{VIP}/")) == {"b1"}
    # No endpoints: new connections are rejected, not left hanging.
    await feed(proxies, endpoints("web", []))
    assert lab.connect_error(a2.netns, VIP, 80) == "EHOSTUNREACH"
    assert lab.connect_error(lab.bridge_ns, lab.nodes["node-a"].ip, 30080) == "EHOSTUNREACH"
    await feed(proxies, endpoints("web", [a1.ip]))
    assert set(await answers(lab, a2.netns, f"http://{VIP}/", 4)) == {"a1"}
    # Deleting the Service removes its chains and elements.
    for p in proxies.values():
        p.on_service_deleted(service("web", VIP))
        await asyncio.wait_for(p.synced.wait(), 10)
    table = await proxies["node-a"].nft.list_table()
    assert "svc-default/web" not in table and VIP not in table


async def test_external_traffic_policy_local_keeps_the_client_address(lab, proxies):
    a1, b1 = lab.pods["a1"], lab.pods["b1"]
    nodes = {a1.ip: "node-a", b1.ip: "node-b"}
    await feed(proxies, service("local", "10.96.0.53", node_port=30081, policy="Local"),
               endpoints("local", [a1.ip, b1.ip], nodes=nodes))
    a, b = lab.nodes["node-a"], lab.nodes["node-b"]
    # Each node answers its NodePort only from its own pod, which sees the outside client's address.
    assert set(await answers(lab, lab.bridge_ns, f"http://{a.ip}:30081/", 6)) == {"a1"}
    assert set(await answers(lab, lab.bridge_ns, f"http://{b.ip}:30081/", 6)) == {"b1"}
    assert lab.http_get(lab.bridge_ns, f"http://{a.ip}:30081/cgi-bin/remote") == lab.gateway
    # No local endpoint: the node drops NodePort traffic (no reject, no forwarding elsewhere).
    await feed(proxies, endpoints("local", [b1.ip], nodes=nodes))
    assert lab.http_get(lab.bridge_ns, f"http://{a.ip}:30081/", timeout=1) is None
    assert lab.http_get(lab.bridge_ns, f"http://{b.ip}:30081/") == "b1"


async def test_load_balancer_address_with_policy_local_keeps_the_client_address(lab, proxies):
    a1, b1 = lab.pods["a1"], lab.pods["b1"]
    a = lab.nodes["node-a"]
    lb = "10.250.0.210"
    svc = service("lb-local", "10.96.0.55", node_port=30082, policy="Local")
    svc.spec.type = "LoadBalancer"
    svc.status.load_balancer.ingress.add(ip=lb)
    lab.run_in(lab.bridge_ns, ["ip", "route", "replace", f"{lb}/32", "via", a.ip])
    await feed(proxies, svc, endpoints("lb-local", [a1.ip, b1.ip], nodes={a1.ip: "node-a", b1.ip: "node-b"}))
    # The host's route leads to node-a, which answers only from its own pod, unmasqueraded.
    assert set(await answers(lab, lab.bridge_ns, f"http://{lb}/", 6)) == {"a1"}
    assert lab.http_get(lab.bridge_ns, f"http://{lb}/cgi-bin/remote") == lab.gateway
    # Pods reach any endpoint through the address, as kube-proxy short-circuits in-cluster traffic.
    assert set(await answers(lab, lab.pods["a2"].netns, f"http://{lb}/", 12)) == {"a1", "b1"}
    # A node routed the address but without an endpoint drops outside clients.
    lab.run_in(lab.bridge_ns, ["ip", "route", "replace", f"{lb}/32", "via", lab.nodes["node-b"].ip])
    await feed(proxies, endpoints("lb-local", [a1.ip], nodes={a1.ip: "node-a"}))
    assert lab.http_get(lab.bridge_ns, f"http://{lb}/", timeout=1) is None


async def test_internal_traffic_policy_local_stays_on_the_node(lab, proxies):
    a1, a2, b1 = lab.pods["a1"], lab.pods["a2"], lab.pods["b1"]
    await feed(proxies, service("near", "10.96.0.54", internal_policy="Local"),
               endpoints("near", [a1.ip, b1.ip], nodes={a1.ip: "node-a", b1.ip: "node-b"}))
    assert set(await answers(lab, a2.netns, "http://10.96.0.54/", 8)) == {"a1"}
    assert set(await answers(lab, lab.nodes["node-b"].netns, "http://10.96.0.54/", 8)) == {"b1"}


async def test_hairpin_and_session_affinity(lab, proxies):
    a1, a2, b1 = lab.pods["a1"], lab.pods["a2"], lab.pods["b1"]
    await feed(proxies, service("self", "10.96.0.51"), endpoints("self", [a1.ip]))
    assert lab.http_get(a1.netns, "http://10.96.0.51/") == "a1"  # a pod reaching itself via its VIP
    await feed(proxies, service("sticky", "10.96.0.52", affinity=True), endpoints("sticky", [a1.ip, b1.ip]))
    for client in (a2, b1):
        # Affinity binds a client once its first connection has picked an endpoint; connections
        # racing that first one may still be spread, as with kube-proxy.
        first = lab.http_get(client.netns, "http://10.96.0.52/")
        assert first in ("a1", "b1")
        got = await answers(lab, client.netns, "http://10.96.0.52/", 10)
        assert set(got) == {first}, (first, got)


async def test_restarted_proxy_takes_over_without_interrupting_traffic(lab, proxies):
    a1, a2, b1 = lab.pods["a1"], lab.pods["a2"], lab.pods["b1"]
    await feed(proxies, service("web", VIP, node_port=30080), endpoints("web", [a1.ip, b1.ip]))
    failures, done = [], threading.Event()

    def hammer() -> int:
        count = 0
        while not done.is_set():
            if lab.http_get(a2.netns, f"http://{VIP}/") not in ("a1", "b1"):
                failures.append(count)
            count += 1
        return count

    worker = asyncio.create_task(asyncio.to_thread(hammer))
    for _ in range(3):  # a new proxy adopts the table with one atomic replacement
        fresh = ServiceProxy(Nft(lab.nodes["node-a"].netns), NodeConfig(str(lab.cluster_cidr)))
        fresh.on_service(service("web", VIP, node_port=30080))
        fresh.on_endpoints(endpoints("web", [a1.ip, b1.ip]))
        await fresh.sync()
    done.set()
    assert await worker > 0 and failures == []


async def test_failed_transaction_falls_back_to_full_sync(lab, proxies):
    a1, a2 = lab.pods["a1"], lab.pods["a2"]
    await feed(proxies, service("web", VIP), endpoints("web", [a1.ip]))
    proxy = proxies["node-a"]
    # Someone deletes our element behind our back: the next incremental transaction fails.
    await proxy.nft.apply("delete element ip skiff services { 10.96.0.50 . tcp . 80 }\n")
    proxy.on_endpoints(endpoints("web", [a1.ip, lab.pods["b1"].ip]))

    async def recovered() -> bool:
        return set(await answers(lab, a2.netns, f"http://{VIP}/", 8)) == {"a1", "b1"}
    await eventually(recovered, timeout=10, what="proxy recovered with a full sync")
