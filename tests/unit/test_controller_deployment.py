"""The Deployment controller's reconcile(key) on the fake client."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.controllerref import controller_ref
from control.client.convert import from_dict
from control.client.fake import owner_reference
from control.client.informer import copy_of
from control.client.testing import on_fake
from control.client.wellknown import ANNOTATION_REVISION, ANNOTATION_REVISION_HISTORY, LABEL_POD_TEMPLATE_HASH
from control.controllers import deployment_rollout as r
from control.controllers.deployment import DeploymentController


def deployment(replicas: int = 3, image: str = "busybox:1", strategy: str = "RollingUpdate") -> Message:
    return from_dict({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": "web", "namespace": "default", "uid": "uid-web"},
                      "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                               "strategy": {"type": strategy},
                               "template": {"metadata": {"labels": {"app": "web"}},
                                            "spec": {"containers": [{"name": "c", "image": image}]}}}})


def owned_replicasets(client) -> list[Message]:
    return sorted((rs for rs in client.objects("ReplicaSet", "default")
                   if (ref := controller_ref(rs)) is not None and ref.uid == "uid-web"),
                  key=lambda rs: int(rs.metadata.annotations[ANNOTATION_REVISION]))


async def set_image(client, image: str) -> None:
    d = await client.get("Deployment", "web", "default")
    d.spec.template.spec.containers[0].image = image
    await client.update(d)


async def test_creates_a_replicaset_named_after_the_template_hash() -> None:
    async with on_fake(DeploymentController, deployment(replicas=3)) as run:
        await run.reconcile("default/web")
        [rs] = owned_replicasets(run.client)
        pod_hash = rs.spec.template.metadata.labels[LABEL_POD_TEMPLATE_HASH]
        assert rs.metadata.name == f"web-{pod_hash}"
        assert rs.spec.selector.match_labels[LABEL_POD_TEMPLATE_HASH] == pod_hash
        assert rs.spec.replicas == 3 and rs.metadata.annotations[ANNOTATION_REVISION] == "1"
        d = await run.client.get("Deployment", "web", "default")
        assert d.metadata.annotations[ANNOTATION_REVISION] == "1"


async def test_a_template_change_makes_a_new_replicaset_within_max_surge() -> None:
    async with on_fake(DeploymentController, deployment(replicas=4)) as run:
        await run.reconcile("default/web")
        await set_image(run.client, "busybox:2")
        await run.reconcile("default/web")
        old, new = owned_replicasets(run.client)
        assert new.spec.template.spec.containers[0].image == "busybox:2"
        assert new.metadata.annotations[ANNOTATION_REVISION] == "2"
        surge, _ = r.surge_and_unavailable(await run.client.get("Deployment", "web", "default"))
        assert old.spec.replicas + new.spec.replicas <= 4 + surge
        assert new.spec.replicas == surge  # the old pods are not yet available: only the surge


async def test_recreate_scales_the_old_replicaset_to_zero_first() -> None:
    async with on_fake(DeploymentController, deployment(replicas=2, strategy="Recreate")) as run:
        await run.reconcile("default/web")
        await set_image(run.client, "busybox:2")
        await run.reconcile("default/web")
        [old] = owned_replicasets(run.client)
        assert old.spec.replicas == 0  # and no new ReplicaSet while old pods may still run


async def test_scaling_resizes_the_only_replicaset() -> None:
    async with on_fake(DeploymentController, deployment(replicas=2)) as run:
        await run.reconcile("default/web")
        d = await run.client.get("Deployment", "web", "default")
        d.spec.replicas = 5
        await run.client.update(d)
        await run.reconcile("default/web")
        [rs] = owned_replicasets(run.client)
        assert rs.spec.replicas == 5


async def test_adopts_a_matching_orphan_replicaset_with_the_same_template() -> None:
    d = deployment(replicas=1)
    orphan = from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "metadata": {"name": "web-old", "namespace": "default", "labels": {"app": "web"},
                                     "annotations": {ANNOTATION_REVISION: "1"}},
                        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}}})
    orphan.spec.template.CopyFrom(d.spec.template)
    async with on_fake(DeploymentController, d, orphan) as run:
        await run.reconcile("default/web")
        [rs] = owned_replicasets(run.client)
        assert rs.metadata.name == "web-old"


async def test_status_reports_replicas_of_its_replicasets() -> None:
    async with on_fake(DeploymentController, deployment(replicas=2)) as run:
        await run.reconcile("default/web")
        [rs] = owned_replicasets(run.client)
        rs.status.replicas = rs.status.ready_replicas = rs.status.available_replicas = 2
        await run.client.update_status(rs)
        await run.reconcile("default/web")
        status = (await run.client.get("Deployment", "web", "default")).status
        assert (status.replicas, status.updated_replicas, status.available_replicas) == (2, 2, 2)
        available = next(c for c in status.conditions if c.type == "Available")
        assert available.status == "True"


async def test_a_replicaset_change_enqueues_its_deployment() -> None:
    d = deployment()
    async with on_fake(DeploymentController, d) as run:
        await run.synced()
        run.forget_queued()
        rs = from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "metadata": {"name": "x", "namespace": "default"},
                        "spec": {"selector": {"matchLabels": {"other": "x"}}}})
        rs.metadata.owner_references.append(owner_reference(await run.client.get("Deployment", "web", "default")))
        await run.client.create(rs)
        await run.synced()
        assert run.queued() == {"default/web"}


async def test_set_deployment_condition_keeps_transition_time_for_the_same_status() -> None:
    status = copy_of(deployment().status)
    first = r.new_condition("Progressing", "True", r.NEW_RS_CREATED, "a")
    first.last_transition_time.FromSeconds(100)
    r.set_deployment_condition(status, first)
    r.set_deployment_condition(status, r.new_condition("Progressing", "True", r.RS_UPDATED, "b"))
    [cond] = status.conditions
    assert (cond.reason, cond.last_transition_time.seconds) == (r.RS_UPDATED, 100)
    r.set_deployment_condition(status, r.new_condition("Progressing", "False", r.TIMED_OUT, "c"))
    assert status.conditions[0].last_transition_time.seconds != 100


async def test_a_paused_deployment_rolls_nothing_out() -> None:
    d = deployment(replicas=2)
    async with on_fake(DeploymentController, d) as run:
        await run.reconcile("default/web")
        current = await run.client.get("Deployment", "web", "default")
        current.spec.paused = True
        current.spec.template.spec.containers[0].image = "busybox:2"
        await run.client.update(current)
        await run.reconcile("default/web")
        assert len(owned_replicasets(run.client)) == 1


async def test_rolling_back_reuses_the_old_replicaset_with_a_new_revision() -> None:
    async with on_fake(DeploymentController, deployment(replicas=1)) as run:
        await run.reconcile("default/web")
        await set_image(run.client, "busybox:2")
        await run.reconcile("default/web")
        await set_image(run.client, "busybox:1")
        await run.reconcile("default/web")
        by_image = {rs.spec.template.spec.containers[0].image: rs for rs in owned_replicasets(run.client)}
        assert set(by_image) == {"busybox:1", "busybox:2"}
        first = by_image["busybox:1"].metadata.annotations
        assert (first[ANNOTATION_REVISION], first[ANNOTATION_REVISION_HISTORY]) == ("3", "1")
