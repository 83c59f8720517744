"""The Node authorizer and NodeRestriction against a real TLS apiserver: a node's certificate
(system:node:<name> in system:nodes) reads the secrets and configmaps of pods bound to it, and
writes only its own Node, Lease and pods' status."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.pki import Pki
from tests.fixtures.procs import eventually

C = grpc.StatusCode


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def _code(coro) -> C:
    try:
        await coro
    except grpc.aio.AioRpcError as e:
        return e.code()
    return C.OK


async def _details(coro) -> tuple[C, str]:
    try:
        await coro
    except grpc.aio.AioRpcError as e:
        return e.code(), e.details()
    return C.OK, ""


def _pod(name: str, ns: str, node: str, **refs) -> object:
    """A pod bound to `node` referencing secrets/configmaps in every way a pod can."""
    container = {"name": "c", "image": "busybox", "env": [], "envFrom": []}
    spec: dict = {"nodeName": node, "containers": [container], "volumes": []}
    if "volume_secret" in refs:
        spec["volumes"].append({"name": "s", "secret": {"secretName": refs["volume_secret"]}})
    if "volume_cm" in refs:
        spec["volumes"].append({"name": "cm", "configMap": {"name": refs["volume_cm"]}})
    if "env_secret" in refs:
        container["env"].append({"name": "A", "valueFrom": {"secretKeyRef": {"name": refs["env_secret"], "key": "k"}}})
    if "env_cm" in refs:
        container["env"].append({"name": "B", "valueFrom": {"configMapKeyRef": {"name": refs["env_cm"], "key": "k"}}})
    if "envfrom_secret" in refs:
        container["envFrom"].append({"secretRef": {"name": refs["envfrom_secret"]}})
    if "envfrom_cm" in refs:
        container["envFrom"].append({"configMapRef": {"name": refs["envfrom_cm"]}})
    if "pull_secret" in refs:
        spec["imagePullSecrets"] = [{"name": refs["pull_secret"]}]
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns}, "spec": spec})


async def _make(client: Client, kind: str, name: str, ns: str) -> None:
    data = {"stringData": {"k": "v"}} if kind == "Secret" else {"data": {"k": "v"}}
    await client.create(from_dict({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns},
                                   **data}))


@pytest.fixture
async def cluster(apiserver, client, pki: Pki):
    """A namespace, two Nodes (x, y) and a client holding each node's certificate."""
    ns, x, y = _name("ns"), _name("x"), _name("y")
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
    for node in (x, y):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}))
    clients = {n: Client(apiserver.target, config=pki.config(cert=Path(pki.node_config(n)).stem)) for n in (x, y)}
    try:
        yield ns, x, y, clients
    finally:
        for c in clients.values():
            await c.close()


async def test_node_gets_only_what_pods_bound_to_it_reference(cluster, client) -> None:
    ns, x, y, nodes = cluster
    refs = {"volume_secret": "vs", "env_secret": "es", "envfrom_secret": "efs", "pull_secret": "ps",
            "volume_cm": "vcm", "env_cm": "ecm", "envfrom_cm": "efcm"}
    for ref, name in refs.items():
        await _make(client, "ConfigMap" if ref.endswith("cm") else "Secret", name, ns)
    await _make(client, "Secret", "unrelated", ns)
    await client.create(_pod("p", ns, x, **refs))
    for ref, name in refs.items():
        kind = "configmap" if ref.endswith("cm") else "secret"
        assert await _code(nodes[x].get(kind, name, ns)) == C.OK, ref
        code, details = await _details(nodes[y].get(kind, name, ns))
        assert code == C.PERMISSION_DENIED, ref
        assert f"no relationship found between node '{y}' and this object" in details
    code, details = await _details(nodes[x].get("secret", "unrelated", ns))
    assert code == C.PERMISSION_DENIED
    assert (f'secrets "unrelated" is forbidden: User "system:node:{x}" cannot get resource "secrets" '
            f'in API group "" in the namespace "{ns}"') in details


async def test_access_ends_when_the_pod_is_gone(cluster, client) -> None:
    ns, x, _y, nodes = cluster
    await _make(client, "Secret", "s", ns)
    await client.create(_pod("p", ns, x, volume_secret="s"))
    assert await _code(nodes[x].get("secret", "s", ns)) == C.OK
    await client.delete("pod", "p", ns, grace_period_seconds=0)

    async def denied() -> bool:
        return await _code(nodes[x].get("secret", "s", ns)) == C.PERMISSION_DENIED
    await eventually(denied, timeout=10, what="the node to lose the secret of its deleted pod")


async def test_node_cannot_list_or_watch_secrets_and_configmaps(cluster) -> None:
    ns, x, _y, nodes = cluster
    for kind in ("secrets", "configmaps"):
        code, details = await _details(nodes[x].list(kind, ns))
        assert code == C.PERMISSION_DENIED and "can only get individual resources of this type" in details
        events = nodes[x].watch(kind, namespace=ns)
        try:
            assert await _code(anext(events)) == C.PERMISSION_DENIED
        finally:
            await events.aclose()


