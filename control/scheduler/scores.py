"""Score plugins: how good is this node for this pod? Raw scores, then normalized to 0..100."""

from __future__ import annotations

from typing import Any

from control.client.wellknown import PREFER_NO_SCHEDULE
from control.scheduler import interpod, topologyspread
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
    if requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def least_allocated(pod: PodInfo, node: NodeInfo, state: Any = None) -> int:
    """Prefers the emptiest node: free share of cpu and memory, counting request-less pods as 100m/200Mi."""
    alloc, used, want = node.allocatable, node.non_zero_requested, pod.non_zero_requests
    cpu, memory = alloc.milli_cpu, alloc.memory
    if cpu and memory:  # the usual case, inline
        cpu_req, mem_req = used.milli_cpu + want.milli_cpu, used.memory + want.memory
        cpu_score = (cpu - cpu_req) * MAX_NODE_SCORE // cpu if cpu_req <= cpu else 0
        mem_score = (memory - mem_req) * MAX_NODE_SCORE // memory if mem_req <= memory else 0
        return (cpu_score + mem_score) // 2
    if cpu:
        return _least_requested(used.milli_cpu + want.milli_cpu, cpu)
    if memory:
        return _least_requested(used.memory + want.memory, memory)
    return 0


def balanced_allocation(pod: PodInfo, node: NodeInfo, state: Any = None) -> int:
    """Prefers nodes whose cpu and memory would be used in equal shares: 100 * (1 - std dev)."""
    alloc, used, want = node.allocatable, node.requested, pod.requests
    cpu, memory = alloc.milli_cpu, alloc.memory
    if not cpu or not memory:
        return MAX_NODE_SCORE  # one resource alone has no spread
    cpu_share = (used.milli_cpu + want.milli_cpu) / cpu
    memory_share = (used.memory + want.memory) / memory
    if cpu_share > 1.0:
        cpu_share = 1.0
    if memory_share > 1.0:
        memory_share = 1.0
    return int((1 - abs(cpu_share - memory_share) / 2) * MAX_NODE_SCORE)


def node_affinity_pre_score(pod: PodInfo, snapshot: Snapshot, feasible: list[NodeInfo] | None = None) -> Any:
    return SKIP if not pod.preferred_node_terms else None


def node_affinity(pod: PodInfo, node: NodeInfo, state: Any = None) -> int:
    """Sum of the weights of the preferred node affinity terms the node matches."""
    return sum(weight for weight, term in pod.preferred_node_terms if term.matches(node.labels, node.name))


def taint_toleration_pre_score(pod: PodInfo, snapshot: Snapshot, feasible: list[NodeInfo] | None = None) -> Any:
    if not snapshot.prefer_no_schedule_nodes:
        return SKIP  # every node would score the same
    return [t for t in pod.tolerations if t.effect in ("", PREFER_NO_SCHEDULE)]


def taint_toleration(pod: PodInfo, node: NodeInfo, tolerations: list) -> int:
    """Raw score: PreferNoSchedule taints the pod doesn't tolerate (fewer is better)."""
    if not node.taints:
        return 0
    return sum(1 for taint in node.taints
               if taint.effect == PREFER_NO_SCHEDULE and not tolerated(tolerations, taint))


def _non_zero_cpu_memory(pod: PodInfo) -> tuple[int, int]:
    return pod.non_zero_requests.milli_cpu, pod.non_zero_requests.memory


def _cpu_memory(pod: PodInfo) -> tuple[int, int]:
    return pod.requests.milli_cpu, pod.requests.memory


def default_scores() -> list[ScorePlugin]:
    """kube-scheduler's default score plugins and weights."""
    return [
        ScorePlugin("TaintToleration", taint_toleration, 3, taint_toleration_pre_score, reverse_normalize),
        ScorePlugin("NodeAffinity", node_affinity, 2, node_affinity_pre_score, default_normalize),
        ScorePlugin("NodeResourcesFit", least_allocated, 1, memo_key=_non_zero_cpu_memory),
        ScorePlugin("NodeResourcesBalancedAllocation", balanced_allocation, 1, memo_key=_cpu_memory),
        ScorePlugin("InterPodAffinity", interpod.score, 2, interpod.pre_score, interpod.normalize),
        ScorePlugin("PodTopologySpread", topologyspread.score, 2, topologyspread.pre_score, topologyspread.normalize),
    ]
