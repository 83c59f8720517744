"""The apiserver's verbs against a real etcd: create, get, update, delete semantics."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from control.client.convert import from_dict
from control.client.kinds import KINDS


def configmap(name: str, namespace: str = "default", **data: str):
    return from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": name, "namespace": namespace}, "data": data})


def pod(name: str, image: str = "busybox", args=None, **spec):
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                      "spec": {"containers": [{"name": "c", "image": image}], **spec}})


def bad_request(err: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(err)
    out = []
    for detail in status.details:
        req = error_details_pb2.BadRequest()
        if detail.Unpack(req):
            out.extend((v.field, v.description) for v in req.field_violations)
    return out


async def test_create_sets_server_fields(client):
    created = await client.create(configmap("cm-a", x="1"))
    assert created.metadata.uid
    assert created.metadata.creation_timestamp.seconds > 0
    assert int(created.metadata.resource_version) > 0
    got = await client.get("cm", "cm-a", "default")
    assert got.data["x"] == "1"
    assert got.metadata.resource_version == created.metadata.resource_version


async def test_create_existing_fails_already_exists(client):
    await client.create(configmap("dup"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(configmap("dup"))
    assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert 'configmaps "dup" already exists' in e.value.details()


async def test_generate_name(client):
    obj = configmap("")
    obj.metadata.generate_name = "gen-"
    a = await client.create(obj)
    b = await client.create(obj)
    assert a.metadata.name.startswith("gen-") and len(a.metadata.name) == 9
    assert a.metadata.name != b.metadata.name


async def test_namespace_must_exist(client):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(configmap("x", namespace="nowhere"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert 'namespaces "nowhere" not found' in e.value.details()


async def test_stale_update_is_aborted(client):
    created = await client.create(configmap("cas", v="1"))
    first = configmap("cas", v="2")
    first.metadata.resource_version = created.metadata.resource_version
    updated = await client.update(first)
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    stale = configmap("cas", v="3")
    stale.metadata.resource_version = created.metadata.resource_version
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.update(stale)
    assert e.value.code() == grpc.StatusCode.ABORTED
    assert (await client.get("cm", "cas", "default")).data["v"] == "2"


async def test_concurrent_writers_one_wins_per_revision(client):
    created = await client.create(configmap("race", n="0"))
    rv = created.metadata.resource_version

    async def write(i: int):
        obj = configmap("race", n=str(i))
        obj.metadata.resource_version = rv
        try:
            await client.update(obj)
            return True
        except grpc.aio.AioRpcError as e:
            assert e.code() == grpc.StatusCode.ABORTED
            return False

    results = await asyncio.gather(*(write(i) for i in range(1, 11)))
    assert results.count(True) == 1


async def test_generation_bumps_on_spec_change_only(client):
    dep = from_dict({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gen"},
                     "spec": {"selector": {"matchLabels": {"a": "b"}},
                              "template": {"metadata": {"labels": {"a": "b"}},
                                           "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    created = await client.create(dep)
    assert created.metadata.generation == 1
    created.metadata.labels["new"] = "label"
    relabeled = await client.update(created)
    assert relabeled.metadata.generation == 1
    relabeled.spec.replicas = 5
    rescaled = await client.update(relabeled)
    assert rescaled.metadata.generation == 2


async def test_update_ignores_status_and_update_status_ignores_spec(client):
    created = await client.create(pod("st"))
    created.status.phase = "Running"
    created.spec.active_deadline_seconds = 100
    after = await client.update(created)
    assert after.status.phase == "Pending"
    after.status.phase = "Running"
    after.spec.containers[0].image = "other"
    after2 = await client.update_status(after)
    assert after2.status.phase == "Running"
    assert after2.spec.containers[0].image == "busybox"


async def test_validation_error_names_field_path(client):
    dep = from_dict({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
                     "spec": {"selector": {"matchLabels": {"a": "b"}},
                              "template": {"metadata": {"labels": {"a": "b"}},
                                           "spec": {"containers": [{"name": "c"}]}}}})
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(dep)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = [f for f, _ in bad_request(e.value)]
    assert "spec.template.spec.containers[0].image" in fields
    with pytest.raises(grpc.aio.AioRpcError):
        await client.get("deploy", "bad", "default")


async def test_too_large_object_rejected_and_not_written(client):
    big = pod("big", args=None)
    big.spec.containers[0].args.extend(["x" * 1024] * 1600)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(big)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "too large" in e.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.get("pod", "big", "default")
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def test_wrong_kind_in_request_rejected(client):
    obj = configmap("wk")
    obj.kind = "Secret"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(obj)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_finalizers_hold_deletion_until_removed(client):
    obj = configmap("fin")
    obj.metadata.finalizers.append("example.com/hold")
    await client.create(obj)
    marked = await client.delete("cm", "fin", "default")
    assert marked.metadata.HasField("deletion_timestamp")
    still = await client.get("cm", "fin", "default")
    assert list(still.metadata.finalizers) == ["example.com/hold"]
    del still.metadata.finalizers[:]
    await client.update(still)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.get("cm", "fin", "default")
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


async def test_orphan_and_foreground_add_finalizers(client):
    for name, policy, finalizer in (("orph", "Orphan", "orphan"), ("fore", "Foreground", "foregroundDeletion")):
        await client.create(configmap(name))
        marked = await client.delete("cm", name, "default", propagation_policy=policy)
        assert finalizer in marked.metadata.finalizers
        assert marked.metadata.HasField("deletion_timestamp")


async def test_delete_preconditions(client):
    created = await client.create(configmap("pre"))
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.delete("cm", "pre", "default", uid="not-the-uid")
    assert e.value.code() == grpc.StatusCode.ABORTED
    await client.delete("cm", "pre", "default", uid=created.metadata.uid)


async def test_graceful_pod_deletion_and_bind(client):
    await client.create(pod("gp"))
    bound = await client.bind("default", "gp", "node-a")
    assert bound.spec.node_name == "node-a"
    assert any(c.type == "PodScheduled" and c.status == "True" for c in bound.status.conditions)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.bind("default", "gp", "node-b")
    assert e.value.code() == grpc.StatusCode.ABORTED
    marked = await client.delete("pod", "gp", "default")
    assert marked.metadata.deletion_grace_period_seconds == 30
    assert (await client.get("pod", "gp", "default")).metadata.HasField("deletion_timestamp")
    await client.delete("pod", "gp", "default", grace_period_seconds=0)
    with pytest.raises(grpc.aio.AioRpcError):
        await client.get("pod", "gp", "default")


async def test_unscheduled_pod_deleted_at_once(client):
    await client.create(pod("ug"))
    await client.delete("pod", "ug", "default")
    with pytest.raises(grpc.aio.AioRpcError):
        await client.get("pod", "ug", "default")


async def test_namespace_deletion_marks_terminating(client):
    ns = KINDS["Namespace"].new()
    ns.metadata.name = "doomed"
    created = await client.create(ns)
    assert created.status.phase == "Active"
    assert list(created.spec.finalizers) == ["kubernetes"]
    marked = await client.delete("ns", "doomed")
    assert marked.status.phase == "Terminating"
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(configmap("late", namespace="doomed"))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    del marked.spec.finalizers[:]
    await client.update(marked)
    with pytest.raises(grpc.aio.AioRpcError):
        await client.get("ns", "doomed")


async def test_dry_run_writes_nothing(client):
    obj = configmap("dry")
    result = await client.create(obj, dry_run=True)
    assert result.metadata.uid
    with pytest.raises(grpc.aio.AioRpcError):
        await client.get("cm", "dry", "default")


async def test_default_namespaces_exist(client):
    items, _ = await client.list_all("ns")
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= {n.metadata.name for n in items}
