"""NetworkPolicy enforced by the nodes, on real nftables, with pods in namespaces on two nodes.

Each node is a network namespace running the network half of the agent (`python -m node.network`,
which includes the policy enforcer); pods are namespaces wired by the real CNI plugins and
registered as Pod objects (bound, with their address in status) through the real apiserver.
Denied connections are dropped, so a denial shows as a connect timing out.
"""

from __future__ import annotations

import asyncio
import signal
import time

import grpc
import pytest
from google.protobuf import json_format

from control.client.client import Client
from node.network.policytable import TABLE
from skiff.v1 import core_pb2, meta_pb2, networking_pb2, pod_pb2
from tests.fixtures.netcluster import Cluster, make_node, print_agent_logs
from tests.fixtures.netns import NetLab, start_apiserver_unix
from tests.fixtures.procs import eventually
from tests.fixtures.traffic import Traffic

BLUE = "np-blue"
# name -> (node, namespace, labels, named ports)
PODS = {
    "db": ("node-a", "default", {"role": "db"}, [{"name": "http", "containerPort": 8080}, {"containerPort": 9090}]),
    "web-a": ("node-a", "default", {"role": "web"}, []),
    "web-b": ("node-b", "default", {"role": "web"}, [{"name": "http", "containerPort": 8080}]),
    "plain-b": ("node-b", "default", {"role": "none"}, []),
    "blue-b": ("node-b", BLUE, {"role": "web"}, []),
}


async def register_pod(client: Client, name: str, ip: str) -> None:
    node, namespace, labels, ports = PODS[name]
    pod = json_format.ParseDict({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox", "ports": ports}]}},
        pod_pb2.Pod())
    created = await client.create(pod)
    created.status.phase = "Running"
    created.status.pod_ip = ip
    created.status.pod_ips.add(ip=ip)
    await client.update_status(created)


@pytest.fixture(scope="module")
def cluster(etcd):
    api = start_apiserver_unix(etcd)
    lab = NetLab()
    try:
        for name in ("node-a", "node-b"):
            lab.add_node(name)
        c = Cluster(lab, api.target)

        async def register_nodes() -> None:
            async with Client(api.target) as client:
                for node in lab.nodes.values():
                    await make_node(client, node.name, node.ip, node.pod_cidr)
                await client.create(core_pb2.Namespace(
                    api_version="v1", kind="Namespace",
                    metadata=meta_pb2.ObjectMeta(name=BLUE, labels={"team": "blue"})))
        asyncio.run(register_nodes())
        c.start_agents()
        c.pods = {name: lab.add_pod(lab.nodes[spec[0]], name) for name, spec in PODS.items()}

        async def register_pods() -> None:
            async with Client(api.target) as client:
                for name, pod in c.pods.items():
                    await register_pod(client, name, pod.ip)
        asyncio.run(register_pods())
        lab.serve_http(c.pods["db"], 8080)
        lab.serve_http_in(c.pods["db"].netns, "db-9090", 9090)
        lab.serve_http(c.pods["web-b"], 8080)
        yield c
    finally:
        print_agent_logs(lab.workdir)
        lab.cleanup()
        api.stop()


@pytest.fixture
async def client(cluster):
    c = Client(cluster.target)
    yield c
    await c.close()


def connects(cluster: Cluster, src: str, dst: str, port: int = 8080) -> bool:
    return cluster.lab.connect_error(cluster.pods[src].netns, cluster.pods[dst].ip, port) == "OK"


async def reach(cluster: Cluster, allowed: dict[tuple[str, str, int], bool], timeout: float = 30) -> None:
    """Waits until each (source, destination, port) connects exactly when it is allowed to."""
    async def check() -> bool:
        results = await asyncio.gather(*(asyncio.to_thread(connects, cluster, s, d, p) for s, d, p in allowed))
        return list(results) == list(allowed.values())
    await eventually(check, timeout=timeout, interval=0.2, what=f"connectivity {allowed}")


async def apply_policy(client: Client, name: str, spec: dict, namespace: str = "default") -> None:
    np = json_format.ParseDict({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                "metadata": {"name": name, "namespace": namespace}, "spec": spec},
                               networking_pb2.NetworkPolicy())
    await client.create(np)


async def delete_policy(client: Client, name: str, namespace: str = "default") -> None:
    try:
        await client.delete("NetworkPolicy", name, namespace)
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise


OPEN = {("web-a", "db", 8080): True, ("web-b", "db", 8080): True, ("plain-b", "db", 8080): True,
        ("blue-b", "db", 8080): True, ("web-a", "web-b", 8080): True}


async def test_pods_are_open_without_policies(cluster):
    await reach(cluster, OPEN)


async def test_pod_labels_and_named_port_then_policy_removed(cluster, client):
    await apply_policy(client, "db-from-web", {
        "podSelector": {"matchLabels": {"role": "db"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "web"}}}], "ports": [{"port": "http"}]}]})
    try:
        await reach(cluster, {
            ("web-a", "db", 8080): True,   # same node
            ("web-b", "db", 8080): True,   # across nodes
            ("plain-b", "db", 8080): False,  # label not selected
            ("blue-b", "db", 8080): False,   # right label, other namespace
            ("web-a", "db", 9090): False,    # not the named port
            ("plain-b", "web-b", 8080): True})  # web-b is not selected: open
        node_a = cluster.lab.nodes["node-a"].netns  # the node itself (kubelet probes) still reaches its pod
        assert cluster.lab.connect_error(node_a, cluster.pods["db"].ip, 9090) == "OK"
    finally:
        await delete_policy(client, "db-from-web")
    await reach(cluster, {**OPEN, ("web-a", "db", 9090): True})


