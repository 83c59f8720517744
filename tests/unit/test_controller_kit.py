"""The controller kit: the fake client's API rules, write_status, enqueue_owner, options and flags."""

from __future__ import annotations

import dataclasses

import grpc
import pytest
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, SharedInformers, build_options
from control.client.convert import from_dict
from control.client.events import EventRecorder
from control.client.fake import FakeClient, owner_reference
from control.client.informer import Store
from control.client.testing import on_fake
from control.controllers.garbagecollector import GarbageCollector
from control.controllers.main import options, parse_args
from control.controllers.manager import CONTROLLERS, ControllerManager, option_fields


def rs(name: str = "web", replicas: int = 1) -> Message:
    return from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                      "metadata": {"name": name, "namespace": "default"},
                      "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}}})


# --- the fake client ----------------------------------------------------------------------

async def test_fake_update_with_a_stale_resource_version_is_aborted() -> None:
    client = FakeClient()
    first = await client.create(rs())
    changed = await client.get("ReplicaSet", "web", "default")
    changed.spec.replicas = 2
    await client.update(changed)
    first.spec.replicas = 3
    for write in (client.update, client.update_status):
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await write(first)
        assert e.value.code() == grpc.StatusCode.ABORTED
        assert "the object has been modified" in e.value.details()


async def test_fake_generation_moves_with_the_spec_and_writes_keep_the_other_half() -> None:
    client = FakeClient()
    created = await client.create(rs())
    assert created.metadata.generation == 1 and created.metadata.uid
    created.status.replicas = 7
    created.metadata.labels["x"] = "y"
    updated = await client.update(created)
    assert (updated.metadata.generation, updated.status.replicas) == (1, 0)  # status is not update's
    updated.spec.replicas = 4
    updated.status.replicas = 2
    status_only = await client.update_status(updated)
    assert (status_only.spec.replicas, status_only.status.replicas) == (1, 2)  # spec is not update_status'
    status_only.spec.replicas = 4
    bumped = await client.update(status_only)
    assert bumped.metadata.generation == 2
    assert (await client.update(bumped)).metadata.resource_version == bumped.metadata.resource_version


async def test_fake_not_found_already_exists_and_generate_name() -> None:
    client = FakeClient(rs())
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(rs())
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.ALREADY_EXISTS,
                                                   'replicasets.apps "web" already exists')
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.get("ReplicaSet", "nope", "default")
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.NOT_FOUND, 'replicasets.apps "nope" not found')
    generated = rs("")
    generated.metadata.generate_name = "web-"
    made = await client.create(generated)
    assert made.metadata.name.startswith("web-") and len(made.metadata.name) == 9


# --- write_status ---------------------------------------------------------------------------

class _Probe(Controller):
    name = ""  # not a real controller: never discovered


async def _probe(client: FakeClient) -> _Probe:
    return _Probe(ControllerContext(client, SharedInformers(client), EventRecorder(client, "probe")))


async def test_write_status_requeues_on_a_conflict_and_ignores_a_gone_object() -> None:
    client = FakeClient()
    probe = await _probe(client)
    stale = await client.create(rs())
    fresh = await client.get("ReplicaSet", "web", "default")
    fresh.spec.replicas = 2
    await client.update(fresh)
    status = type(stale.status)(replicas=5)
    assert await probe.write_status(stale, status) is None
    assert probe.queue.num_requeues("default/web") == 1
    current = await client.get("ReplicaSet", "web", "default")
    written = await probe.write_status(current, status)
    assert written is not None and written.status.replicas == 5
    await client.delete("ReplicaSet", "web", "default")
    assert await probe.write_status(current, status) is None
    probe.queue.shutdown()


# --- enqueue_owner --------------------------------------------------------------------------

