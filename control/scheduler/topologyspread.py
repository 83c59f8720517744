"""PodTopologySpread: spread matching pods evenly over topology domains (zones, nodes, ...).

A constraint counts, per value of `topologyKey`, the pods in the pod's namespace that its
`labelSelector` (plus `matchLabelKeys` taken from the pod's labels) selects, over the nodes that
are eligible: they carry every constraint's key, and (by the node inclusion policies) match the
pod's node selector and affinity (`nodeAffinityPolicy: Honor`, the default) and, only when asked
(`nodeTaintsPolicy: Honor`), have no taint the pod doesn't tolerate.

- Filter (`whenUnsatisfiable: DoNotSchedule`): placing the pod on a node must keep
  `count(domain) + self - min(count over domains) <= maxSkew`; with fewer domains than
  `minDomains`, the minimum is 0.
- Score (`ScheduleAnyway`): fewer matching pods in the node's domains scores higher, each
  constraint weighted by log(number of domains + 2), as kube-scheduler does.

A pod with no constraints gets kube-scheduler's default constraints (ScheduleAnyway, maxSkew 3 by
hostname and 5 by zone). Kubernetes selects the pods of the same Services, ReplicaSets and
StatefulSets for them; here they select the pods of the same controller.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from control.client.selectors import Selector, from_label_selector
from control.client.wellknown import LABEL_HOSTNAME, LABEL_ZONE, SCHEDULING_EFFECTS
from control.scheduler.framework import (
    MAX_NODE_SCORE,
    SKIP,
    SUCCESS,
    NodeInfo,
    Snapshot,
    Status,
    unschedulable,
)
from control.scheduler.matching import first_untolerated
from control.scheduler.podinfo import PodInfo

PLUGIN = "PodTopologySpread"
DO_NOT_SCHEDULE, SCHEDULE_ANYWAY = "DoNotSchedule", "ScheduleAnyway"
HONOR, IGNORE = "Honor", "Ignore"
ERR_MISMATCH = "node(s) didn't match pod topology spread constraints"
ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
# kube-scheduler's system default constraints.
DEFAULT_CONSTRAINTS = ((LABEL_HOSTNAME, 3), (LABEL_ZONE, 5))


@dataclass(frozen=True)
class Constraint:
    max_skew: int
    topology_key: str
    when_unsatisfiable: str
    selector: Selector | None  # None: the pods of the same controller (default constraints)
    min_domains: int
    node_affinity_policy: str
    node_taints_policy: str

    def selects(self, pod: PodInfo, other: PodInfo) -> bool:
        if other.namespace != pod.namespace:
            return False
        if self.selector is None:
            return bool(pod.owner_uid) and other.owner_uid == pod.owner_uid
        return self.selector.matches(other.labels)


def constraints_of(pod: PodInfo) -> tuple[list[Constraint], bool]:
    """The pod's constraints, and whether they are the system defaults."""
    declared = pod.pod.spec.topology_spread_constraints
    if declared:
        return [_compile(c, pod.labels) for c in declared], False
    if not pod.owner_uid:
        return [], True
    return [Constraint(skew, key, SCHEDULE_ANYWAY, None, 1, HONOR, IGNORE) for key, skew in DEFAULT_CONSTRAINTS], True


def _compile(c: Any, labels: Mapping[str, str]) -> Constraint:
    selector = None
    if c.HasField("label_selector"):
        sel = type(c.label_selector)()
        sel.CopyFrom(c.label_selector)
        for key in c.match_label_keys:
            if key in labels:
                sel.match_labels[key] = labels[key]
        selector = from_label_selector(sel)
    return Constraint(c.max_skew, c.topology_key, c.when_unsatisfiable or DO_NOT_SCHEDULE, selector,
                      c.min_domains if c.HasField("min_domains") else 1,
                      c.node_affinity_policy or HONOR, c.node_taints_policy or IGNORE)


