"""The disruption controller's reconcile(key) on the fake client: PodDisruptionBudget status."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.disruption import DisruptionController


def budget(**spec) -> Message:
    return from_dict({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                      "metadata": {"name": "web", "namespace": "default", "generation": 3},
                      "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}})


def replica_set(replicas: int) -> Message:
    return from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                      "metadata": {"name": "web-rs", "namespace": "default", "uid": "rs-uid"},
                      "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                               "template": {"metadata": {"labels": {"app": "web"}},
                                            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})


def pod(name: str, ready: bool = True, owned: bool = True) -> Message:
    meta: dict = {"name": name, "namespace": "default", "labels": {"app": "web"}}
    if owned:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-rs",
                                    "uid": "rs-uid", "controller": True}]
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                      "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                      "status": {"phase": "Running",
                                 "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}})


async def status_of(run) -> Message:
    return (await run.client.get("PodDisruptionBudget", "web", "default")).status


async def test_min_available_number_counts_selected_pods() -> None:
    async with on_fake(DisruptionController, budget(minAvailable=2), pod("a"), pod("b"), pod("c"),
                       pod("d", ready=False)) as run:
        await run.reconcile("default/web")
        st = await status_of(run)
        assert (st.expected_pods, st.desired_healthy, st.current_healthy, st.disruptions_allowed) == (4, 2, 3, 1)
        assert st.observed_generation == 3
        assert [(c.type, c.status, c.reason) for c in st.conditions] == [("DisruptionAllowed", "True",
                                                                          "SufficientPods")]


async def test_max_unavailable_uses_the_controllers_scale() -> None:
    async with on_fake(DisruptionController, budget(maxUnavailable="50%"), replica_set(5), pod("a"), pod("b"),
                       pod("c")) as run:
        await run.reconcile("default/web")
        st = await status_of(run)
        # 5 expected, 50% of 5 rounded up is 3 unavailable: 2 must stay healthy, 3 are.
        assert (st.expected_pods, st.desired_healthy, st.current_healthy, st.disruptions_allowed) == (5, 2, 3, 1)


async def test_no_disruption_when_budget_is_exactly_met() -> None:
    async with on_fake(DisruptionController, budget(minAvailable="100%"), replica_set(2), pod("a"), pod("b")) as run:
        await run.reconcile("default/web")
        st = await status_of(run)
        assert st.disruptions_allowed == 0
        assert [(c.status, c.reason) for c in st.conditions] == [("False", "InsufficientPods")]


async def test_pods_without_a_controller_fail_a_percentage_budget() -> None:
    async with on_fake(DisruptionController, budget(maxUnavailable=1), pod("a", owned=False)) as run:
        await run.reconcile("default/web")
        st = await status_of(run)
        assert st.disruptions_allowed == 0
        assert st.conditions[0].reason == "SyncFailed" and "found no controllers" in st.conditions[0].message


async def test_recently_evicted_pods_do_not_count_as_healthy() -> None:
    pdb = budget(minAvailable=1)
    pdb.status.disrupted_pods["a"].GetCurrentTime()
    pdb.status.disrupted_pods["gone"].GetCurrentTime()
    async with on_fake(DisruptionController, pdb, pod("a"), pod("b")) as run:
        await run.reconcile("default/web")
        st = await status_of(run)
        assert set(st.disrupted_pods) == {"a"}
        assert (st.current_healthy, st.disruptions_allowed) == (1, 0)
