"""Issue 7 end to end: TLS, authentication, RBAC, the Node authorizer, NodeRestriction, secrets at rest, audit.

Every call goes through the real apiserver (TLS, --authorization-mode Node,RBAC) with the
session PKI's credentials: skiffctl with a kubeconfig, or Client(target, config=...).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from pathlib import Path

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from control.client.kubeconfig import ClientConfig
from tests.fixtures.pki import SERVER_NAME, Pki
from tests.fixtures.procs import eventually
from tests.fixtures.skiffctl import run_skiffctl

C = grpc.StatusCode
RBAC = "rbac.authorization.k8s.io"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def _code(coro) -> C:
    try:
        await coro
    except grpc.aio.AioRpcError as e:
        return e.code()
    return C.OK


async def _error(coro) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await coro
    return info.value


async def _first_watch_event(client: Client, kind: str, namespace: str):
    events = client.watch(kind, namespace=namespace)
    try:
        return await anext(events)
    finally:
        await events.aclose()


async def _namespace(client: Client, name: str) -> str:
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    return name


async def _grant(admin: Client, namespace: str, user: str, rules: list[dict], role: str | None = None) -> None:
    """A Role with `rules` in `namespace` and a RoleBinding of it to User `user`."""
    role = role or _name("role")
    await admin.create(from_dict({"apiVersion": f"{RBAC}/v1", "kind": "Role",
                                  "metadata": {"name": role, "namespace": namespace}, "rules": rules}))
    await admin.create(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": _name("rb"), "namespace": namespace},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": user}]}))


def _env(path: Path) -> dict[str, str]:
    return {**os.environ, "SKIFFCONFIG": str(path)}


# -- authentication ------------------------------------------------------------------------------

async def test_no_credentials_is_unauthenticated(apiserver, pki: Pki, tmp_path: Path) -> None:
    anonymous = Client(apiserver.target, config=ClientConfig(certificate_authority=pki.ca,
                                                              tls_server_name=SERVER_NAME))
    async with anonymous:
        err = await _error(anonymous.list("pods", "default"))
    assert err.code() == C.UNAUTHENTICATED
    config = pki.write_config(tmp_path / "anon.conf", apiserver.target, cert=None)
    result = await run_skiffctl(_env(config), "get", "pods")
    assert result.code == 1 and "Unauthorized" in result.err, result


async def test_bad_token_and_plaintext_are_refused(apiserver, pki: Pki) -> None:
    async with Client(apiserver.target, config=pki.config(cert=None, token="not-a-token")) as bad:
        assert await _code(bad.list("pods", "default")) == C.UNAUTHENTICATED
    async with Client(apiserver.target, config=ClientConfig(insecure=True)) as plain:
        assert await _code(plain.list("pods", "default")) == C.UNAVAILABLE


async def test_a_foreign_ca_client_certificate_is_refused(apiserver, pki: Pki, tmp_path: Path) -> None:
    from tests.fixtures.pki import make_pki
    other = make_pki(tmp_path / "other")  # same names, different CA: admin.crt of another cluster
    config = pki.config(cert=None)
    config.client_certificate, config.client_key = other.file("admin.crt"), other.file("admin.key")
    async with Client(apiserver.target, config=config) as foreign:
        assert await _code(foreign.list("pods", "default")) in (C.UNAUTHENTICATED, C.UNAVAILABLE)


# -- RBAC ----------------------------------------------------------------------------------------

async def test_user_without_rules_is_forbidden_with_kubernetes_message(apiserver, pki: Pki, client,
                                                                       tmp_path: Path) -> None:
    ns = await _namespace(client, _name("dev"))
    async with Client(apiserver.target, config=pki.user_config("mallory")) as mallory:
        err = await _error(mallory.list("pods", ns))
    assert err.code() == C.PERMISSION_DENIED
    assert (f'pods is forbidden: User "mallory" cannot list resource "pods" in API group "" '
            f'in the namespace "{ns}"') in err.details()
    config = pki.write_config(tmp_path / "mallory.conf", apiserver.target, cert=None, token=pki.tokens["mallory"])
    result = await run_skiffctl(_env(config), "get", "deployments", "-n", ns)
    assert result.code == 1
    assert (f'Error from server (Forbidden): deployments.apps is forbidden: User "mallory" cannot list resource '
            f'"deployments" in API group "apps" in the namespace "{ns}"') in result.err, result.err


async def test_role_binding_grants_only_in_its_namespace(apiserver, pki: Pki, client, tmp_path: Path) -> None:
    a, b = await _namespace(client, _name("a")), await _namespace(client, _name("b"))
    await _grant(client, a, "alice", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}])
    config = pki.write_config(tmp_path / "alice.conf", apiserver.target, cert=None, token=pki.tokens["alice"],
                              namespace=a)

    async def alice_lists_in_a() -> bool:
        return (await run_skiffctl(_env(config), "get", "pods")).code == 0
    await eventually(alice_lists_in_a, timeout=10, what="alice's RoleBinding to take effect")
    in_b = await run_skiffctl(_env(config), "get", "pods", "-n", b)
    assert in_b.code == 1 and f'cannot list resource "pods" in API group "" in the namespace "{b}"' in in_b.err
    everywhere = await run_skiffctl(_env(config), "get", "pods", "-A")
    assert everywhere.code == 1 and 'cannot list resource "pods" in API group "" at the cluster scope' in everywhere.err
    async with Client(apiserver.target, config=pki.user_config("alice")) as alice:
        assert await _code(alice.list("pods", a)) == C.OK
        assert await _code(alice.list("pods", b)) == C.PERMISSION_DENIED
        assert await _code(alice.list("secrets", a)) == C.PERMISSION_DENIED
        assert await _code(alice.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                                   "metadata": {"name": "x", "namespace": a}}))) == C.PERMISSION_DENIED


async def test_group_binding_to_a_cluster_role_grants_in_the_binding_namespace(apiserver, pki: Pki, client) -> None:
    a, b = await _namespace(client, _name("a")), await _namespace(client, _name("b"))
    await client.create(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "qa-view", "namespace": a},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "Group", "apiGroup": RBAC, "name": "qa"}]}))
    async with Client(apiserver.target, config=pki.user_config("carol")) as carol:
        await eventually(lambda: _ok(carol.list("deployments", a)), timeout=10, what="carol's group binding")
        assert await _code(carol.list("deployments", b)) == C.PERMISSION_DENIED
        assert await _code(carol.list("secrets", a)) == C.PERMISSION_DENIED  # view does not read secrets
        assert await _code(carol.delete("pods", "p", a)) == C.PERMISSION_DENIED


async def _ok(coro) -> bool:
    return await _code(coro) == C.OK


async def test_watch_logs_and_exec_are_authorized(apiserver, pki: Pki, client) -> None:
    ns = await _namespace(client, _name("w"))
    await _grant(client, ns, "bob", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}])
    async with Client(apiserver.target, config=pki.user_config("bob")) as bob:
        await eventually(lambda: _ok(bob.list("pods", ns)), timeout=10, what="bob's binding")
        err = await _error(_first_watch_event(bob, "pods", ns))
        assert err.code() == C.PERMISSION_DENIED and 'cannot watch resource "pods"' in err.details()
        err = await _error(_drain(bob.logs(ns, "nope")))
        assert err.code() == C.PERMISSION_DENIED and 'cannot get resource "pods/log"' in err.details()
        err = await _error(bob.exec(ns, "nope", ["true"]))
        assert err.code() == C.PERMISSION_DENIED and 'cannot create resource "pods/exec"' in err.details()
        await _grant(client, ns, "bob", [{"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
                                         {"apiGroups": [""], "resources": ["pods"], "verbs": ["watch"]},
                                         {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}])
        # Authorized now, the calls reach the handlers: the pod does not exist.
        await eventually(lambda: _is(C.NOT_FOUND, _drain(bob.logs(ns, "nope"))), timeout=10, what="pods/log grant")
        assert await _code(bob.exec(ns, "nope", ["true"])) == C.NOT_FOUND
        pod = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "watched", "namespace": ns},
                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
        await client.create(pod)
        event = await _first_watch_event(bob, "pods", ns)
        assert event.object.metadata.name == "watched"


async def _drain(call) -> None:
    async for _ in call:
        pass


async def _is(code: C, coro) -> bool:
    return await _code(coro) == code


async def test_escalation_through_a_role_is_forbidden(apiserver, pki: Pki, client) -> None:
    ns = await _namespace(client, _name("esc"))
    await _grant(client, ns, "alice", [{"apiGroups": [RBAC], "resources": ["roles", "rolebindings"],
                                        "verbs": ["create", "get", "list"]},
                                       {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}])
    within = from_dict({"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "cm", "namespace": ns},
                        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
    beyond = from_dict({"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "sec", "namespace": ns},
                        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]})
    async with Client(apiserver.target, config=pki.user_config("alice")) as alice:
        await eventually(lambda: _ok(alice.create(within)), timeout=10, what="alice's rbac grant")
        err = await _error(alice.create(beyond))
    assert err.code() == C.PERMISSION_DENIED
    assert "escalat" in err.details() or "forbidden" in err.details()
    assert await _code(client.get("role", "sec", ns)) == C.NOT_FOUND


# -- nodes ---------------------------------------------------------------------------------------

def _pod_using_secret(name: str, ns: str, node: str, secret: str) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                      "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
                               "volumes": [{"name": "s", "secret": {"secretName": secret}}]}})


async def test_node_reads_only_its_own_pods_secrets_and_modifies_only_itself(apiserver, pki: Pki, client) -> None:
    ns = await _namespace(client, _name("nodes"))
    x, y = _name("node-x"), _name("node-y")
    for node in (x, y):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}))
        await client.create(from_dict({"apiVersion": "v1", "kind": "Secret",
                                       "metadata": {"name": f"s-{node}", "namespace": ns},
                                       "stringData": {"k": node}}))
        await client.create(_pod_using_secret(f"p-{node}", ns, node, f"s-{node}"))
    node_x = Client(apiserver.target, config=pki.config(cert=Path(pki.node_config(x)).stem))
    async with node_x:
        await eventually(lambda: _ok(node_x.get("secret", f"s-{x}", ns)), timeout=10,
                         what="node x to read the secret of its own pod")
        err = await _error(node_x.get("secret", f"s-{y}", ns))
        assert err.code() == C.PERMISSION_DENIED and f'User "system:node:{x}"' in err.details()
        assert await _code(node_x.list("secrets", ns)) == C.PERMISSION_DENIED
        own = await node_x.get("node", x)
        own.metadata.labels["seen"] = "yes"
        assert await _code(node_x.update(own)) == C.OK
        other = await node_x.get("node", y)
        other.metadata.labels["seen"] = "yes"
        err = await _error(node_x.update(other))
        assert err.code() == C.PERMISSION_DENIED and y in err.details()
        err = await _error(node_x.update_status(other))
        assert err.code() == C.PERMISSION_DENIED
        theirs = await node_x.get("pod", f"p-{y}", ns)
        theirs.status.phase = "Failed"
        assert await _code(node_x.update_status(theirs)) == C.PERMISSION_DENIED
        assert await _code(node_x.delete("node", y)) == C.PERMISSION_DENIED
    assert "seen" not in (await client.get("node", y)).metadata.labels
    assert (await client.get("pod", f"p-{y}", ns)).status.phase != "Failed"


# -- secrets at rest and in the audit log ---------------------------------------------------------

def _etcd_dump(etcd) -> bytes:
    return subprocess.run(["etcdctl", "--endpoints", etcd.url, "get", "--prefix", "/registry/"],
                          check=True, capture_output=True, env={"ETCDCTL_API": "3"}).stdout


async def test_secret_plaintext_is_neither_in_etcd_nor_in_the_audit_log(apiserver, etcd, client) -> None:
    ns = await _namespace(client, _name("sec"))
    plaintext = f"p1aintext-{uuid.uuid4().hex}"
    encoded = base64.b64encode(plaintext.encode()).decode()
    secret = from_dict({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": ns},
                        "stringData": {"password": plaintext}})
    await client.create(secret)
    stored = await client.get("secret", "db", ns)
    stored.data["password"] = (plaintext + "-2").encode()
    await client.update(stored)
    assert (await client.get("secret", "db", ns)).data["password"] == (plaintext + "-2").encode()
    dump = _etcd_dump(etcd)
    assert f"/registry/secrets/{ns}/db".encode() in dump
    for leak in (plaintext, encoded, encoded[:16]):
        assert leak.encode() not in dump, f"{leak!r} is in etcd"
    audit = Path(apiserver.workdir, "audit.log")

    def secret_writes() -> list[dict]:
        lines = [json.loads(line) for line in audit.read_text().splitlines() if line.strip()]
        return [e for e in lines if e.get("objectRef", {}).get("resource") == "secrets"
                and e["objectRef"].get("namespace") == ns]
    await eventually(lambda: _true(len(secret_writes()) >= 2), timeout=10, what="the audit lines of the writes")
    writes = secret_writes()
    assert {e["verb"] for e in writes} >= {"create", "update"}
    assert all(e["user"]["username"] == "admin" for e in writes)
    text = audit.read_text()
    for leak in (plaintext, encoded, encoded[:16]):
        assert leak not in text, f"{leak!r} is in the audit log"


async def _true(value: bool) -> bool:
    return value
