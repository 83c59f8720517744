"""The RBAC kinds through a real apiserver and etcd: create, get, list, update, delete, validation."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from control.client.convert import from_dict, to_dict
from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually

RBAC = "rbac.authorization.k8s.io/v1"


def role(name: str, namespace: str = "default", **rule) -> dict:
    rule = rule or {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]}
    return {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": name, "namespace": namespace},
            "rules": [rule]}


def role_binding(name: str, role_name: str, namespace: str = "default", kind: str = "Role") -> dict:
    return {"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": name, "namespace": namespace},
            "subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}],
            "roleRef": {"kind": kind, "name": role_name, "apiGroup": "rbac.authorization.k8s.io"}}


def violations(err: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    out = []
    for detail in rpc_status.from_call(err).details:
        req = error_details_pb2.BadRequest()
        if detail.Unpack(req):
            out.extend((v.field, v.description) for v in req.field_violations)
    return out


async def test_role_round_trips_as_kubernetes_json(client):
    created = await client.create(from_dict(role("pod-reader-rt")))
    got = await client.get("roles.rbac.authorization.k8s.io", "pod-reader-rt", "default")
    data = to_dict(got)
    assert data["apiVersion"] == RBAC and data["kind"] == "Role"
    assert data["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]}]
    assert got.metadata.uid == created.metadata.uid
    names = [r.metadata.name for r in (await client.list("role", "default")).items]
    assert "pod-reader-rt" in names


async def test_cluster_role_with_colon_name_and_non_resource_urls(client):
    obj = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "system:test-health"},
           "rules": [{"nonResourceURLs": ["/healthz", "/healthz/*"], "verbs": ["get"]}],
           "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}}
    await client.create(from_dict(obj))
    got = to_dict(await client.get("clusterrole", "system:test-health"))
    assert got["rules"] == [{"nonResourceURLs": ["/healthz", "/healthz/*"], "verbs": ["get"]}]
    assert got["aggregationRule"] == {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}
    assert "namespace" not in got["metadata"]


async def test_invalid_role_is_rejected_with_field_paths(client):
    bad = role("bad-role", verbs=[], resources=["pods"])
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(from_dict(bad))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = [f for f, _ in violations(e.value)]
    assert fields == ["rules[0].verbs", "rules[0].apiGroups"]
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.get("role", "bad-role", "default")
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def test_role_binding_role_ref_is_immutable(client):
    binding = await client.create(from_dict(role_binding("read-pods", "pod-reader")))
    binding.subjects[0].name = "john"
    updated = await client.update(binding)
    assert updated.subjects[0].name == "john"
    updated.role_ref.name = "other"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.update(updated)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in violations(e.value)] == ["roleRef"]
    assert "cannot change roleRef" in violations(e.value)[0][1]
    got = await client.get("rolebinding", "read-pods", "default")
    assert got.role_ref.name == "pod-reader" and got.subjects[0].name == "john"


async def test_cluster_role_binding_only_binds_cluster_roles(client):
    obj = role_binding("crb", "pod-reader")
    obj["kind"] = "ClusterRoleBinding"
    del obj["metadata"]["namespace"]
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(from_dict(obj))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(e.value) == [("roleRef.kind", 'Unsupported value: "Role": supported values: "ClusterRole"')]


async def test_delete_role(client):
    await client.create(from_dict(role("short-lived")))
    await client.delete("role", "short-lived", "default")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.get("role", "short-lived", "default")
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def test_namespace_deletion_removes_its_roles_and_bindings(apiserver, client):
    async with running_controllers(apiserver.target, ["namespace"]):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rbac-tmp"}}))
        await client.create(from_dict(role("r", "rbac-tmp")))
        await client.create(from_dict(role_binding("rb", "r", "rbac-tmp")))
        await client.delete("ns", "rbac-tmp")

        async def namespace_gone() -> bool:
            try:
                await client.get("ns", "rbac-tmp")
            except grpc.aio.AioRpcError as e:
                return e.code() == grpc.StatusCode.NOT_FOUND
            return False
        await eventually(namespace_gone, timeout=15, what="namespace removed")
        for kind in ("role", "rolebinding"):
            items, _ = await client.list_all(kind, "rbac-tmp")
            assert items == [], kind
