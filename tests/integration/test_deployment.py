"""The Deployment controller (with the ReplicaSet controller) against a real apiserver;
hollow nodes play the kubelet. Rollouts are observed through a pod watch."""

from __future__ import annotations

import asyncio
import contextlib

from google.protobuf.message import Message

from control.client.client import Client
from control.client.controllerref import controller_ref
from control.client.convert import from_dict
from control.client.informer import Informer
from control.client.podutil import is_pod_ready
from control.client.wellknown import (
    ANNOTATION_DESIRED_REPLICAS,
    ANNOTATION_MAX_REPLICAS,
    ANNOTATION_REVISION,
    ANNOTATION_REVISION_HISTORY,
    LABEL_POD_TEMPLATE_HASH,
    get_condition,
    is_being_deleted,
)
from control.controllers import deployment_rollout as r
from tests.fixtures.controllers import controllers
from tests.fixtures.procs import eventually
from tests.fixtures.workloads import HollowNode, live_pods, new_namespace, scale, template


def deployment(name: str, ns: str, replicas: int, image: str = "busybox:1", strategy: dict | None = None,
               **spec) -> Message:
    body = {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": template({"app": name}, image), **spec}
    if strategy is not None:
        body["strategy"] = strategy
    return from_dict({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": name, "namespace": ns}, "spec": body})


async def set_image(client: Client, name: str, ns: str, image: str) -> None:
    async def update() -> bool:
        d = await client.get("Deployment", name, ns)
        d.spec.template.spec.containers[0].image = image
        await client.update(d)
        return True
    await eventually(update, what="template update")


def condition(d: Message, type_: str) -> tuple[str, str]:
    cond = get_condition(d.status, type_)
    return (cond.status, cond.reason) if cond is not None else ("", "")


async def rolled_out(client: Client, name: str, ns: str) -> bool:
    d = await client.get("Deployment", name, ns)
    n = d.spec.replicas
    s = d.status
    return (s.observed_generation >= d.metadata.generation and s.updated_replicas == n and s.replicas == n
            and s.available_replicas == n and s.unavailable_replicas == 0
            and condition(d, "Progressing") == ("True", r.NEW_RS_AVAILABLE)
            and condition(d, "Available") == ("True", r.MIN_AVAILABLE))


async def replicasets(client: Client, ns: str) -> dict[str, Message]:
    return {rs.metadata.name: rs for rs in (await client.list("ReplicaSet", ns)).items}


class PodWatch:
    """Follows the namespace's pods and records the extremes of a rollout."""

    def __init__(self, client: Client, ns: str) -> None:
        self.informer = Informer(client, "Pod", ns)
        self.min_available = 10**9
        self.max_total = 0
        self.both_templates_seen = False
        self.informer.add_handler(self._check, lambda _o, _n: self._check(), lambda _o: self._check())

    def _check(self, *_args) -> None:
        pods = [p for p in self.informer.store.list()
                if not is_being_deleted(p) and p.status.phase not in ("Succeeded", "Failed")]
        self.max_total = max(self.max_total, len(pods))
        self.min_available = min(self.min_available, sum(is_pod_ready(p) for p in pods))
        hashes = {p.metadata.labels.get(LABEL_POD_TEMPLATE_HASH) for p in pods}
        self.both_templates_seen |= len(hashes) > 1

    def reset(self) -> None:
        self.min_available, self.max_total, self.both_templates_seen = 10**9, 0, False
        self._check()

    @contextlib.asynccontextmanager
    async def running(self):
        task = asyncio.create_task(self.informer.run())
        try:
            await self.informer.wait_synced(10)
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _rolling_update(client: Client, strategy: dict | None, surge: int, unavailable: int) -> None:
    ns = await new_namespace(client, "deploy")
    node = HollowNode(client, ns, delay=0.3)
    watch = PodWatch(client, ns)
    async with node.running(), watch.running(), controllers(client, "replicaset", "deployment"):
        await client.create(deployment("web", ns, 4, "busybox:1", strategy))
        await eventually(lambda: rolled_out(client, "web", ns), timeout=20, what="first rollout")
        first = await replicasets(client, ns)
        assert len(first) == 1
        watch.reset()
        await set_image(client, "web", ns, "busybox:2")

        async def second_rollout() -> bool:
            d = await client.get("Deployment", "web", ns)
            return d.metadata.annotations.get(ANNOTATION_REVISION) == "2" and await rolled_out(client, "web", ns)
        await eventually(second_rollout, timeout=30, what="rolling update to finish")
        assert watch.min_available >= 4 - unavailable, watch.min_available
        assert watch.max_total <= 4 + surge, watch.max_total
        assert watch.both_templates_seen  # it really was rolling, not recreating

        rss = await replicasets(client, ns)
        (old_name,) = first
        new_name = next(n for n in rss if n != old_name)
        new, old = rss[new_name], rss[old_name]
        pod_hash = new.metadata.labels[LABEL_POD_TEMPLATE_HASH]
        assert new_name == f"web-{pod_hash}"
        assert new.spec.selector.match_labels[LABEL_POD_TEMPLATE_HASH] == pod_hash
        assert new.spec.template.metadata.labels[LABEL_POD_TEMPLATE_HASH] == pod_hash
        assert new.metadata.annotations[ANNOTATION_REVISION] == "2"
        assert old.metadata.annotations[ANNOTATION_REVISION] == "1"
        assert new.metadata.annotations[ANNOTATION_DESIRED_REPLICAS] == "4"
        assert new.metadata.annotations[ANNOTATION_MAX_REPLICAS] == str(4 + surge)
        assert old.spec.replicas == 0 and new.spec.replicas == 4
        assert all(p.metadata.labels[LABEL_POD_TEMPLATE_HASH] == pod_hash for p in await live_pods(client, ns))
        assert controller_ref(new).name == "web" and controller_ref(new).kind == "Deployment"


async def test_rolling_update_with_default_percentages(client):
    await _rolling_update(client, None, surge=1, unavailable=1)  # 25% of 4: surge rounds up, unavailable down


async def test_rolling_update_surge_only(client):
    await _rolling_update(client, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}},
                          surge=2, unavailable=0)


async def test_recreate_never_runs_both_templates(client):
    ns = await new_namespace(client, "deploy")
    node = HollowNode(client, ns, delay=0.2)
    watch = PodWatch(client, ns)
    async with node.running(), watch.running(), controllers(client, "replicaset", "deployment"):
        await client.create(deployment("web", ns, 3, strategy={"type": "Recreate"}))
        await eventually(lambda: rolled_out(client, "web", ns), timeout=20, what="first rollout")
        watch.reset()
        await set_image(client, "web", ns, "busybox:2")

        async def done() -> bool:
            rss = await replicasets(client, ns)
            return len(rss) == 2 and await rolled_out(client, "web", ns)
        await eventually(done, timeout=30, what="recreate rollout")
        assert not watch.both_templates_seen
        assert watch.min_available == 0  # Recreate has downtime by design
        assert watch.max_total <= 3


async def test_rollback_reuses_the_old_replicaset_and_bumps_its_revision(client):
    ns = await new_namespace(client, "deploy")
    node = HollowNode(client, ns)
    async with node.running(), controllers(client, "replicaset", "deployment"):
        await client.create(deployment("web", ns, 2))
        await eventually(lambda: rolled_out(client, "web", ns), timeout=20, what="v1")
        (v1_name,) = await replicasets(client, ns)
        await set_image(client, "web", ns, "busybox:2")

        async def at_revision(rev: str) -> bool:
            d = await client.get("Deployment", "web", ns)
            return d.metadata.annotations.get(ANNOTATION_REVISION) == rev and await rolled_out(client, "web", ns)
        await eventually(lambda: at_revision("2"), timeout=20, what="v2")

        # What `skiffctl rollout undo` does: copy revision 1's template, minus the hash label.
        v1 = (await replicasets(client, ns))[v1_name]

        async def undo() -> bool:
            d = await client.get("Deployment", "web", ns)
            d.spec.template.CopyFrom(v1.spec.template)
            del d.spec.template.metadata.labels[LABEL_POD_TEMPLATE_HASH]
            await client.update(d)
            return True
        await eventually(undo, what="undo")
        await eventually(lambda: at_revision("3"), timeout=20, what="rollback to finish")
        rss = await replicasets(client, ns)
        assert len(rss) == 2  # no new ReplicaSet
        assert rss[v1_name].metadata.annotations[ANNOTATION_REVISION] == "3"
        assert rss[v1_name].metadata.annotations[ANNOTATION_REVISION_HISTORY] == "1"
        assert rss[v1_name].spec.replicas == 2
        assert all(p.spec.containers[0].image == "busybox:1" for p in await live_pods(client, ns))


async def test_revision_history_limit_deletes_oldest_unused_replicasets(client):
    ns = await new_namespace(client, "deploy")
    node = HollowNode(client, ns)
    async with node.running(), controllers(client, "replicaset", "deployment"):
        await client.create(deployment("web", ns, 1, revisionHistoryLimit=1))
        for version in range(2, 5):
            await eventually(lambda: rolled_out(client, "web", ns), timeout=20, what="rollout")
            await set_image(client, "web", ns, f"busybox:{version}")

        async def trimmed() -> bool:
            rss = await replicasets(client, ns)
            revisions = sorted(int(rs.metadata.annotations[ANNOTATION_REVISION]) for rs in rss.values())
            return revisions == [3, 4] and await rolled_out(client, "web", ns)
        await eventually(trimmed, timeout=20, what="only the current and one old ReplicaSet")


async def test_progress_deadline_exceeded(client):
    ns = await new_namespace(client, "deploy")
    node = HollowNode(client, ns, ready=lambda p: p.spec.containers[0].image != "broken")
    async with node.running(), controllers(client, "replicaset", "deployment"):
        await client.create(deployment("web", ns, 2, image="broken", progressDeadlineSeconds=2))

        async def timed_out() -> bool:
            d = await client.get("Deployment", "web", ns)
            return condition(d, "Progressing") == ("False", r.TIMED_OUT) and \
                condition(d, "Available") == ("False", r.MIN_UNAVAILABLE)
        await eventually(timed_out, timeout=15, what="ProgressDeadlineExceeded")
        d = await client.get("Deployment", "web", ns)
        assert get_condition(d.status, "Progressing").message.endswith("has timed out progressing.")
        assert d.status.unavailable_replicas == 2

        await set_image(client, "web", ns, "busybox:2")  # a fix makes it progress again
        await eventually(lambda: rolled_out(client, "web", ns), timeout=20, what="recovery")


async def test_scaling_mid_rollout_is_proportional(client):
    ns = await new_namespace(client, "deploy")
    node = HollowNode(client, ns, ready=lambda p: p.spec.containers[0].image != "stuck")
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    async with node.running(), controllers(client, "replicaset", "deployment"):
        await client.create(deployment("web", ns, 10, strategy=strategy))
        await eventually(lambda: rolled_out(client, "web", ns), timeout=30, what="v1")
        (v1_name,) = await replicasets(client, ns)
        await set_image(client, "web", ns, "stuck")

        async def sizes(want: dict[bool, int]) -> bool:
            rss = await replicasets(client, ns)
            got = {name == v1_name: rs.spec.replicas for name, rs in rss.items()}
            return got == want
        # old 10 → 8 (maxUnavailable 2), new 3 + 2 = 5 (10 + maxSurge 3 in total); then stuck.
        await eventually(lambda: sizes({True: 8, False: 5}), timeout=20, what="a stuck rollout at 8 + 5")
        await scale(client, "Deployment", "web", ns, 20)
        # 10 more allowed (20 + 3 - 13): old 8·23/13 ≈ 14, new 5·23/13 ≈ 9.
        await eventually(lambda: sizes({True: 14, False: 9}), timeout=20, what="proportional scale-up")
        rss = await replicasets(client, ns)
        assert {rs.metadata.annotations[ANNOTATION_DESIRED_REPLICAS] for rs in rss.values()} == {"20"}


async def test_paused_deployment_does_not_roll_out(client):
    ns = await new_namespace(client, "deploy")
    node = HollowNode(client, ns)
    async with node.running(), controllers(client, "replicaset", "deployment"):
        await client.create(deployment("web", ns, 2))
        await eventually(lambda: rolled_out(client, "web", ns), timeout=20, what="v1")

        async def pause_and_change() -> bool:
            d = await client.get("Deployment", "web", ns)
            d.spec.paused = True
            d.spec.template.spec.containers[0].image = "busybox:2"
            await client.update(d)
            return True
        await eventually(pause_and_change, what="pause")

        # The controller has observed the changed template (observedGeneration caught up) while paused,
        # and that sync made no new ReplicaSet.
        async def paused() -> bool:
            d = await client.get("Deployment", "web", ns)
            return (condition(d, "Progressing") == ("Unknown", r.PAUSED)
                    and d.status.observed_generation == d.metadata.generation)
        await eventually(paused, timeout=10, what="DeploymentPaused with observedGeneration caught up")
        assert len(await replicasets(client, ns)) == 1
        await scale(client, "Deployment", "web", ns, 3)  # scaling still works while paused

        async def three() -> bool:
            (rs,) = (await replicasets(client, ns)).values()
            return rs.spec.replicas == 3
        await eventually(three, timeout=10, what="scale while paused")


# --- the rollout arithmetic on its own ---------------------------------------

def _with_strategy(replicas: int, surge, unavailable) -> Message:
    rolling = {k: v for k, v in (("maxSurge", surge), ("maxUnavailable", unavailable)) if v is not None}
    return deployment("d", "ns", replicas, strategy={"type": "RollingUpdate", "rollingUpdate": rolling})


def test_surge_rounds_up_and_unavailable_rounds_down():
    assert r.surge_and_unavailable(_with_strategy(10, "25%", "25%")) == (3, 2)
    assert r.surge_and_unavailable(_with_strategy(4, None, None)) == (1, 1)  # Kubernetes' 25% defaults
    assert r.surge_and_unavailable(_with_strategy(3, "10%", "10%")) == (1, 0)
    assert r.surge_and_unavailable(_with_strategy(5, 0, 0)) == (0, 1)  # both zero: one may be unavailable
    assert r.surge_and_unavailable(_with_strategy(5, "0%", "0%")) == (0, 1)
    assert r.max_unavailable(_with_strategy(2, 0, 5)) == 2  # never more than replicas
    assert r.surge_and_unavailable(deployment("d", "ns", 5, strategy={"type": "Recreate"})) == (0, 0)


def test_template_hash_is_stable_and_depends_on_template_and_collisions():
    a = deployment("d", "ns", 1, image="x:1")
    b = deployment("d", "elsewhere", 7, image="x:1")  # only the template counts
    c = deployment("d", "ns", 1, image="x:2")
    h = r.template_hash(a.spec.template)
    assert h == r.template_hash(b.spec.template)
    assert h != r.template_hash(c.spec.template)
    assert h != r.template_hash(a.spec.template, collision_count=1)
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(h) <= 10


def test_new_replicaset_size_respects_surge():
    d = _with_strategy(10, 3, 2)
    old = from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"replicas": 10}})
    new = from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"replicas": 0}})
    assert r.new_rs_replicas(d, [old, new], new) == 3
    old.spec.replicas = 8
    new.spec.replicas = 3
    assert r.new_rs_replicas(d, [old, new], new) == 5
    assert r.new_rs_replicas(deployment("d", "ns", 4, strategy={"type": "Recreate"}), [old, new], new) == 4


