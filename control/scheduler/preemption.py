"""DefaultPreemption: when no node fits a pod, find pods of lower priority whose removal makes one fit.

As kube-scheduler's PostFilter: only nodes whose failure removing pods can resolve are tried; on each,
every lower-priority pod is removed and, if the pod then fits, victims are reprieved while it still
fits: first those whose eviction a PodDisruptionBudget would refuse, then the others, each group from
the highest priority down. Among the candidate nodes the choice is kube-scheduler's: fewest
PodDisruptionBudget violations, then the lowest highest-victim priority, then the smallest sum of
victim priorities, then the fewest victims. A pod with `preemptionPolicy: Never` preempts nothing, and
a pod that already nominated a node where lower-priority pods are terminating waits for them.

Filters that look across nodes (inter-pod affinity, topology spread) keep their per-cycle view, in
which the victims are still present; the node's own filters (resources, ports, taints) see them gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from google.protobuf.message import Message

from control.client.selectors import SelectorError, from_label_selector
from control.client.wellknown import PREEMPT_NEVER
from control.scheduler.framework import Code, NodeInfo, Snapshot, Status
from control.scheduler.podinfo import PodInfo

Fits = Callable[[PodInfo, NodeInfo], bool]


@dataclass
class Candidate:
    node_name: str
    victims: list[PodInfo]
    budget_violations: int

    def rank(self) -> tuple[int, int, int, int]:
        priorities = [v.priority for v in self.victims]
        return (self.budget_violations, max(priorities, default=0), sum(priorities), len(self.victims))


def eligible(pod: PodInfo, snapshot: Snapshot) -> bool:
    if pod.pod.spec.preemption_policy == PREEMPT_NEVER:
        return False
    nominated = pod.pod.status.nominated_node_name
    node = snapshot.nodes.get(nominated) if nominated else None
    if node is None:
        return True
    return not any(p.priority < pod.priority and p.pod.metadata.HasField("deletion_timestamp")
                   for p in node.pods.values())


def _without(node: NodeInfo, removed: Iterable[PodInfo]) -> NodeInfo:
    gone = {p.key for p in removed}
    trial = NodeInfo(node.node)
    for p in node.pods.values():
        if p.key not in gone:
            trial.add_pod(p)
    return trial


def victims_on(pod: PodInfo, node: NodeInfo, fits: Fits,
               budgets: list[Message] = ()) -> tuple[list[PodInfo], int] | None:
    """The pods to evict from the node for the pod to fit, and how many of them break a budget."""
    lower = [p for p in node.pods.values()
             if p.priority < pod.priority and not p.pod.metadata.HasField("deletion_timestamp")]
    if not lower:
        return None
    trial = _without(node, lower)
    if not fits(pod, trial):
        return None
    violating, others = split_by_budget(sorted(lower, key=lambda p: (-p.priority, p.key)), budgets)
    victims: list[PodInfo] = []
    violations = 0
    for group, breaks_budget in ((violating, True), (others, False)):
        for p in group:
            trial.add_pod(p)
            if not fits(pod, trial):
                trial.remove_pod(p.key)
                victims.append(p)
                violations += breaks_budget
    return victims, violations


def split_by_budget(pods: list[PodInfo], budgets: Iterable[Message]) -> tuple[list[PodInfo], list[PodInfo]]:
    """The pods whose eviction some PodDisruptionBudget would refuse, spending each budget's
    disruptionsAllowed in order, and the others. A budget without a selector selects nothing, and
    pods already in its disruptedPods are not charged again (kube-scheduler's rules)."""
    budgets = list(budgets)
    allowed = [b.status.disruptions_allowed for b in budgets]
    violating, others = [], []
    for p in pods:
        violated = False
        for i, b in enumerate(budgets):
            if b.metadata.namespace != p.namespace or not p.labels or p.name in b.status.disrupted_pods:
                continue
            try:
                selector = from_label_selector(b.spec.selector)
            except SelectorError:
                continue
            if selector.empty or not selector.matches(p.labels):
                continue
            allowed[i] -= 1
            violated = violated or allowed[i] < 0
        (violating if violated else others).append(p)
    return violating, others


def select_candidate(pod: PodInfo, snapshot: Snapshot, statuses: dict[str, Status], fits: Fits,
                     budgets: list[Message]) -> Candidate | None:
    candidates = []
    for name, status in sorted(statuses.items()):
        node = snapshot.nodes.get(name)
        if node is None or status.code == Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            continue
        found = victims_on(pod, node, fits, budgets)
        if found is not None and found[0]:
            candidates.append(Candidate(name, *found))
    return min(candidates, key=Candidate.rank, default=None)
