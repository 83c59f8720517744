"""The Namespace controller's reconcile(key) on the fake client."""

from __future__ import annotations

from control.client.convert import from_dict
from control.client.kinds import KINDS
from control.client.testing import on_fake
from control.controllers.namespace import NAMESPACED, NamespaceController


def namespace(name: str = "team") -> object:
    return from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def configmap(name: str, ns: str = "team", finalizers: list[str] | None = None) -> object:
    return from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": name, "namespace": ns, "finalizers": finalizers or []}})


def pod(name: str, ns: str = "team") -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                      "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}})


def test_every_namespaced_kind_is_emptied_pods_first() -> None:
    assert {k.kind for k in NAMESPACED} == {k.kind for k in KINDS.values() if k.namespaced}
    assert NAMESPACED[0].kind == "Pod"


async def test_deleting_a_namespace_empties_it_then_finalizes_it() -> None:
    async with on_fake(NamespaceController) as run:
        await run.client.create(namespace())
        for obj in (pod("p"), configmap("c"), configmap("elsewhere", ns="default")):
            await run.client.create(obj)
        await run.client.delete("Namespace", "team")
        ns = await run.client.get("Namespace", "team")
        assert ns.status.phase == "Terminating" and list(ns.spec.finalizers) == ["kubernetes"]
        await run.reconcile("team")
        assert run.client.objects("Pod", "team") == [] and run.client.objects("ConfigMap", "team") == []
        assert [c.metadata.name for c in run.client.objects("ConfigMap")] == ["elsewhere"]
        assert run.client.objects("Namespace")  # finalized only once a fresh look finds it empty
        await run.reconcile("team")
        assert run.client.objects("Namespace") == []


async def test_the_namespace_waits_for_content_with_finalizers() -> None:
    async with on_fake(NamespaceController) as run:
        await run.client.create(namespace())
        await run.client.create(configmap("held", finalizers=["example.com/hold"]))
        await run.client.delete("Namespace", "team")
        await run.reconcile("team")
        held = await run.client.get("ConfigMap", "held", "team")
        assert held.metadata.HasField("deletion_timestamp")
        assert [n.metadata.name for n in run.client.objects("Namespace")] == ["team"]
        del held.metadata.finalizers[:]
        await run.client.update(held)
        await run.reconcile("team")
        assert run.client.objects("ConfigMap") == [] and run.client.objects("Namespace") == []


async def test_an_active_namespace_is_left_alone() -> None:
    async with on_fake(NamespaceController, namespace(), configmap("c")) as run:
        await run.reconcile("team")
        assert [c.metadata.name for c in run.client.objects("ConfigMap")] == ["c"]
