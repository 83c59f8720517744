"""The ReplicaSet controller's reconcile(key) on the fake client."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.controllerref import controller_ref
from control.client.convert import from_dict
from control.client.fake import owner_reference
from control.client.testing import on_fake
from control.client.wellknown import is_being_deleted
from control.controllers.replicaset import ReplicaSetController


def replicaset(name: str = "web", replicas: int = 3, labels: dict | None = None) -> Message:
    labels = labels or {"app": name}
    return from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                      "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
                      "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                               "template": {"metadata": {"labels": labels},
                                            "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}})


def pod(name: str, labels: dict, owner: Message | None = None, ready: bool = False, node: str = "") -> Message:
    body: dict = {"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": name, "namespace": "default", "labels": labels},
                  "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox:1"}]},
                  "status": {"phase": "Running" if node else "Pending",
                             "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
    obj = from_dict(body)
    if owner is not None:
        obj.metadata.owner_references.append(owner_reference(owner))
    return obj


def live(client, uid: str = "uid-web") -> list[Message]:
    return [p for p in client.objects("Pod", "default")
            if (ref := controller_ref(p)) is not None and ref.uid == uid and not is_being_deleted(p)]


async def test_creates_pods_up_to_replicas_owned_by_the_replicaset() -> None:
    async with on_fake(ReplicaSetController, replicaset(replicas=3)) as run:
        await run.reconcile("default/web")
        pods = live(run.client)
        assert len(pods) == 3
        assert all(p.metadata.labels["app"] == "web" and p.metadata.name.startswith("web-") for p in pods)
        assert {"SuccessfulCreate"} == {reason for _, reason, _ in await run.events()}


async def test_a_second_reconcile_before_the_pods_are_seen_creates_nothing_more() -> None:
    async with on_fake(ReplicaSetController, replicaset(replicas=2)) as run:
        await run.controller.reconcile("default/web")  # no waiting for the informer in between
        await run.controller.reconcile("default/web")
        assert len(live(run.client)) == 2


async def test_deletes_surplus_pods_unscheduled_first() -> None:
    rs = replicaset(replicas=1)
    pods = [pod("on-node", {"app": "web"}, rs, ready=True, node="n1"), pod("pending", {"app": "web"}, rs)]
    async with on_fake(ReplicaSetController, rs, *pods) as run:
        await run.reconcile("default/web")
        assert [p.metadata.name for p in live(run.client)] == ["on-node"]


async def test_adopts_matching_orphans_instead_of_creating() -> None:
    async with on_fake(ReplicaSetController, replicaset(replicas=2), pod("orphan", {"app": "web"}),
                       pod("other", {"app": "db"})) as run:
        await run.reconcile("default/web")
        owned = live(run.client)
        assert len(owned) == 2 and "orphan" in {p.metadata.name for p in owned}
        other = next(p for p in run.client.objects("Pod") if p.metadata.name == "other")
        assert controller_ref(other) is None


async def test_releases_owned_pods_whose_labels_stopped_matching() -> None:
    rs = replicaset(replicas=1)
    async with on_fake(ReplicaSetController, rs, pod("moved", {"app": "other"}, rs)) as run:
        await run.reconcile("default/web")
        moved = next(p for p in run.client.objects("Pod") if p.metadata.name == "moved")
        assert controller_ref(moved) is None
        assert len(live(run.client)) == 1  # a replacement


async def test_status_counts_replicas_ready_and_available() -> None:
    rs = replicaset(replicas=2)
    pods = [pod("a", {"app": "web"}, rs, ready=True, node="n1"), pod("b", {"app": "web"}, rs, node="n1")]
    async with on_fake(ReplicaSetController, rs, *pods) as run:
        await run.reconcile("default/web")
        status = (await run.client.get("ReplicaSet", "web", "default")).status
        assert (status.replicas, status.ready_replicas, status.available_replicas) == (2, 1, 1)
        assert status.observed_generation == 1


async def test_a_pod_change_enqueues_its_owner() -> None:
    rs = replicaset(replicas=1)
    async with on_fake(ReplicaSetController, rs, pod("a", {"app": "web"}, rs)) as run:
        await run.synced()
        run.forget_queued()
        await run.client.delete("Pod", "a", "default")
        await run.synced()
        assert run.queued() == {"default/web"}


async def test_a_deleted_replicaset_is_left_alone() -> None:
    async with on_fake(ReplicaSetController) as run:
        await run.reconcile("default/gone")
        assert run.client.objects("Pod") == []


async def test_a_terminating_pod_is_replaced_at_once() -> None:
    rs = replicaset(replicas=1)
    async with on_fake(ReplicaSetController, rs, pod("a", {"app": "web"}, rs, ready=True, node="n1")) as run:
        await run.client.delete("Pod", "a", "default")  # on a node: it stops gracefully
        assert is_being_deleted(await run.client.get("Pod", "a", "default"))
        await run.reconcile("default/web")
        assert [p.metadata.name for p in live(run.client)] != ["a"] and len(live(run.client)) == 1
