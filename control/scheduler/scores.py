"""Score plugins: how good is this node for this pod? Raw scores, then normalized to 0..100."""

from __future__ import annotations

from typing import Any

from control.scheduler import interpod
from control.scheduler.framework import (
    MAX_NODE_SCORE,
    SKIP,
    NodeInfo,
    ScorePlugin,
    Snapshot,
    default_normalize,
    reverse_normalize,
)
from control.scheduler.matching import tolerated
from control.scheduler.podinfo import PodInfo


def _least_requested(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def least_allocated(pod: PodInfo, node: NodeInfo, state: Any = None) -> int:
    """Prefers the emptiest node: free share of cpu and memory, counting request-less pods as 100m/200Mi."""
    alloc, used, want = node.allocatable, node.non_zero_requested, pod.non_zero_requests
    total = weights = 0
    for capacity, requested in ((alloc.milli_cpu, used.milli_cpu + want.milli_cpu),
                                (alloc.memory, used.memory + want.memory)):
        if capacity:
            total += _least_requested(requested, capacity)
            weights += 1
    return total // weights if weights else 0


def balanced_allocation(pod: PodInfo, node: NodeInfo, state: Any = None) -> int:
    """Prefers nodes whose cpu and memory would be used in equal shares: 100 * (1 - std dev)."""
    alloc, used, want = node.allocatable, node.requested, pod.requests
    fractions = [min(1.0, requested / capacity)
                 for capacity, requested in ((alloc.milli_cpu, used.milli_cpu + want.milli_cpu),
                                             (alloc.memory, used.memory + want.memory))
                 if capacity]
    std = abs(fractions[0] - fractions[1]) / 2 if len(fractions) == 2 else 0.0
    return int((1 - std) * MAX_NODE_SCORE)


def owner_spread_pre_score(pod: PodInfo, snapshot: Snapshot) -> Any:
    return SKIP if not pod.owner_uid else None


def owner_spread(pod: PodInfo, node: NodeInfo, state: Any = None) -> int:
    """Raw score: pods of the same controller (e.g. ReplicaSet) already on the node."""
    return node.owner_counts.get(pod.owner_uid, 0)


def owner_spread_normalize(scores: list[int]) -> None:
    """Fewest siblings scores 100, the most crowded node 0."""
    top = max(scores, default=0)
    for i, count in enumerate(scores):
        scores[i] = int(MAX_NODE_SCORE * (top - count) / top) if top else MAX_NODE_SCORE


def node_affinity_pre_score(pod: PodInfo, snapshot: Snapshot) -> Any:
    return SKIP if not pod.preferred_node_terms else None


def node_affinity(pod: PodInfo, node: NodeInfo, state: Any = None) -> int:
    """Sum of the weights of the preferred node affinity terms the node matches."""
    return sum(weight for weight, term in pod.preferred_node_terms if term.matches(node.labels, node.name))


def taint_toleration_pre_score(pod: PodInfo, snapshot: Snapshot) -> Any:
    return [t for t in pod.tolerations if t.effect in ("", "PreferNoSchedule")]


def taint_toleration(pod: PodInfo, node: NodeInfo, tolerations: list) -> int:
    """Raw score: PreferNoSchedule taints the pod doesn't tolerate (fewer is better)."""
    if not node.taints:
        return 0
    return sum(1 for taint in node.taints
               if taint.effect == "PreferNoSchedule" and not tolerated(tolerations, taint))


def default_scores() -> list[ScorePlugin]:
    """kube-scheduler's default weights; owner spreading stands in for PodTopologySpread's."""
    return [
        ScorePlugin("TaintToleration", taint_toleration, 3, taint_toleration_pre_score, reverse_normalize),
        ScorePlugin("NodeAffinity", node_affinity, 2, node_affinity_pre_score, default_normalize),
        ScorePlugin("NodeResourcesFit", least_allocated, 1),
        ScorePlugin("NodeResourcesBalancedAllocation", balanced_allocation, 1),
        ScorePlugin("InterPodAffinity", interpod.score, 2, interpod.pre_score, interpod.normalize),
        ScorePlugin("OwnerSpread", owner_spread, 2, owner_spread_pre_score, owner_spread_normalize),
    ]
