"""Inter-pod affinity: required terms filter nodes, preferred terms score them.

Counts are keyed by topology pair (topologyKey, node's value for it), so a
term on `topology.kubernetes.io/zone` is satisfied by any node of the zone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from control.scheduler.framework import (
    MAX_NODE_SCORE,
    SKIP,
    SUCCESS,
    NodeInfo,
    Snapshot,
    Status,
    unschedulable,
)
from control.scheduler.podinfo import PodInfo

ERR_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HARD_POD_AFFINITY_WEIGHT = 1

TopologyPair = tuple[str, str]


@dataclass
class FilterState:
    existing_anti: Counter[TopologyPair]  # existing pods' anti-affinity terms matching this pod
    anti: Counter[TopologyPair]  # existing pods matching this pod's anti-affinity terms
    affinity: Counter[TopologyPair]  # existing pods matching all of this pod's affinity terms
    matches_own_affinity: bool = False


def _count_existing_anti(pod: PodInfo, snapshot: Snapshot) -> Counter[TopologyPair]:
    counts: Counter[TopologyPair] = Counter()
    ns_labels = snapshot.namespace_labels
    for name in snapshot.anti_affinity_nodes:
        node = snapshot.nodes[name]
        for other in node.pods_with_required_anti_affinity.values():
            for term in other.required_anti_affinity:
                value = node.topology_value(term.topology_key)
                if value is not None and term.matches(pod.namespace, pod.labels, ns_labels):
                    counts[(term.topology_key, value)] += 1
    return counts


def _count_incoming(pod: PodInfo, snapshot: Snapshot) -> tuple[Counter[TopologyPair], Counter[TopologyPair]]:
    anti: Counter[TopologyPair] = Counter()
    affinity: Counter[TopologyPair] = Counter()
    ns_labels = snapshot.namespace_labels
    for node in snapshot.nodes.values():
        for other in node.pods.values():
            if pod.required_affinity and all(
                    t.matches(other.namespace, other.labels, ns_labels) for t in pod.required_affinity):
                _count_terms(affinity, pod.required_affinity, node)
            for term in pod.required_anti_affinity:
                if term.matches(other.namespace, other.labels, ns_labels):
                    _count_terms(anti, (term,), node)
    return anti, affinity


def _count_terms(counts: Counter[TopologyPair], terms, node: NodeInfo, amount: int = 1) -> None:
    for term in terms:
        value = node.topology_value(term.topology_key)
        if value is not None:
            counts[(term.topology_key, value)] += amount


def pre_filter(pod: PodInfo, snapshot: Snapshot) -> Any:
    existing_anti = _count_existing_anti(pod, snapshot)
    if not existing_anti and not pod.required_affinity and not pod.required_anti_affinity:
        return SKIP
    anti, affinity = _count_incoming(pod, snapshot)
    own = all(t.matches(pod.namespace, pod.labels, snapshot.namespace_labels) for t in pod.required_affinity)
    return FilterState(existing_anti, anti, affinity, own)


def _satisfies_affinity(pod: PodInfo, node: NodeInfo, state: FilterState) -> bool:
    pods_exist = True
    for term in pod.required_affinity:
        value = node.topology_value(term.topology_key)
        if value is None:
            return False  # the node must carry every topology key
        if state.affinity[(term.topology_key, value)] <= 0:
            pods_exist = False
    if pods_exist:
        return True
    # The first pod of a group with affinity to itself may go anywhere.
    return not state.affinity and state.matches_own_affinity


def filter_affinity(pod: PodInfo, node: NodeInfo, state: FilterState) -> Status:
    for (key, value), count in state.existing_anti.items():
        if count > 0 and node.topology_value(key) == value:
            return unschedulable("InterPodAffinity", ERR_EXISTING_ANTI_AFFINITY)
    for term in pod.required_anti_affinity:
        value = node.topology_value(term.topology_key)
        if value is not None and state.anti[(term.topology_key, value)] > 0:
            return unschedulable("InterPodAffinity", ERR_ANTI_AFFINITY)
    if pod.required_affinity and not _satisfies_affinity(pod, node, state):
        return unschedulable("InterPodAffinity", ERR_AFFINITY, unresolvable=True)
    return SUCCESS


def _score_existing(pod: PodInfo, other: PodInfo, node: NodeInfo, ns_labels, scores: Counter) -> None:
    """Adds what one existing pod contributes to the topology pair scores, both directions."""
    for term in pod.preferred_affinity:
        if term.matches(other.namespace, other.labels, ns_labels):
            _count_terms(scores, (term,), node, term.weight)
    for term in pod.preferred_anti_affinity:
        if term.matches(other.namespace, other.labels, ns_labels):
            _count_terms(scores, (term,), node, -term.weight)
    for term in other.required_affinity:
        if term.matches(pod.namespace, pod.labels, ns_labels):
            _count_terms(scores, (term,), node, HARD_POD_AFFINITY_WEIGHT)
    for term in other.preferred_affinity:
        if term.matches(pod.namespace, pod.labels, ns_labels):
            _count_terms(scores, (term,), node, term.weight)
    for term in other.preferred_anti_affinity:
        if term.matches(pod.namespace, pod.labels, ns_labels):
            _count_terms(scores, (term,), node, -term.weight)


def pre_score(pod: PodInfo, snapshot: Snapshot, feasible: list[NodeInfo] | None = None) -> Any:
    has_preferred = bool(pod.preferred_affinity or pod.preferred_anti_affinity)
    if not has_preferred and not snapshot.affinity_nodes:
        return SKIP
    nodes = (snapshot.nodes.values() if has_preferred
             else (snapshot.nodes[n] for n in snapshot.affinity_nodes))
    scores: Counter[TopologyPair] = Counter()
    for node in nodes:
        others = node.pods.values() if has_preferred else node.pods_with_affinity.values()
        for other in others:
            _score_existing(pod, other, node, snapshot.namespace_labels, scores)
    scores = Counter({k: v for k, v in scores.items() if v})
    return scores or SKIP


def score(pod: PodInfo, node: NodeInfo, state: Counter[TopologyPair]) -> int:
    total = 0
    for (key, value), amount in state.items():
        if node.topology_value(key) == value:
            total += amount
    return total


def normalize(scores: list[int]) -> None:
    """Min-max scaling: scores may be negative (anti-affinity)."""
    if not scores:
        return
    low, high = min(scores), max(scores)
    spread = high - low
    for i, s in enumerate(scores):
        scores[i] = int(MAX_NODE_SCORE * (s - low) / spread) if spread > 0 else 0
