"""The DaemonSet controller's reconcile(key) on the fake client."""

from __future__ import annotations

import time

from google.protobuf.message import Message

from control.apiserver.registry import apply_defaults
from control.client.controllerref import controller_ref
from control.client.convert import from_dict
from control.client.informer import copy_of
from control.client.testing import on_fake
from control.client.wellknown import LABEL_CONTROLLER_REVISION_HASH, is_being_deleted
from control.controllers import daemonset_util as u
from control.controllers.daemonset import DaemonSetController


def daemonset(name: str = "agent", node_selector: dict | None = None, strategy: dict | None = None,
              image: str = "busybox:1", history: int | None = None) -> Message:
    spec: dict = {"selector": {"matchLabels": {"app": name}},
                  "template": {"metadata": {"labels": {"app": name}},
                               "spec": {"nodeSelector": node_selector or {},
                                        "containers": [{"name": "c", "image": image}]}}}
    if strategy is not None:
        spec["updateStrategy"] = strategy
    if history is not None:
        spec["revisionHistoryLimit"] = history
    ds = from_dict({"apiVersion": "apps/v1", "kind": "DaemonSet",
                    "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "generation": 1},
                    "spec": spec})
    apply_defaults(ds)
    return ds


def node(name: str, labels: dict | None = None, taints: list | None = None, unschedulable: bool = False) -> Message:
    return from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}},
                      "spec": {"taints": taints or [], "unschedulable": unschedulable}})


def live(client, uid: str = "uid-agent") -> list[Message]:
    return [p for p in client.objects("Pod", "default")
            if (ref := controller_ref(p)) is not None and ref.uid == uid and not is_being_deleted(p)]


def nodes_of(pods: list[Message]) -> list[str]:
    return sorted(u.target_node(p) for p in pods)


async def run_all(client, ready: bool = True) -> None:
    """Plays scheduler and kubelet: every live daemon pod bound to its node, Running and Ready."""
    for pod in live(client):
        if not pod.spec.node_name:
            pod.spec.node_name = u.target_node(pod)
            pod = await client.update(pod)
        if pod.status.phase != "Running":
            pod = copy_of(pod)
            pod.status.phase = "Running"
            pod.status.conditions.add(type="Ready", status="True" if ready else "False")
            await client.update_status(pod)


async def finish_deletions(client) -> None:
    """Plays kubelet: terminating pods go."""
    for pod in client.objects("Pod", "default"):
        if is_being_deleted(pod):
            await client.delete("Pod", pod.metadata.name, "default", grace_period_seconds=0)