async def test_node_reads_what_an_agent_follows(cluster) -> None:
    ns, x, _y, nodes = cluster
    for kind in ("pods", "services", "endpoints", "networkpolicies"):
        assert await _code(nodes[x].list(kind, ns)) == C.OK, kind
    assert await _code(nodes[x].list("nodes")) == C.OK
    assert await _code(nodes[x].list("namespaces")) == C.OK
    assert await _code(nodes[x].list("deployments", ns)) == C.PERMISSION_DENIED
    assert await _code(nodes[x].list("roles", ns)) == C.PERMISSION_DENIED


async def test_node_writes_only_its_own_node(cluster, client) -> None:
    _ns, x, y, nodes = cluster
    own = await nodes[x].get("node", x)
    own.metadata.labels["mine"] = "yes"
    assert await _code(nodes[x].update(own)) == C.OK
    own = await nodes[x].get("node", x)
    own.status.phase = "Running"
    assert await _code(nodes[x].update_status(own)) == C.OK
    other = await nodes[x].get("node", y)
    other.metadata.labels["mine"] = "yes"
    for write in (nodes[x].update(other), nodes[x].update_status(other), nodes[x].delete("node", y)):
        code, details = await _details(write)
        assert code == C.PERMISSION_DENIED
        assert f'nodes "{y}" is forbidden: node "{x}" is not allowed to modify node "{y}"' in details
    fresh = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": _name("z")}})
    assert await _code(nodes[x].create(fresh)) == C.PERMISSION_DENIED
    assert "mine" not in (await client.get("node", y)).metadata.labels


async def test_node_updates_status_and_deletes_only_its_pods(cluster, client) -> None:
    ns, x, y, nodes = cluster
    await client.create(_pod("px", ns, x))
    await client.create(_pod("py", ns, y))
    mine = await nodes[x].get("pod", "px", ns)
    mine.status.phase = "Running"
    assert await _code(nodes[x].update_status(mine)) == C.OK
    theirs = await nodes[x].get("pod", "py", ns)
    theirs.status.phase = "Running"
    code, details = await _details(nodes[x].update_status(theirs))
    assert code == C.PERMISSION_DENIED
    assert f'node "{x}" can only update pod status for pods with spec.nodeName set to itself' in details
    # Claiming the pod in the update does not help: the stored pod decides.
    theirs.spec.node_name = x
    assert await _code(nodes[x].update_status(theirs)) == C.PERMISSION_DENIED
    assert await _code(nodes[x].delete("pod", "py", ns)) == C.PERMISSION_DENIED
    assert await _code(nodes[x].update(mine)) == C.PERMISSION_DENIED  # no pods update rule
    assert await _code(nodes[x].create(_pod("new", ns, x))) == C.PERMISSION_DENIED
    assert await _code(nodes[x].delete("pod", "px", ns, grace_period_seconds=0)) == C.OK
    assert (await client.get("pod", "py", ns)).status.phase != "Running"


async def test_node_lease_only_its_own_in_kube_node_lease(cluster) -> None:
    _ns, x, y, nodes = cluster

    def lease(name: str, ns: str = "kube-node-lease"):
        return from_dict({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                          "metadata": {"name": name, "namespace": ns}, "spec": {"holderIdentity": name}})
    assert await _code(nodes[x].create(lease(x))) == C.OK
    code, details = await _details(nodes[x].create(lease(y)))
    assert code == C.PERMISSION_DENIED and "can only access node lease with the same name" in details
    code, details = await _details(nodes[x].create(lease(x, "default")))
    assert code == C.PERMISSION_DENIED
    own = await nodes[x].get("lease", x, "kube-node-lease")
    assert await _code(nodes[x].update(own)) == C.OK


async def test_node_may_record_events(cluster) -> None:
    ns, x, _y, nodes = cluster
    event = from_dict({"apiVersion": "v1", "kind": "Event", "metadata": {"name": _name("ev"), "namespace": ns},
                       "involvedObject": {"kind": "Pod", "name": "p", "namespace": ns}, "reason": "Started",
                       "message": "m", "type": "Normal"})
    assert await _code(nodes[x].create(event)) == C.OK


async def test_a_node_certificate_without_a_node_name_gets_nothing(apiserver, client, pki: Pki) -> None:
    stem = pki.client_cert("nameless-node", "system:node:", ("system:nodes",))
    async with Client(apiserver.target, config=pki.config(cert=stem)) as nameless:
        code, details = await _details(nameless.list("pods", "default"))
        assert code == C.PERMISSION_DENIED
        assert 'User "system:node:"' in details
        assert await _code(nameless.list("nodes")) == C.PERMISSION_DENIED
