"""The StatefulSet controller's reconcile(key) on the fake client."""

from __future__ import annotations

import time

import pytest
from google.protobuf.message import Message

from control.apiserver.registry import apply_defaults
from control.client.convert import from_dict
from control.client.informer import copy_of
from control.client.testing import on_fake
from control.client.wellknown import LABEL_CONTROLLER_REVISION_HASH, is_being_deleted
from control.controllers import statefulset_util as u
from control.controllers.statefulset import StatefulSetController


def statefulset(replicas: int = 3, policy: str = "OrderedReady", strategy: dict | None = None,
                start: int | None = None, image: str = "busybox:1") -> Message:
    spec: dict = {"replicas": replicas, "serviceName": "web", "podManagementPolicy": policy,
                  "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"containers": [{"name": "c", "image": image}]}}}
    if strategy is not None:
        spec["updateStrategy"] = strategy
    if start is not None:
        spec["ordinals"] = {"start": start}
    sts = from_dict({"apiVersion": "apps/v1", "kind": "StatefulSet",
                     "metadata": {"name": "web", "namespace": "default", "uid": "uid-web", "generation": 1},
                     "spec": spec})
    apply_defaults(sts)
    return sts


def names(client) -> list[str]:
    pods = [p for p in client.objects("Pod", "default") if not is_being_deleted(p)]
    return sorted(p.metadata.name for p in pods)


def get_pod(client, name: str) -> Message:
    return next(p for p in client.objects("Pod", "default") if p.metadata.name == name)


async def mark_ready(client, name: str) -> None:
    """Plays scheduler and kubelet for one pod: bound, Running and Ready."""
    pod = get_pod(client, name)
    pod.spec.node_name = "n1"
    pod = copy_of(await client.update(pod))
    pod.status.phase = "Running"
    del pod.status.conditions[:]
    pod.status.conditions.add(type="Ready", status="True").last_transition_time.FromSeconds(int(time.time()))
    await client.update_status(pod)


async def finish_deletions(client) -> None:
    for pod in client.objects("Pod", "default"):
        if is_being_deleted(pod):
            await client.delete("Pod", pod.metadata.name, "default", grace_period_seconds=0)


async def test_ordered_ready_starts_one_ordinal_after_the_previous_is_ready() -> None:
    async with on_fake(StatefulSetController, statefulset(replicas=3)) as run:
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0"]
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0"]  # web-0 is not ready yet
        pod = get_pod(run.client, "web-0")
        assert (pod.spec.hostname, pod.spec.subdomain) == ("web-0", "web")
        assert pod.metadata.labels["statefulset.kubernetes.io/pod-name"] == "web-0"
        assert pod.metadata.labels["apps.kubernetes.io/pod-index"] == "0"
        [revision] = run.client.objects("ControllerRevision", "default")
        assert pod.metadata.labels[LABEL_CONTROLLER_REVISION_HASH] == revision.metadata.name
        assert revision.metadata.name.startswith("web-") and revision.revision == 1
        await mark_ready(run.client, "web-0")
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0", "web-1"]
        await mark_ready(run.client, "web-1")
        await run.reconcile("default/web")
        await mark_ready(run.client, "web-2")
        await run.reconcile("default/web")
        sts = run.client.objects("StatefulSet", "default")[0]
        s = sts.status
        assert (s.replicas, s.ready_replicas, s.current_replicas, s.updated_replicas, s.available_replicas) == \
            (3, 3, 3, 3, 3)
        assert s.current_revision == s.update_revision == revision.metadata.name


async def test_parallel_creates_every_ordinal_at_once_from_the_start_ordinal() -> None:
    async with on_fake(StatefulSetController, statefulset(replicas=3, policy="Parallel", start=5)) as run:
        await run.reconcile("default/web")
        assert names(run.client) == ["web-5", "web-6", "web-7"]


async def _ready_set(run, replicas: int) -> None:
    for i in range(replicas):
        await run.reconcile("default/web")
        await mark_ready(run.client, f"web-{i}")
    await run.reconcile("default/web")


async def _update_spec(run, change) -> None:
    sts = copy_of(run.client.objects("StatefulSet", "default")[0])
    change(sts)
    await run.client.update(sts)


async def test_scale_down_removes_the_highest_ordinal_first_one_at_a_time() -> None:
    async with on_fake(StatefulSetController, statefulset(replicas=3)) as run:
        await _ready_set(run, 3)
        await _update_spec(run, lambda s: setattr(s.spec, "replicas", 1))
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0", "web-1"]
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0", "web-1"]  # web-2 is still terminating
        await finish_deletions(run.client)
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0"]


async def test_rolling_update_goes_in_reverse_ordinal_order_down_to_the_partition() -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}
    async with on_fake(StatefulSetController, statefulset(replicas=3, strategy=strategy)) as run:
        await _ready_set(run, 3)
        old = get_pod(run.client, "web-0").metadata.labels[LABEL_CONTROLLER_REVISION_HASH]
        await _update_spec(run, lambda s: setattr(s.spec.template.spec.containers[0], "image", "busybox:2"))
        deleted = []
        for _ in range(8):
            await run.reconcile("default/web")
            gone = [p.metadata.name for p in run.client.objects("Pod", "default") if is_being_deleted(p)]
            deleted += [n for n in gone if n not in deleted]
            await finish_deletions(run.client)
            await run.reconcile("default/web")
            for name in names(run.client):
                if get_pod(run.client, name).status.phase != "Running":
                    await mark_ready(run.client, name)
        assert deleted == ["web-2", "web-1"]
        images = {n: get_pod(run.client, n).spec.containers[0].image for n in names(run.client)}
        assert images == {"web-0": "busybox:1", "web-1": "busybox:2", "web-2": "busybox:2"}
        assert get_pod(run.client, "web-0").metadata.labels[LABEL_CONTROLLER_REVISION_HASH] == old
        s = run.client.objects("StatefulSet", "default")[0].status
        assert (s.current_replicas, s.updated_replicas) == (1, 2) and s.current_revision == old
        assert s.update_revision != old


