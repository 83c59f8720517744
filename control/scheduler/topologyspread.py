"""PodTopologySpread: spread matching pods evenly over topology domains (zones, nodes, ...).

A constraint counts, per value of `topologyKey`, the pods in the pod's namespace that its
`labelSelector` (plus `matchLabelKeys` taken from the pod's labels) selects, terminating pods left
out, over the nodes that are eligible: they carry every constraint's key, and (by the node
inclusion policies) match the pod's node selector and affinity (`nodeAffinityPolicy: Honor`, the
default) and, only when asked (`nodeTaintsPolicy: Honor`), have no taint the pod doesn't tolerate.

- Filter (`whenUnsatisfiable: DoNotSchedule`): placing the pod on a node must keep
  `count(domain) + self - min(count over domains) <= maxSkew`; with fewer domains than
  `minDomains`, the minimum is 0.
- Score (`ScheduleAnyway`): fewer matching pods in the node's domains scores higher, each
  constraint weighted by log(number of domains among the feasible nodes + 2), as kube-scheduler does.

A pod with no constraints gets kube-scheduler's system defaults (ScheduleAnyway, maxSkew 3 by
hostname and 5 by zone) over the pods its default selector picks (see spreadselector.py); with
those, a node lacking the zone label is still scored by hostname.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from control.client.selectors import EQUALS, Requirement, Selector, from_label_selector
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
from control.scheduler.spreadselector import default_selector

PLUGIN = "PodTopologySpread"
DO_NOT_SCHEDULE, SCHEDULE_ANYWAY = "DoNotSchedule", "ScheduleAnyway"
HONOR, IGNORE = "Honor", "Ignore"
ERR_MISMATCH = "node(s) didn't match pod topology spread constraints"
ERR_MISSING_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
# kube-scheduler's system default constraints: (topologyKey, maxSkew), ScheduleAnyway.
DEFAULT_CONSTRAINTS = ((LABEL_HOSTNAME, 3), (LABEL_ZONE, 5))


@dataclass(frozen=True)
class Constraint:
    max_skew: int
    topology_key: str
    when_unsatisfiable: str
    selector: Selector | None  # None: no labelSelector, which selects no pod
    min_domains: int
    node_affinity_policy: str
    node_taints_policy: str
    memo_key: str = field(default="", compare=False)

    def matches(self, pod: PodInfo) -> bool:
        return self.selector is not None and self.selector.matches(pod.labels)

    def count(self, pod: PodInfo, node: NodeInfo) -> int:
        """Matching pods of the pod's namespace on the node."""
        if self.selector is None:
            return 0
        return node.count_matching(self.memo_key, pod.namespace, self.selector)


def _constraint(max_skew: int, key: str, when: str, selector: Selector | None, namespace: str,
                min_domains: int = 1, affinity_policy: str = HONOR, taints_policy: str = IGNORE) -> Constraint:
    memo_key = f"{namespace}\x00{selector}" if selector is not None else ""
    return Constraint(max_skew, key, when, selector, min_domains, affinity_policy, taints_policy, memo_key)


def constraints_of(pod: PodInfo, snapshot: Snapshot) -> tuple[list[Constraint], bool]:
    """The pod's constraints, and whether they are the system defaults."""
    declared = pod.pod.spec.topology_spread_constraints
    if declared:
        return [_compile(c, pod) for c in declared], False
    selector = default_selector(pod.pod, snapshot.workloads)
    if selector.empty:
        return [], True
    return [_constraint(skew, key, SCHEDULE_ANYWAY, selector, pod.namespace) for key, skew in DEFAULT_CONSTRAINTS], True


def _compile(c: Any, pod: PodInfo) -> Constraint:
    selector = None
    if c.HasField("label_selector"):
        selector = from_label_selector(c.label_selector)
    selector = _with_label_keys(selector, c.match_label_keys, pod.labels)
    return _constraint(c.max_skew, c.topology_key, c.when_unsatisfiable or DO_NOT_SCHEDULE, selector, pod.namespace,
                       c.min_domains if c.HasField("min_domains") else 1,
                       c.node_affinity_policy or HONOR, c.node_taints_policy or IGNORE)


def _with_label_keys(selector: Selector | None, keys: Any, labels: Mapping[str, str]) -> Selector | None:
    """matchLabelKeys: the pod's values for those keys join the selector (alone, without one)."""
    extra = [Requirement(key, EQUALS, (labels[key],)) for key in keys if key in labels]
    if not extra:
        return selector
    merged = extra + list(selector.requirements if selector is not None else ())
    return Selector(tuple(sorted(merged, key=lambda r: r.key)))


def has_keys(node: NodeInfo, constraints: list[Constraint]) -> bool:
    return all(node.topology_value(c.topology_key) is not None for c in constraints)


def _eligible(pod: PodInfo, node: NodeInfo, c: Constraint) -> bool:
    if c.node_affinity_policy == HONOR and not _matches_node_affinity(pod, node):
        return False
    if c.node_taints_policy == HONOR and first_untolerated(node.taints, pod.tolerations, SCHEDULING_EFFECTS):
        return False
    return True


def _may_exclude(pod: PodInfo, c: Constraint) -> bool:
    """Whether the node inclusion policies can leave any node out for this pod."""
    honors_affinity = c.node_affinity_policy == HONOR and (pod.node_selector or pod.required_node_terms is not None)
    return bool(honors_affinity) or c.node_taints_policy == HONOR