def test_rollback_bumps_revision_and_keeps_history():
    d = deployment("d", "ns", 1)
    rs = from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"annotations": {ANNOTATION_REVISION: "1"}}})
    assert r.set_new_rs_annotations(d, rs, 3, exists=True)
    assert rs.metadata.annotations[ANNOTATION_REVISION] == "3"
    assert rs.metadata.annotations[ANNOTATION_REVISION_HISTORY] == "1"
    assert not r.set_new_rs_annotations(d, rs, 2, exists=True)  # never goes backwards
    assert r.set_new_rs_annotations(d, rs, 5, exists=True)
    assert rs.metadata.annotations[ANNOTATION_REVISION_HISTORY] == "1,3"


async def test_hash_collision_bumps_collision_count(client):
    ns = await new_namespace(client, "deploy")
    node = HollowNode(client, ns)
    d = deployment("web", ns, 1)
    defaulted = await client.create(d, dry_run=True)  # the template as the apiserver stores it
    taken = f"web-{r.template_hash(defaulted.spec.template)}"
    squatter = from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": taken, "namespace": ns},
                          "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "squatter"}},
                                   "template": template({"app": "squatter"})}})
    await client.create(squatter)
    async with node.running(), controllers(client, "replicaset", "deployment"):
        await client.create(d)
        await eventually(lambda: rolled_out(client, "web", ns), timeout=20, what="rollout despite the collision")
        current = await client.get("Deployment", "web", ns)
        assert current.status.collision_count == 1
        rss = await replicasets(client, ns)
        assert f"web-{r.template_hash(defaulted.spec.template, 1)}" in rss
        assert controller_ref(rss[taken]) is None  # the squatter is left alone