async def test_one_pod_per_eligible_node_pinned_by_node_affinity() -> None:
    nodes = [node("n1", {"disk": "ssd"}), node("n2", {"disk": "hdd"}),
             node("n3", {"disk": "ssd"}, taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
             node("n4", {"disk": "ssd"}, unschedulable=True,
                  taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}])]
    async with on_fake(DaemonSetController, daemonset(node_selector={"disk": "ssd"}), *nodes) as run:
        await run.reconcile("default/agent")
        pods = live(run.client)
        assert nodes_of(pods) == ["n1", "n4"]
        pod = pods[0]
        terms = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
        assert [(r.key, r.operator, list(r.values)) for t in terms for r in t.match_fields] == \
            [("metadata.name", "In", [u.target_node(pod)])]
        assert not pod.spec.node_name and pod.metadata.name.startswith("agent-")
        keys = {(t.key, t.effect) for t in pod.spec.tolerations}
        assert {("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
                ("node.kubernetes.io/disk-pressure", "NoSchedule"),
                ("node.kubernetes.io/memory-pressure", "NoSchedule"), ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                ("node.kubernetes.io/unschedulable", "NoSchedule")} <= keys
        [revision] = run.client.objects("ControllerRevision", "default")
        hash_ = revision.metadata.labels[LABEL_CONTROLLER_REVISION_HASH]
        assert revision.metadata.name == f"agent-{hash_}" and revision.revision == 1
        assert all(p.metadata.labels[LABEL_CONTROLLER_REVISION_HASH] == hash_ for p in pods)
        assert controller_ref(revision).name == "agent"


async def test_a_node_that_stops_matching_loses_its_pod_and_status_counts() -> None:
    async with on_fake(DaemonSetController, daemonset(node_selector={"run": "yes"}),
                       node("n1", {"run": "yes"}), node("n2", {"run": "yes"})) as run:
        await run.reconcile("default/agent")
        await run_all(run.client)
        await run.reconcile("default/agent")
        ds = run.client.objects("DaemonSet", "default")[0]
        s = ds.status
        assert (s.desired_number_scheduled, s.current_number_scheduled, s.number_ready, s.number_available,
                s.updated_number_scheduled, s.number_misscheduled) == (2, 2, 2, 2, 2, 0)
        n2 = next(n for n in run.client.objects("Node") if n.metadata.name == "n2")
        n2.metadata.labels["run"] = "no"
        await run.client.update(n2)
        await run.reconcile("default/agent")
        assert nodes_of(live(run.client)) == ["n1"]


async def test_no_execute_taint_evicts_no_schedule_taint_keeps_a_running_pod() -> None:
    async with on_fake(DaemonSetController, daemonset(), node("n1"), node("n2")) as run:
        await run.reconcile("default/agent")
        await run_all(run.client)
        for name, effect in (("n1", "NoSchedule"), ("n2", "NoExecute")):
            n = next(x for x in run.client.objects("Node") if x.metadata.name == name)
            n.spec.taints.add(key="maintenance", effect=effect)
            await run.client.update(n)
        await run.reconcile("default/agent")
        assert nodes_of(live(run.client)) == ["n1"]
        await finish_deletions(run.client)
        await run.reconcile("default/agent")
        ds = run.client.objects("DaemonSet", "default")[0]
        assert (ds.status.desired_number_scheduled, ds.status.number_misscheduled) == (0, 1)


async def _change_image(run, image: str) -> None:
    ds = copy_of(run.client.objects("DaemonSet", "default")[0])
    ds.spec.template.spec.containers[0].image = image
    await run.client.update(ds)


async def test_rolling_update_replaces_within_max_unavailable() -> None:
    async with on_fake(DaemonSetController, daemonset(), node("n1"), node("n2"), node("n3")) as run:
        await run.reconcile("default/agent")
        await run_all(run.client)
        await run.reconcile("default/agent")
        await _change_image(run, "busybox:2")
        await run.reconcile("default/agent")
        pods = live(run.client)
        assert len(pods) == 2  # one old pod deleted: maxUnavailable 1
        await run.reconcile("default/agent")
        assert len(live(run.client)) == 2  # its replacement waits until it is gone
        await finish_deletions(run.client)
        await run.reconcile("default/agent")
        pods = live(run.client)
        assert len(pods) == 3 and sum(p.spec.containers[0].image == "busybox:2" for p in pods) == 1
        await run.reconcile("default/agent")  # the new pod is not ready yet: nothing more goes
        assert len(live(run.client)) == 3
        for _ in range(6):
            await run_all(run.client)
            await finish_deletions(run.client)
            await run.reconcile("default/agent")
        assert {p.spec.containers[0].image for p in live(run.client)} == {"busybox:2"}
        assert len(run.client.objects("ControllerRevision", "default")) == 2


async def test_on_delete_replaces_only_deleted_pods() -> None:
    async with on_fake(DaemonSetController, daemonset(strategy={"type": "OnDelete"}), node("n1"), node("n2")) as run:
        await run.reconcile("default/agent")
        await run_all(run.client)
        await _change_image(run, "busybox:2")
        await run.reconcile("default/agent")
        assert {p.spec.containers[0].image for p in live(run.client)} == {"busybox:1"}
        victim = live(run.client)[0]
        await run.client.delete("Pod", victim.metadata.name, "default", grace_period_seconds=0)
        await run.reconcile("default/agent")
        assert sorted(p.spec.containers[0].image for p in live(run.client)) == ["busybox:1", "busybox:2"]


async def test_max_surge_starts_the_new_pod_beside_the_old() -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    async with on_fake(DaemonSetController, daemonset(strategy=strategy), node("n1"), node("n2")) as run:
        await run.reconcile("default/agent")
        await run_all(run.client)
        await _change_image(run, "busybox:2")
        await run.reconcile("default/agent")
        pods = live(run.client)
        assert len(pods) == 3 and sum(p.spec.containers[0].image == "busybox:2" for p in pods) == 1
        await run_all(run.client)
        await run.reconcile("default/agent")  # the new pod is available: its node's old pod goes
        await finish_deletions(run.client)
        await run.reconcile("default/agent")
        images = sorted(p.spec.containers[0].image for p in live(run.client))
        assert images.count("busybox:1") <= 1 and "busybox:2" in images


async def test_revision_history_is_trimmed_to_the_limit() -> None:
    async with on_fake(DaemonSetController, daemonset(history=1), node("n1")) as run:
        for i in range(2, 5):
            await run.reconcile("default/agent")
            for p in live(run.client):
                await run.client.delete("Pod", p.metadata.name, "default", grace_period_seconds=0)
            await _change_image(run, f"busybox:{i}")
        await run.reconcile("default/agent")
        await run.reconcile("default/agent")
        revisions = run.client.objects("ControllerRevision", "default")
        assert sorted(r.revision for r in revisions) == [3, 4]


def test_percentages_round_up_and_both_zero_means_one_unavailable() -> None:
    ds = daemonset(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}})
    assert u.surge_and_unavailable(ds, 15) == (0, 2)
    ds.spec.update_strategy.rolling_update.max_unavailable.number_value = 0
    assert u.surge_and_unavailable(ds, 15) == (0, 1)


