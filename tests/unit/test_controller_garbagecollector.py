"""The garbage collector's reconcile(key) on the fake client."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.convert import from_dict
from control.client.fake import owner_reference
from control.client.kinds import KINDS
from control.client.testing import on_fake
from control.client.wellknown import FINALIZER_FOREGROUND, FINALIZER_ORPHAN
from control.controllers.garbagecollector import MONITORED, GarbageCollector


def configmap(name: str, *owners: Message, namespace: str = "default") -> Message:
    cm = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}})
    cm.metadata.owner_references.extend(owner_reference(o, controller=False) for o in owners)
    return cm


def names(client, kind: str) -> set[str]:
    return {o.metadata.name for o in client.objects(kind)}


def test_every_kind_of_the_table_is_monitored() -> None:
    assert {k.kind for k in MONITORED} == set(KINDS)


async def test_dependents_of_a_deleted_owner_are_deleted() -> None:
    async with on_fake(GarbageCollector) as run:
        owner = await run.client.create(configmap("owner"))
        await run.client.create(configmap("dep", owner))
        await run.client.delete("ConfigMap", "owner", "default")
        await run.reconcile("ConfigMap/default/dep")
        assert names(run.client, "ConfigMap") == set()


async def test_a_dependent_with_a_live_owner_stays() -> None:
    async with on_fake(GarbageCollector) as run:
        gone = await run.client.create(configmap("gone"))
        alive = await run.client.create(configmap("alive"))
        await run.client.create(configmap("dep", gone, alive))
        await run.client.delete("ConfigMap", "gone", "default")
        await run.reconcile("ConfigMap/default/dep")
        assert names(run.client, "ConfigMap") == {"alive", "dep"}


async def test_a_namesake_with_another_uid_is_not_the_owner() -> None:
    async with on_fake(GarbageCollector) as run:
        owner = await run.client.create(configmap("owner"))
        await run.client.create(configmap("dep", owner))
        await run.client.delete("ConfigMap", "owner", "default")
        await run.client.create(configmap("owner"))
        await run.reconcile("ConfigMap/default/dep")
        assert names(run.client, "ConfigMap") == {"owner"}


async def test_a_cluster_scoped_owner_collects_namespaced_dependents() -> None:
    async with on_fake(GarbageCollector) as run:
        node = await run.client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}))
        await run.client.create(configmap("dep", node, namespace="other"))
        await run.client.delete("Node", "n1")
        await run.synced()
        assert run.queued() == {"ConfigMap/other/dep"}
        await run.reconcile("ConfigMap/other/dep")
        assert names(run.client, "ConfigMap") == set()


async def test_orphan_deletion_strips_references_then_the_finalizer() -> None:
    async with on_fake(GarbageCollector) as run:
        owner = await run.client.create(configmap("owner"))
        await run.client.create(configmap("dep", owner))
        await run.client.delete("ConfigMap", "owner", "default", propagation_policy="Orphan")
        assert FINALIZER_ORPHAN in (await run.client.get("ConfigMap", "owner", "default")).metadata.finalizers
        await run.reconcile("ConfigMap/default/owner")
        dep = await run.client.get("ConfigMap", "dep", "default")
        assert list(dep.metadata.owner_references) == []
        assert names(run.client, "ConfigMap") == {"dep"}  # the owner went with its last finalizer


async def test_foreground_deletion_deletes_dependents_before_the_owner() -> None:
    async with on_fake(GarbageCollector) as run:
        owner = await run.client.create(configmap("owner"))
        dep = configmap("dep")
        dep.metadata.owner_references.append(owner_reference(owner))  # blockOwnerDeletion
        await run.client.create(dep)
        await run.client.delete("ConfigMap", "owner", "default", propagation_policy="Foreground")
        assert FINALIZER_FOREGROUND in (await run.client.get("ConfigMap", "owner", "default")).metadata.finalizers
        await run.reconcile("ConfigMap/default/owner")
        dep = await run.client.get("ConfigMap", "dep", "default")
        assert dep.metadata.HasField("deletion_timestamp")  # in the foreground too
        assert FINALIZER_FOREGROUND in (await run.client.get("ConfigMap", "owner", "default")).metadata.finalizers
        await run.reconcile("ConfigMap/default/dep")
        assert names(run.client, "ConfigMap") == {"owner"}  # the dependent went first
        await run.reconcile("ConfigMap/default/owner")
        assert names(run.client, "ConfigMap") == set()