class SpreadState:
    """Per cycle: matching pods per (constraint, domain) over the eligible nodes."""

    def __init__(self, pod: PodInfo, constraints: list[Constraint], snapshot: Snapshot,
                 require_all_keys: bool) -> None:
        self.constraints = constraints
        self.counts: list[Counter[str]] = [Counter() for _ in constraints]
        self.self_match = [int(c.selector is not None and c.selector.matches(pod.labels)) for c in constraints]
        for node in snapshot.nodes.values():
            if require_all_keys and not has_keys(node, constraints):
                continue
            for i, c in enumerate(constraints):
                value = node.topology_value(c.topology_key)
                if value is None or not _eligible(pod, node, c):
                    continue
                self.counts[i][value] += _matching_pods(pod, node, c)

    def min_count(self, i: int) -> int:
        counts = self.counts[i]
        if len(counts) < self.constraints[i].min_domains or not counts:
            return 0
        return min(counts.values())


def _matching_pods(pod: PodInfo, node: NodeInfo, c: Constraint) -> int:
    if c.selector is None:  # same controller: the node keeps that count
        return node.owner_counts.get(pod.owner_uid, 0)
    return sum(1 for other in node.pods.values() if c.selects(pod, other))


def has_keys(node: NodeInfo, constraints: list[Constraint]) -> bool:
    return all(node.topology_value(c.topology_key) is not None for c in constraints)


def _eligible(pod: PodInfo, node: NodeInfo, c: Constraint) -> bool:
    if c.node_affinity_policy == HONOR and not _matches_node_affinity(pod, node):
        return False
    if c.node_taints_policy == HONOR and first_untolerated(node.taints, pod.tolerations, SCHEDULING_EFFECTS):
        return False
    return True


def _matches_node_affinity(pod: PodInfo, node: NodeInfo) -> bool:
    if any(node.labels.get(key) != value for key, value in pod.node_selector.items()):
        return False
    terms = pod.required_node_terms
    return terms is None or any(t.matches(node.labels, node.name) for t in terms)


def pre_filter(pod: PodInfo, snapshot: Snapshot) -> Any:
    constraints, _ = constraints_of(pod)
    hard = [c for c in constraints if c.when_unsatisfiable == DO_NOT_SCHEDULE]
    if not hard:
        return SKIP
    return SpreadState(pod, hard, snapshot, require_all_keys=True)


def filter_spread(pod: PodInfo, node: NodeInfo, state: SpreadState) -> Status:
    if not has_keys(node, state.constraints):
        return unschedulable(PLUGIN, ERR_MISSING_LABEL, unresolvable=True)
    for i, c in enumerate(state.constraints):
        value = node.topology_value(c.topology_key)
        skew = state.counts[i][value] + state.self_match[i] - state.min_count(i)
        if skew > c.max_skew:
            return unschedulable(PLUGIN, ERR_MISMATCH)
    return SUCCESS


class ScoreState(SpreadState):
    def __init__(self, pod: PodInfo, constraints: list[Constraint], snapshot: Snapshot,
                 require_all_keys: bool) -> None:
        super().__init__(pod, constraints, snapshot, require_all_keys)
        self.require_all_keys = require_all_keys
        self.weights = [math.log(len(counts) + 2) for counts in self.counts]


def pre_score(pod: PodInfo, snapshot: Snapshot) -> Any:
    constraints, defaulted = constraints_of(pod)
    soft = [c for c in constraints if c.when_unsatisfiable == SCHEDULE_ANYWAY]
    if not soft:
        return SKIP
    return ScoreState(pod, soft, snapshot, require_all_keys=not defaulted)


IGNORED = -1  # a node without the constraints' keys: scores 0 after normalizing


def score(pod: PodInfo, node: NodeInfo, state: ScoreState) -> int:
    if state.require_all_keys and not has_keys(node, state.constraints):
        return IGNORED
    total = 0.0
    for i, c in enumerate(state.constraints):
        value = node.topology_value(c.topology_key)
        if value is not None:
            total += state.counts[i][value] * state.weights[i] + (c.max_skew - 1)
    return round(total)


def normalize(scores: list[int]) -> None:
    """Fewer matching pods is better: MAX * (max + min - s) / max; ignored nodes score 0."""
    counted = [s for s in scores if s != IGNORED]
    if not counted:
        scores[:] = [0] * len(scores)
        return
    top, bottom = max(counted), min(counted)
    for i, s in enumerate(scores):
        if s == IGNORED:
            scores[i] = 0
        elif top == 0:
            scores[i] = MAX_NODE_SCORE
        else:
            scores[i] = MAX_NODE_SCORE * (top + bottom - s) // top