async def test_namespace_labels_follow_namespace_changes(cluster, client):
    await apply_policy(client, "db-from-blue", {
        "podSelector": {"matchLabels": {"role": "db"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "blue"}}}]}]})
    try:
        await reach(cluster, {("blue-b", "db", 8080): True, ("web-b", "db", 8080): False})
        ns = await client.get("Namespace", BLUE)
        ns.metadata.labels["team"] = "red"
        await client.update(ns)
        await reach(cluster, {("blue-b", "db", 8080): False})
    finally:
        ns = await client.get("Namespace", BLUE)
        ns.metadata.labels["team"] = "blue"
        await client.update(ns)
        await delete_policy(client, "db-from-blue")
    await reach(cluster, OPEN)


async def test_ip_block_with_except(cluster, client):
    node_b = cluster.lab.nodes["node-b"]
    await apply_policy(client, "db-from-node-b-pods", {
        "podSelector": {"matchLabels": {"role": "db"}},
        "ingress": [{"from": [{"ipBlock": {"cidr": node_b.pod_cidr, "except": [f"{cluster.pods['web-b'].ip}/32"]}}],
                     "ports": [{"protocol": "TCP", "port": 8000, "endPort": 8080}]}]})
    try:
        await reach(cluster, {("plain-b", "db", 8080): True, ("blue-b", "db", 8080): True,
                              ("web-b", "db", 8080): False, ("web-a", "db", 8080): False,
                              ("plain-b", "db", 9090): False})
    finally:
        await delete_policy(client, "db-from-node-b-pods")
    await reach(cluster, OPEN)


async def test_egress_denied_except_to_selected_pods(cluster, client):
    await apply_policy(client, "web-a-to-db", {
        "podSelector": {"matchLabels": {"role": "web"}}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"podSelector": {"matchLabels": {"role": "db"}}}]}]})
    web_b = await client.get("Pod", "web-b", "default")
    try:
        await reach(cluster, {("web-a", "db", 8080): True, ("web-a", "web-b", 8080): False,
                              ("plain-b", "web-b", 8080): True})
        # A pod's labels change: it becomes a peer (one set element) and web-a may reach it.
        web_b.metadata.labels["role"] = "db"
        await client.update(web_b)
        await reach(cluster, {("web-a", "web-b", 8080): True})
    finally:
        web_b = await client.get("Pod", "web-b", "default")
        web_b.metadata.labels["role"] = "web"
        await client.update(web_b)
        await delete_policy(client, "web-a-to-db")
    await reach(cluster, OPEN)


def table_present(cluster: Cluster, node: str) -> bool:
    netns = cluster.lab.nodes[node].netns
    return cluster.lab.run_in(netns, ["nft", "list", "table", *TABLE.split()], check=False).returncode == 0


async def test_agent_restart_keeps_denying(cluster, client):
    await apply_policy(client, "db-deny-all", {"podSelector": {"matchLabels": {"role": "db"}}})
    try:
        await reach(cluster, {("plain-b", "db", 8080): False, ("web-a", "web-b", 8080): True})
        agent = cluster.agents["node-a"]
        # Every attempt while the agent is killed, away and restarted is denied.
        async with Traffic(lambda: "OK" if connects(cluster, "plain-b", "db") else "denied",
                           lambda answer: answer == "denied") as attempts:
            await attempts.wait_sent(after=0, count=1)
            killed = time.monotonic()
            agent.send_signal(signal.SIGKILL)
            await asyncio.to_thread(agent.wait, 10)
            assert table_present(cluster, "node-a")
            await attempts.wait_sent(after=time.monotonic(), count=1)
            cluster.start_agent("node-a")
            # The restarted agent has synced once it enforces a new change: web-a isolated too.
            await apply_policy(client, "web-deny-all", {"podSelector": {"matchLabels": {"role": "web"}},
                                                          "policyTypes": ["Egress"]})
            await reach(cluster, {("web-a", "web-b", 8080): False})
            restarted = time.monotonic()
            await attempts.wait_sent(after=restarted, count=1)
        assert attempts.failures == []
        assert attempts.between(killed, restarted) >= 2
    finally:
        await delete_policy(client, "db-deny-all")
        await delete_policy(client, "web-deny-all")
    await reach(cluster, OPEN)
