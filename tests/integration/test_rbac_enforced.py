"""RBAC enforced by a TLS apiserver: token users get what RoleBindings grant them, in their namespace
only, and cannot grant more than they hold (Kubernetes' escalation rules)."""

from __future__ import annotations

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually

G = "rbac.authorization.k8s.io"


def namespace(name: str):
    return from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def role(name: str, ns: str, *rules: dict):
    return from_dict({"apiVersion": f"{G}/v1", "kind": "Role", "metadata": {"name": name, "namespace": ns},
                      "rules": list(rules)})


def binding(name: str, ns: str, role_kind: str, role_name: str, user: str, kind: str = "RoleBinding"):
    meta = {"name": name, "namespace": ns} if ns else {"name": name}
    return from_dict({"apiVersion": f"{G}/v1", "kind": kind, "metadata": meta,
                      "subjects": [{"kind": "User", "name": user, "apiGroup": G}],
                      "roleRef": {"kind": role_kind, "name": role_name, "apiGroup": G}})


async def as_user(apiserver, user: str) -> Client:
    return Client(apiserver.target, config=session_pki().user_config(user, server=apiserver.target))


async def denied(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED, e.value.details()
    return e.value


async def test_role_binding_grants_in_its_namespace_only(apiserver, client):
    await client.create(namespace("rbac-dev"))
    alice = await as_user(apiserver, "alice")
    try:
        err = await denied(alice.list("pods", "rbac-dev"))
        assert err.details() == ('pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
                                 'in the namespace "rbac-dev"')
        await client.create(role("pod-reader", "rbac-dev",
                                 {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}))
        await client.create(binding("read-pods", "rbac-dev", "Role", "pod-reader", "alice"))

        async def can_list() -> bool:
            await alice.list("pods", "rbac-dev")
            return True
        await eventually(can_list, timeout=10, what="alice may list pods in rbac-dev")
        await denied(alice.list("pods", "default"))
        await denied(alice.list("pods"))
        await denied(alice.create(from_dict({"apiVersion": "v1", "kind": "Pod",
                                             "metadata": {"name": "p", "namespace": "rbac-dev"},
                                             "spec": {"containers": [{"name": "c", "image": "busybox"}]}})))
    finally:
        await alice.close()


async def test_users_cannot_grant_what_they_do_not_hold(apiserver, client):
    await client.create(namespace("rbac-team"))
    await client.create(binding("bob-admin", "rbac-team", "ClusterRole", "admin", "bob"))
    bob = await as_user(apiserver, "bob")
    try:
        async def can_read_roles() -> bool:
            await bob.list("roles", "rbac-team")
            return True
        await eventually(can_read_roles, timeout=10, what="bob is admin of rbac-team")
        # delegating what he holds, in his namespace, is fine
        await bob.create(binding("carol-edit", "rbac-team", "ClusterRole", "edit", "carol"))
        await bob.create(role("reader", "rbac-team", {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}))

        err = await denied(bob.create(role("nodes", "rbac-team",
                                           {"apiGroups": [""], "resources": ["nodes"], "verbs": ["delete"]})))
        assert err.details() == (
            'roles.rbac.authorization.k8s.io "nodes" is forbidden: user "bob" (groups=["system:authenticated"]) '
            "is attempting to grant RBAC permissions not currently held:\n"
            '{APIGroups:[""], Resources:["nodes"], Verbs:["delete"]}')
        err = await denied(bob.create(binding("mallory-root", "rbac-team", "ClusterRole", "cluster-admin",
                                              "mallory")))
        assert "is attempting to grant RBAC permissions not currently held" in err.details()
        await denied(bob.create(binding("bob-root", "", "ClusterRole", "cluster-admin", "bob",
                                        kind="ClusterRoleBinding")))
        for kind, name in (("role", "nodes"), ("rolebinding", "mallory-root")):
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await client.get(kind, name, "rbac-team")
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await bob.close()