def test_required_node_affinity_and_the_template_node_name_choose_nodes() -> None:
    ds = daemonset()
    term = ds.spec.template.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution \
        .node_selector_terms.add()
    term.match_expressions.add(key="zone", operator="In", values=["a", "b"])
    assert u.should_run(ds, node("n1", {"zone": "a"})) == (True, True)
    assert u.should_run(ds, node("n2", {"zone": "c"})) == (False, False)
    ds.spec.template.spec.node_name = "n3"
    assert u.should_run(ds, node("n1", {"zone": "a"})) == (False, False)


def test_host_network_pods_also_tolerate_network_unavailable() -> None:
    ds = daemonset()
    ds.spec.template.spec.host_network = True
    pod = u.new_pod(ds, "n1", "abc")
    assert ("node.kubernetes.io/network-unavailable", "NoSchedule") in {(t.key, t.effect) for t in pod.spec.tolerations}


async def _fail_pods(client) -> None:
    for pod in live(client):
        failed = copy_of(pod)
        failed.status.phase = "Failed"
        await client.update_status(failed)


async def test_failed_pods_are_replaced_with_a_back_off_per_node() -> None:
    async with on_fake(DaemonSetController, daemonset(), node("n1")) as run:
        await run.reconcile("default/agent")
        await run_all(run.client)
        await _fail_pods(run.client)
        await run.reconcile("default/agent")  # the first failure on the node: deleted at once
        await finish_deletions(run.client)
        await run.reconcile("default/agent")
        [replacement] = live(run.client)
        assert replacement.status.phase != "Failed"
        assert "FailedDaemonPod" in {reason for _, reason, _ in await run.events()}
        await run_all(run.client)
        await _fail_pods(run.client)
        await run.reconcile("default/agent")  # failing again within the back-off: kept for now
        assert [p.status.phase for p in live(run.client)] == ["Failed"]
        assert run.controller.failed_backoff.remaining("uid-agent/n1", time.time()) > 0


def test_failed_pod_back_off_doubles_to_its_maximum_and_resets_when_idle() -> None:
    backoff = u.FailedPodBackoff(initial=1, maximum=4)
    assert backoff.remaining("k", 100) == 0
    for now, want in ((100, 1), (101, 2), (103, 4), (107, 4)):
        backoff.next("k", now)
        assert backoff.remaining("k", now) == want
    assert backoff.remaining("k", 107 + 9) == 0
    backoff.next("k", 120)
    assert backoff.remaining("k", 120) == 1
