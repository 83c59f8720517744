"""DefaultPreemption's pure parts: victims on a node, the choice among nodes, eligibility."""

from __future__ import annotations

from control.client.convert import from_dict
from control.scheduler import preemption
from control.scheduler.filters import node_resources_fit
from control.scheduler.framework import Code, NodeInfo, Snapshot, Status, unschedulable
from control.scheduler.podinfo import PodInfo
from control.scheduler.testing import make_node, make_pod


def prioritized(name: str, priority: int, cpu: str = "1", labels: dict | None = None) -> PodInfo:
    pod = make_pod(name, cpu=cpu, labels=labels, node_name="n")
    pod.spec.priority = priority
    return PodInfo(pod)


def fits(pod: PodInfo, node: NodeInfo) -> bool:
    return node_resources_fit(pod, node).code == Code.SUCCESS


def node_with(name: str, *pods: PodInfo, cpu: str = "2") -> NodeInfo:
    info = NodeInfo(make_node(name, cpu=cpu))
    for p in pods:
        info.add_pod(p)
    return info


def test_the_fewest_lowest_victims_are_chosen_and_others_reprieved():
    node = node_with("n", prioritized("low", 1), prioritized("mid", 5))
    victims, violations = preemption.victims_on(prioritized("high", 10), node, fits)
    assert [v.name for v in victims] == ["low"] and violations == 0  # removing "low" frees 1 cpu; "mid" stays


def test_equal_or_higher_priority_pods_are_never_victims():
    node = node_with("n", prioritized("peer", 10), prioritized("boss", 20))
    assert preemption.victims_on(prioritized("high", 10), node, fits) is None


def test_the_node_with_the_cheapest_victims_wins():
    snapshot = Snapshot()
    snapshot.nodes["a"] = node_with("a", prioritized("a-low", 8), prioritized("a-low2", 8))
    snapshot.nodes["b"] = node_with("b", prioritized("b-low", 2), prioritized("b-mid", 9))
    statuses = {n: unschedulable("NodeResourcesFit", "Insufficient cpu") for n in ("a", "b")}
    chosen = preemption.select_candidate(prioritized("high", 10), snapshot, statuses, fits, [])
    assert (chosen.node_name, [v.name for v in chosen.victims]) == ("b", ["b-low"])


def test_unresolvable_nodes_are_not_tried():
    snapshot = Snapshot()
    snapshot.nodes["a"] = node_with("a", prioritized("a-low", 1), prioritized("a-low2", 1))
    statuses = {"a": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("node(s) had untolerated taint",), "Taint")}
    assert preemption.select_candidate(prioritized("high", 10), snapshot, statuses, fits, []) is None


def test_budgets_steer_the_choice():
    web = {"app": "web"}
    snapshot = Snapshot()
    a_victim = prioritized("a-web", 1, labels=web)
    a_victim.pod.status.conditions.add(type="Ready", status="True")
    snapshot.nodes["a"] = node_with("a", a_victim, prioritized("a-other", 9))
    snapshot.nodes["b"] = node_with("b", prioritized("b-x", 3), prioritized("b-y", 9))
    budget = from_dict({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                        "metadata": {"name": "web", "namespace": "default"},
                        "spec": {"selector": {"matchLabels": web}}, "status": {"disruptionsAllowed": 0}})
    statuses = {n: unschedulable("NodeResourcesFit", "Insufficient cpu") for n in ("a", "b")}
    chosen = preemption.select_candidate(prioritized("high", 10), snapshot, statuses, fits, [budget])
    assert chosen.node_name == "b"  # a's victim is cheaper but its budget allows no disruption


def web_budget(allowed: int, disrupted: tuple[str, ...] = ()) -> object:
    return from_dict({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                      "metadata": {"name": "web", "namespace": "default"},
                      "spec": {"selector": {"matchLabels": {"app": "web"}}},
                      "status": {"disruptionsAllowed": allowed,
                                 "disruptedPods": {n: "2026-01-01T00:00:00Z" for n in disrupted}}})


def test_pods_a_budget_protects_are_reprieved_first():
    # Either pod alone frees enough; the lower-priority one would be the victim, but its budget is spent.
    node = node_with("n", prioritized("guarded", 1, labels={"app": "web"}), prioritized("plain", 5), cpu="2")
    victims, violations = preemption.victims_on(prioritized("high", 10), node, fits, [web_budget(0)])
    assert [v.name for v in victims] == ["plain"] and violations == 0
    victims, violations = preemption.victims_on(prioritized("high", 10), node, fits, [web_budget(1)])
    assert [v.name for v in victims] == ["guarded"] and violations == 0


def test_budget_charges_skip_pods_already_disrupted_and_empty_selectors():
    pods = [prioritized(f"w{i}", 1, labels={"app": "web"}) for i in range(3)]
    violating, others = preemption.split_by_budget(pods, [web_budget(1, disrupted=("w0",))])
    assert [p.name for p in violating] == ["w2"] and [p.name for p in others] == ["w0", "w1"]
    everything = web_budget(0)
    everything.spec.ClearField("selector")
    assert preemption.split_by_budget(pods, [everything]) == ([], pods)


def test_never_policy_and_a_pending_nomination_are_not_eligible():
    snapshot = Snapshot()
    leaving = prioritized("leaving", 1)
    leaving.pod.metadata.deletion_timestamp.GetCurrentTime()
    snapshot.nodes["n"] = node_with("n", leaving)
    never = prioritized("never", 10)
    never.pod.spec.preemption_policy = "Never"
    assert not preemption.eligible(never, snapshot)
    waiting = prioritized("waiting", 10)
    assert preemption.eligible(waiting, snapshot)
    waiting.pod.status.nominated_node_name = "n"
    assert not preemption.eligible(waiting, snapshot)