async def test_on_delete_recreates_a_deleted_pod_at_the_update_revision() -> None:
    async with on_fake(StatefulSetController, statefulset(replicas=2, strategy={"type": "OnDelete"})) as run:
        await _ready_set(run, 2)
        await _update_spec(run, lambda s: setattr(s.spec.template.spec.containers[0], "image", "busybox:2"))
        await run.reconcile("default/web")
        assert {get_pod(run.client, n).spec.containers[0].image for n in names(run.client)} == {"busybox:1"}
        await run.client.delete("Pod", "web-1", "default", grace_period_seconds=0)
        await run.reconcile("default/web")
        assert get_pod(run.client, "web-1").spec.containers[0].image == "busybox:2"


async def test_a_failed_pod_is_recreated() -> None:
    async with on_fake(StatefulSetController, statefulset(replicas=1)) as run:
        await _ready_set(run, 1)
        pod = copy_of(get_pod(run.client, "web-0"))
        pod.status.phase = "Failed"
        await run.client.update_status(pod)
        await run.reconcile("default/web")
        await finish_deletions(run.client)
        await run.reconcile("default/web")
        fresh = get_pod(run.client, "web-0")
        assert fresh.metadata.uid != pod.metadata.uid and fresh.status.phase != "Failed"
        assert "RecreatingFailedPod" in {reason for _, reason, _ in await run.events()}


async def test_min_ready_seconds_holds_the_next_ordinal_until_available() -> None:
    sts = statefulset(replicas=2)
    sts.spec.min_ready_seconds = 3600
    async with on_fake(StatefulSetController, sts) as run:
        await run.reconcile("default/web")
        await mark_ready(run.client, "web-0")
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0"]  # ready, but not for minReadySeconds yet
        pod = copy_of(get_pod(run.client, "web-0"))
        pod.status.conditions[0].last_transition_time.FromSeconds(int(time.time()) - 3601)
        await run.client.update_status(pod)
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0", "web-1"]


async def test_max_unavailable_replaces_several_pods_at_once_from_the_top() -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}
    async with on_fake(StatefulSetController, statefulset(replicas=4, strategy=strategy)) as run:
        await _ready_set(run, 4)
        await _update_spec(run, lambda s: setattr(s.spec.template.spec.containers[0], "image", "busybox:2"))
        await run.reconcile("default/web")
        terminating = sorted(p.metadata.name for p in run.client.objects("Pod", "default") if is_being_deleted(p))
        assert terminating == ["web-2", "web-3"]


def test_claims_are_named_per_template_and_ordinal_and_labelled_with_the_selector() -> None:
    sts = from_dict({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "uid": "u1"},
                     "spec": {"selector": {"matchLabels": {"app": "web"}},
                              "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"},
                              "volumeClaimTemplates": [{"metadata": {"name": "www", "labels": {"tier": "data"}},
                                                        "spec": {"accessModes": ["ReadWriteOnce"]}}]}})
    claim = u.new_claim(sts, sts.spec.volume_claim_templates[0], 2)
    assert (claim.kind, claim.metadata.name) == ("PersistentVolumeClaim", "www-web-2")
    assert dict(claim.metadata.labels) == {"tier": "data", "app": "web"}
    assert [(o.kind, o.name, o.controller) for o in claim.metadata.owner_references] == [("StatefulSet", "web", False)]


def with_claim_template(sts: Message) -> Message:
    claim = sts.spec.volume_claim_templates.add()
    claim.metadata.name = "www"
    claim.spec.access_modes.append("ReadWriteOnce")
    claim.spec.resources.requests["storage"] = "1Gi"
    return sts


async def test_claims_come_before_the_pod() -> None:
    async with on_fake(StatefulSetController, with_claim_template(statefulset(replicas=1))) as run:
        await run.reconcile("default/web")
        pod = get_pod(run.client, "web-0")
        [volume] = [v for v in pod.spec.volumes if v.name == "www"]
        assert volume.persistent_volume_claim.claim_name == "www-web-0"
        [made] = run.client.objects("PersistentVolumeClaim", "default")
        assert made.metadata.name == "www-web-0" and made.metadata.labels["app"] == "web"
        assert made.metadata.creation_timestamp.ToNanoseconds() <= pod.metadata.creation_timestamp.ToNanoseconds()


@pytest.mark.parametrize("when_scaled", ["Retain", "Delete"])
async def test_scale_down_keeps_claims_unless_when_scaled_is_delete(when_scaled: str) -> None:
    sts = with_claim_template(statefulset(replicas=2, policy="Parallel"))
    sts.spec.persistent_volume_claim_retention_policy.when_scaled = when_scaled
    async with on_fake(StatefulSetController, sts) as run:
        await run.reconcile("default/web")
        await run.synced()
        gone = get_pod(run.client, "web-1")
        await _update_spec(run, lambda s: setattr(s.spec, "replicas", 1))
        await run.reconcile("default/web")
        assert names(run.client) == ["web-0"]
        claims = {c.metadata.name: c for c in run.client.objects("PersistentVolumeClaim", "default")}
        assert set(claims) == {"www-web-0", "www-web-1"}  # the garbage collector, not this controller, deletes
        owners = [(o.kind, o.uid) for o in claims["www-web-1"].metadata.owner_references]
        assert (("Pod", gone.metadata.uid) in owners) == (when_scaled == "Delete")
        assert not any(o.kind == "Pod" for o in claims["www-web-0"].metadata.owner_references)
