"""`skiffctl auth can-i` and `auth whoami` against the TLS apiserver: the answer matches what the real
call then does, for token users, certificate users and nodes (Node authorizer); and the imperative
`create role|clusterrole|rolebinding|clusterrolebinding` objects equal their YAML and take effect."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from control.client.kubeconfig import ClientConfig, load_client_config
from skiff.v1 import authz_pb2, reviews_pb2_grpc
from tests.fixtures.pki import SERVER_NAME, Pki
from tests.fixtures.procs import eventually
from tests.fixtures.skiffctl import run_skiffctl

C = grpc.StatusCode
RBAC = "rbac.authorization.k8s.io"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def _namespace(client: Client, prefix: str) -> str:
    name = _name(prefix)
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    return name


async def _code(coro) -> C:
    try:
        await coro
    except grpc.aio.AioRpcError as e:
        return e.code()
    return C.OK


def _token_env(pki: Pki, apiserver, tmp_path: Path, user: str) -> dict[str, str]:
    path = pki.write_config(tmp_path / f"{user}.conf", apiserver.target, cert=None, token=pki.tokens[user])
    return {**os.environ, "SKIFFCONFIG": str(path)}


async def _can_i(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = await run_skiffctl(env, "auth", "can-i", *args)
    return result.code, result.out.strip()


async def _until_yes(env: dict[str, str], *args: str) -> None:
    """RBAC answers from the watch cache: wait until a just-made binding is seen."""
    async def yes() -> bool:
        return await _can_i(env, *args) == (0, "yes")
    await eventually(yes, timeout=10, what=f"can-i {' '.join(args)} says yes")


async def _bind_pod_reader(client: Client, namespace: str, user: str) -> None:
    await client.create(from_dict({"apiVersion": f"{RBAC}/v1", "kind": "Role",
                                   "metadata": {"name": "pod-reader", "namespace": namespace},
                                   "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"],
                                              "verbs": ["get", "list", "watch"]}]}))
    await client.create(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "read", "namespace": namespace},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": user}]}))


async def test_can_i_matches_what_the_real_call_does(apiserver, pki: Pki, client, tmp_path: Path) -> None:
    a, b = await _namespace(client, "cani-a"), await _namespace(client, "cani-b")
    env = _token_env(pki, apiserver, tmp_path, "alice")
    assert await _can_i(env, "list", "pods", "-n", a) == (1, "no")
    await _bind_pod_reader(client, a, "alice")
    await _until_yes(env, "list", "pods", "-n", a)
    async with Client(apiserver.target, config=pki.user_config("alice", server=apiserver.target)) as alice:
        assert await _code(alice.list("pods", a)) == C.OK
        assert await _can_i(env, "list", "pods", "-n", b) == (1, "no")
        assert await _code(alice.list("pods", b)) == C.PERMISSION_DENIED
        assert await _can_i(env, "list", "pods", "-A") == (1, "no")
        assert await _code(alice.list("pods")) == C.PERMISSION_DENIED
    assert await _can_i(env, "delete", "po/x", "-n", a) == (1, "no")
    assert await _can_i(env, "get", "pods", "x", "--subresource", "log", "-n", a) == (0, "yes")
    assert await _can_i(env, "create", "pods", "--subresource", "exec", "-n", a) == (1, "no")
    assert await _can_i(env, "list", "deployments.apps", "-n", a) == (1, "no")


async def test_can_i_as_admin_and_unknown_resources(apiserver, pki: Pki, tmp_path: Path) -> None:
    env = {**os.environ, "SKIFFCONFIG": str(pki.write_config(tmp_path / "admin.conf", apiserver.target))}
    assert await _can_i(env, "delete", "deployments.apps", "-A") == (0, "yes")
    result = await run_skiffctl(env, "auth", "can-i", "get", "widgets.example.com")
    assert result.code == 0 and result.out.strip() == "yes"  # system:masters may do anything
    assert "Warning: the server doesn't have a resource type 'widgets.example.com'" in result.err
    quiet = await run_skiffctl(env, "auth", "can-i", "get", "pods", "-q")
    assert (quiet.code, quiet.out) == (0, "")


async def test_node_can_i_follows_the_node_authorizer(apiserver, pki: Pki, client, tmp_path: Path) -> None:
    ns = await _namespace(client, "cani-node")
    node = _name("n")
    for secret in ("mounted", "other"):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Secret",
                                       "metadata": {"name": secret, "namespace": ns}, "data": {}}))
    await client.create(from_dict({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
                 "volumes": [{"name": "s", "secret": {"secretName": "mounted"}}]}}))
    env = {**os.environ, "SKIFFCONFIG": pki.node_config(node, apiserver.target)}
    await _until_yes(env, "get", "secrets/mounted", "-n", ns)
    assert await _can_i(env, "get", "secrets/other", "-n", ns) == (
        1, f"no - no relationship found between node '{node}' and this object")
    node_config = load_client_config(pki.node_config(node, apiserver.target))
    async with Client(apiserver.target, config=node_config) as as_node:
        assert await _code(as_node.get("secrets", "mounted", ns)) == C.OK
        assert await _code(as_node.get("secrets", "other", ns)) == C.PERMISSION_DENIED


async def test_whoami_for_certificate_and_token_users(apiserver, pki: Pki, tmp_path: Path) -> None:
    admin = {**os.environ, "SKIFFCONFIG": str(pki.write_config(tmp_path / "admin.conf", apiserver.target))}
    result = await run_skiffctl(admin, "auth", "whoami")
    assert result.code == 0, result
    lines = [line.split(None, 1) for line in result.out.splitlines()]
    assert lines[0] == ["ATTRIBUTE", "VALUE"]
    rows = dict(lines[1:])
    assert rows["Groups"] == "[system:masters system:authenticated]", result.out
    carol = await run_skiffctl(_token_env(pki, apiserver, tmp_path, "carol"), "auth", "whoami", "-o", "json")
    assert carol.code == 0, carol
    doc = json.loads(carol.out)
    assert doc["kind"] == "SelfSubjectReview" and doc["apiVersion"] == "authentication.k8s.io/v1"
    assert doc["status"]["userInfo"]["username"] == "carol"
    assert doc["status"]["userInfo"]["groups"] == ["qa", "system:authenticated"]


async def test_reviews_need_authentication(apiserver, pki: Pki, tmp_path: Path) -> None:
    config = pki.write_config(tmp_path / "anon.conf", apiserver.target, cert=None)
    env = {**os.environ, "SKIFFCONFIG": str(config)}
    for args in (("whoami",), ("can-i", "get", "pods")):
        result = await run_skiffctl(env, "auth", *args)
        assert result.code == 1 and "Unauthorized" in result.err, result
    anonymous = Client(apiserver.target, config=ClientConfig(certificate_authority=pki.ca,
                                                              tls_server_name=SERVER_NAME))
    async with anonymous:
        stub = reviews_pb2_grpc.SelfSubjectReviewsStub(anonymous.channel)
        assert await _code(stub.Create(authz_pb2.SelfSubjectReview())) == C.UNAUTHENTICATED


@pytest.mark.parametrize("spec, message", [
    ({}, "spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes "
         "must be specified"),
    ({"resource_attributes": {"resource": "pods"}}, "spec.resourceAttributes.verb: Required value"),
    ({"resource_attributes": {"verb": "get"}, "non_resource_attributes": {"path": "/x", "verb": "get"}},
     "spec.nonResourceAttributes: Invalid value"),
])
async def test_invalid_access_review(apiserver, client, spec: dict, message: str) -> None:
    stub = reviews_pb2_grpc.SelfSubjectAccessReviewsStub(client.channel)
    review = authz_pb2.SelfSubjectAccessReview()
    for field, attrs in spec.items():
        getattr(review.spec, field).SetInParent()
        for key, value in attrs.items():
            setattr(getattr(review.spec, field), key, value)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.Create(review)
    assert e.value.code() == C.INVALID_ARGUMENT
    assert message in e.value.details(), e.value.details()


# -- imperative RBAC objects -----------------------------------------------------------------------

def _admin_env(pki: Pki, apiserver, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "SKIFFCONFIG": str(pki.write_config(tmp_path / "admin.conf", apiserver.target))}


async def _ok(env: dict[str, str], *args: str) -> str:
    result = await run_skiffctl(env, *args)
    assert result.code == 0, result
    return result.out.strip()


def _content(obj) -> dict:
    """An object as its manifest would say it: no server-set metadata."""
    from control.client.convert import to_dict
    data = to_dict(obj)
    meta = data.pop("metadata")
    data["metadata"] = {k: v for k, v in meta.items() if k in ("name", "namespace")}
    return data


async def test_create_role_and_rolebinding_equal_yaml_and_take_effect(apiserver, pki: Pki, client,
                                                                       tmp_path: Path) -> None:
    ns = await _namespace(client, "cani-imp")
    admin = _admin_env(pki, apiserver, tmp_path)
    assert await _ok(admin, "create", "role", "reader", "-n", ns, "--verb=get,list",
                     "--resource=pods,deployments.apps,pods/log") == f"role.{RBAC}/reader created"
    assert await _ok(admin, "create", "rolebinding", "bob-reader", "-n", ns, "--role=reader",
                     "--user=bob") == f"rolebinding.{RBAC}/bob-reader created"
    role = await client.get("roles", "reader", ns)
    assert _content(role) == _content(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "reader", "namespace": ns},
        "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]},
                  {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}]}))
    binding = await client.get("rolebindings", "bob-reader", ns)
    assert _content(binding) == _content(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": "bob-reader", "namespace": ns},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": "bob"}]}))
    bob = _token_env(pki, apiserver, tmp_path, "bob")
    await _until_yes(bob, "list", "deployments.apps", "-n", ns)
    assert await _can_i(bob, "watch", "pods", "-n", ns) == (1, "no")
    async with Client(apiserver.target, config=pki.user_config("bob", server=apiserver.target)) as as_bob:
        assert await _code(as_bob.list("deployments", ns)) == C.OK
        assert await _code(as_bob.list("secrets", ns)) == C.PERMISSION_DENIED


async def test_create_clusterrole_and_clusterrolebinding_take_effect(apiserver, pki: Pki, client,
                                                                     tmp_path: Path) -> None:
    admin = _admin_env(pki, apiserver, tmp_path)
    role, binding = _name("node-reader"), _name("qa-node-reader")
    assert await _ok(admin, "create", "clusterrole", role, "--verb=get", "--resource=nodes",
                     "--non-resource-url=/healthz") == f"clusterrole.{RBAC}/{role} created"
    assert await _ok(admin, "create", "clusterrolebinding", binding, f"--clusterrole={role}",
                     "--group=qa") == f"clusterrolebinding.{RBAC}/{binding} created"
    created = await client.get("clusterroles", role)
    assert _content(created) == _content(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": role},
        "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]},
                  {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}))
    carol = _token_env(pki, apiserver, tmp_path, "carol")  # carol is in group qa
    await _until_yes(carol, "get", "nodes/some-node")
    assert await _can_i(carol, "list", "nodes") == (1, "no")
    async with Client(apiserver.target, config=pki.user_config("carol", server=apiserver.target)) as as_carol:
        assert await _code(as_carol.get("nodes", "no-such-node")) == C.NOT_FOUND  # authorized, then absent
        assert await _code(as_carol.list("nodes")) == C.PERMISSION_DENIED
    assert await _can_i(_token_env(pki, apiserver, tmp_path, "alice"), "get", "nodes/x") == (1, "no")
    again = await run_skiffctl(admin, "create", "clusterrolebinding", binding, f"--clusterrole={role}")
    assert again.code == 1 and "already exists" in again.err, again


async def test_insecure_dev_allows_everything_and_knows_no_one(tmp_path: Path) -> None:
    from tests.fixtures.apiserver import start_apiserver
    from tests.fixtures.etcd import start_etcd
    etcd = start_etcd()  # its own: the module's etcd holds secrets under another apiserver's encryption key
    try:
        server = start_apiserver(etcd, ["--insecure-dev"])
    except BaseException:
        etcd.stop()
        raise
    try:
        config = tmp_path / "plain.conf"
        config.write_text(f"server: {server.target}\ninsecure: true\n")
        env = {**os.environ, "SKIFFCONFIG": str(config)}
        assert await _can_i(env, "delete", "secrets", "-A") == (0, "yes")
        whoami = await run_skiffctl(env, "auth", "whoami", "-o", "yaml")
        assert whoami.code == 0 and "username: system:anonymous" in whoami.out, whoami
    finally:
        server.stop()
        etcd.stop()


async def test_can_i_on_non_resource_urls_follows_cluster_role_bindings(apiserver, pki: Pki, client,
                                                                       tmp_path: Path) -> None:
    user = _name("probe")
    stem = pki.client_cert(user, user)
    env = {**os.environ, "SKIFFCONFIG": str(pki.write_config(tmp_path / "probe.conf", apiserver.target, cert=stem))}
    assert await _can_i(env, "get", "/healthz") == (1, "no")
    await client.create(from_dict({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": user},
                                   "rules": [{"nonResourceURLs": ["/healthz", "/logs/*"], "verbs": ["get"]}]}))
    await client.create(from_dict({
        "apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": user},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": user},
        "subjects": [{"kind": "User", "apiGroup": RBAC, "name": user}]}))
    await _until_yes(env, "get", "/healthz")
    assert await _can_i(env, "get", "/logs/kubelet.log") == (0, "yes")
    assert await _can_i(env, "post", "/healthz") == (1, "no")
    assert await _can_i(env, "get", "/metrics") == (1, "no")