def _matches_node_affinity(pod: PodInfo, node: NodeInfo) -> bool:
    if any(node.labels.get(key) != value for key, value in pod.node_selector.items()):
        return False
    terms = pod.required_node_terms
    return terms is None or any(t.matches(node.labels, node.name) for t in terms)


# --- Filter ---------------------------------------------------------------------------------------

class SpreadState:
    """Per cycle: matching pods per (constraint, domain) over the eligible nodes of the cluster."""

    def __init__(self, pod: PodInfo, constraints: list[Constraint], snapshot: Snapshot) -> None:
        self.constraints = constraints
        self.counts: list[Counter[str]] = [Counter() for _ in constraints]
        self.self_match = [int(c.matches(pod)) for c in constraints]
        for node in snapshot.nodes.values():
            if not has_keys(node, constraints):
                continue
            for i, c in enumerate(constraints):
                if _eligible(pod, node, c):
                    self.counts[i][node.topology_value(c.topology_key)] += c.count(pod, node)

    def min_count(self, i: int) -> int:
        counts = self.counts[i]
        if len(counts) < self.constraints[i].min_domains or not counts:
            return 0
        return min(counts.values())


def pre_filter(pod: PodInfo, snapshot: Snapshot) -> Any:
    if not pod.pod.spec.topology_spread_constraints:
        return SKIP  # the system defaults are ScheduleAnyway only
    constraints, _ = constraints_of(pod, snapshot)
    hard = [c for c in constraints if c.when_unsatisfiable == DO_NOT_SCHEDULE]
    if not hard:
        return SKIP
    return SpreadState(pod, hard, snapshot)


def filter_spread(pod: PodInfo, node: NodeInfo, state: SpreadState) -> Status:
    if not has_keys(node, state.constraints):
        return unschedulable(PLUGIN, ERR_MISSING_LABEL, unresolvable=True)
    for i, c in enumerate(state.constraints):
        value = node.topology_value(c.topology_key)
        skew = state.counts[i][value] + state.self_match[i] - state.min_count(i)
        if skew > c.max_skew:
            return unschedulable(PLUGIN, ERR_MISMATCH)
    return SUCCESS


# --- Score ----------------------------------------------------------------------------------------

class ScoreState:
    """Per cycle, as kube-scheduler's PreScore: the domains of the feasible nodes, each counting the
    matching pods on every eligible node of the cluster (hostname domains are counted while scoring),
    and each constraint's weight log(domains + 2)."""

    def __init__(self, pod: PodInfo, constraints: list[Constraint], snapshot: Snapshot,
                 feasible: list[NodeInfo], require_all_keys: bool) -> None:
        self.constraints = constraints
        self.ignored: set[str] = set()
        # Without require_all_keys (system defaults) a node lacking a key is in the domain "".
        self.counts: list[dict[str, int]] = [{} for _ in constraints]
        for node in feasible:
            if require_all_keys and not has_keys(node, constraints):
                self.ignored.add(node.name)
                continue
            for i, c in enumerate(constraints):
                if c.topology_key != LABEL_HOSTNAME:
                    self.counts[i].setdefault(node.labels.get(c.topology_key, ""), 0)
        scored = len(feasible) - len(self.ignored)
        self.weights = [math.log((scored if c.topology_key == LABEL_HOSTNAME else len(self.counts[i])) + 2)
                        for i, c in enumerate(constraints)]
        self._count_domains(pod, snapshot, require_all_keys)
        self.terms = [(c, None if c.topology_key == LABEL_HOSTNAME else self.counts[i], self.weights[i])
                      for i, c in enumerate(constraints)]

    def _count_domains(self, pod: PodInfo, snapshot: Snapshot, require_all_keys: bool) -> None:
        zoned = [(self.counts[i], c, _may_exclude(pod, c)) for i, c in enumerate(self.constraints)
                 if c.topology_key != LABEL_HOSTNAME]
        if not zoned:
            return
        for node in snapshot.nodes.values():
            if require_all_keys and not has_keys(node, self.constraints):
                continue
            labels = node.labels
            for counts, c, check in zoned:
                # The "" domain (nodes without the key) only weighs; no node scores by its count.
                value = labels.get(c.topology_key)
                if value is not None and value in counts and (not check or _eligible(pod, node, c)):
                    count = node.match_counts.get(c.memo_key)
                    counts[value] += count if count is not None else c.count(pod, node)


def pre_score(pod: PodInfo, snapshot: Snapshot, feasible: list[NodeInfo] | None = None) -> Any:
    constraints, defaulted = constraints_of(pod, snapshot)
    soft = [c for c in constraints if c.when_unsatisfiable == SCHEDULE_ANYWAY]
    if not soft or not snapshot.nodes:
        return SKIP
    nodes = list(snapshot.nodes.values()) if feasible is None else feasible
    return ScoreState(pod, soft, snapshot, nodes, require_all_keys=not defaulted)


IGNORED = -1  # a node without the constraints' keys: scores 0 after normalizing


def score(pod: PodInfo, node: NodeInfo, state: ScoreState) -> int:
    if node.name in state.ignored:
        return IGNORED
    total = 0.0
    for c, counts, weight in state.terms:
        if counts is None:  # by hostname: this node's own pods (every node has a hostname)
            count = node.match_counts.get(c.memo_key)
            if count is None:
                count = c.count(pod, node)
        else:
            value = node.labels.get(c.topology_key)
            if value is None:
                continue
            count = counts[value]
        total += count * weight + (c.max_skew - 1)
    return math.floor(total + 0.5)  # Go's math.Round: halves away from zero


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