async def test_enqueue_owner_wakes_the_controller_owner_and_hands_orphans_over() -> None:
    client = FakeClient()
    probe = await _probe(client)
    owner_a, owner_b = await client.create(rs("a")), await client.create(rs("b"))
    orphans: list[str] = []
    handlers = probe.enqueue_owner("ReplicaSet", orphan=lambda obj: orphans.append(obj.metadata.name))
    pod = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}})
    handlers["on_add"](pod)
    assert orphans == ["p"] and len(probe.queue) == 0
    owned_by_a = type(pod)()
    owned_by_a.CopyFrom(pod)
    owned_by_a.metadata.owner_references.append(owner_reference(owner_a))
    owned_by_b = type(pod)()
    owned_by_b.CopyFrom(pod)
    owned_by_b.metadata.owner_references.append(owner_reference(owner_b))
    handlers["on_update"](owned_by_a, owned_by_b)
    assert {await probe.queue.get(), await probe.queue.get()} == {"default/a", "default/b"}
    not_a_controller = type(pod)()
    not_a_controller.CopyFrom(pod)
    not_a_controller.metadata.owner_references.append(owner_reference(owner_a, controller=False))
    handlers["on_delete"](not_a_controller)
    assert len(probe.queue) == 0
    probe.queue.shutdown()


# --- the manager: controllers, options, flags ----------------------------------------------

def test_the_manager_finds_every_controller_by_its_name() -> None:
    assert {"deployment", "endpoints", "garbagecollector", "namespace", "nodeipam", "nodelifecycle",
            "replicaset"} <= set(CONTROLLERS)
    assert all(cls.name == name for name, cls in CONTROLLERS.items())


def test_every_option_is_a_flag_with_the_options_default() -> None:
    defaults = options(parse_args(["--leader-elect=false"]))
    assert defaults == {name: f.default for name, f in option_fields().items()}
    assert defaults["concurrent_gc_syncs"] == 20 and defaults["node_monitor_grace_period"] == 40.0
    args = parse_args(["--concurrent-gc-syncs", "3", "--node-monitor-grace-period", "1m30s",
                       "--allocate-node-cidrs=false"])
    chosen = options(args)
    assert (chosen["concurrent_gc_syncs"], chosen["node_monitor_grace_period"], chosen["allocate_node_cidrs"]) == \
        (3, 90.0, False)


async def test_options_reach_the_controller_typed_and_set_its_workers() -> None:
    gc_options = build_options(GarbageCollector, {"concurrent_gc_syncs": 3, "node_monitor_period": 1.0})
    assert dataclasses.asdict(gc_options) == {"concurrent_gc_syncs": 3}
    async with on_fake(GarbageCollector, concurrent_gc_syncs=3) as run:
        assert run.controller.workers == 3


def test_the_manager_refuses_unknown_options() -> None:
    with pytest.raises(ValueError, match="unknown controller options: concurrent_gc_sync"):
        ControllerManager(FakeClient(), ["garbagecollector"], options={"concurrent_gc_sync": 1})


async def test_enqueue_owner_keys_a_cluster_scoped_owner_by_name() -> None:
    client = FakeClient()
    probe = await _probe(client)
    node = await client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}))
    cm = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}})
    cm.metadata.owner_references.append(owner_reference(node))
    probe.enqueue_owner("Node")["on_add"](cm)
    assert await probe.queue.get() == "n1"
    probe.queue.shutdown()


async def test_fake_deletes_a_pod_on_a_node_gracefully_and_finalizers_hold_objects() -> None:
    pod = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                     "spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 10}})
    held = rs()
    held.metadata.finalizers.append("example.com/hold")
    client = FakeClient(pod, held)
    marked = await client.delete("Pod", "p", "default")
    assert marked.metadata.deletion_grace_period_seconds == 10 and marked.metadata.HasField("deletion_timestamp")
    await client.delete("Pod", "p", "default", grace_period_seconds=0)  # the kubelet, once stopped
    await client.delete("ReplicaSet", "web", "default")
    assert client.objects("Pod") == [] and len(client.objects("ReplicaSet")) == 1
    current = await client.get("ReplicaSet", "web", "default")
    del current.metadata.finalizers[:]
    await client.update(current)
    assert client.objects("ReplicaSet") == []


def test_store_add_indexers_indexes_what_is_stored_and_refuses_a_clash() -> None:
    store = Store({"namespace": lambda o: [o.metadata.namespace]})
    store._put("default/a", rs("a"))
    store.add_indexers({"app": lambda o: [o.spec.selector.match_labels["app"]]})
    store._put("default/b", rs("b"))
    assert [o.metadata.name for o in store.by_index("app", "a")] == ["a"]
    assert [o.metadata.name for o in store.by_index("app", "b")] == ["b"]
    with pytest.raises(ValueError, match="indexer conflict: namespace"):
        store.add_indexers({"namespace": lambda o: []})
