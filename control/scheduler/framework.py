"""The scheduling framework: statuses, the per-node view (NodeInfo) and plugins.

Filters are small functions `(pod, node_info, state) -> Status` and scores
`(pod, node_info, state) -> int`; a Plugin bundles them with an optional
pre-filter / pre-score that computes per-cycle `state` once (or returns SKIP so
the plugin is not called for this pod at all), a normalizer and a weight.
Most plugins ignore `state`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from control.client.selectors import Selector
from control.client.wellknown import LABEL_HOSTNAME, NODE_READY, SCHEDULING_EFFECTS, condition_is_true
from control.scheduler.podinfo import PodInfo, Resources
from control.scheduler.spreadselector import NoWorkloads, Workloads
from skiff.v1 import core_pb2

MAX_NODE_SCORE = 100


class Code(enum.IntEnum):
    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    # Nothing short of changing the node (not evicting pods) makes it fit.
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3


@dataclass(frozen=True, slots=True)
class Status:
    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""
    # Found by a PreFilter for the pod as a whole: the message names it once, not per node.
    pre_filter: bool = False

    @property
    def ok(self) -> bool:
        return self.code == Code.SUCCESS


SUCCESS = Status()


def unschedulable(plugin: str, *reasons: str, unresolvable: bool = False) -> Status:
    code = Code.UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
    return Status(code, reasons, plugin)


class NodeInfo:
    """A node plus the aggregate of the pods bound (or assumed) to it."""

    __slots__ = ("node", "name", "labels", "taints", "ready", "unschedulable", "allocatable",
                 "requested", "non_zero_requested", "pods", "used_ports", "match_counts",
                 "pods_with_affinity", "pods_with_required_anti_affinity", "generation", "admits_all",
                 "score_memo")

    def __init__(self, node: core_pb2.Node | None = None, name: str = "") -> None:
        self.node: core_pb2.Node | None = None
        self.name = name
        self.labels: dict[str, str] = {}
        self.taints: list[core_pb2.Taint] = []
        self.ready = False
        self.unschedulable = False
        self.allocatable = Resources()
        self.requested = Resources()
        self.non_zero_requested = Resources()
        self.pods: dict[str, PodInfo] = {}
        # (ip, protocol, port) triples taken by pods on this node.
        self.used_ports: set[tuple[str, str, int]] = set()
        # Pods matching a (namespace, selector), by the selector's key: kept until the node changes.
        self.match_counts: dict[str, int] = {}
        self.pods_with_affinity: dict[str, PodInfo] = {}
        self.pods_with_required_anti_affinity: dict[str, PodInfo] = {}
        self.generation = 0
        self.admits_all = False
        self.score_memo: dict[tuple, int] = {}  # see ScorePlugin.memo_key; emptied on every change
        if node is not None:
            self.set_node(node)

    def set_node(self, node: core_pb2.Node) -> None:
        self.node = node
        self.name = node.metadata.name
        self.labels = dict(node.metadata.labels)
        self.taints = list(node.spec.taints)
        self.unschedulable = node.spec.unschedulable
        self.ready = condition_is_true(node.status, NODE_READY)
        self.allocatable = Resources.from_node_allocatable(node.status.allocatable)
        # Ready, schedulable and untainted: node-level filters pass whatever the pod tolerates.
        self.admits_all = self.ready and not self.unschedulable and not any(
            t.effect in SCHEDULING_EFFECTS for t in self.taints)
        self._changed()

    def _changed(self) -> None:
        self.generation += 1
        self.score_memo.clear()
        self.match_counts.clear()

    pod_changed = _changed  # a bound pod changed in place (e.g. it started terminating)

    def count_matching(self, key: str, namespace: str, selector: Selector) -> int:
        """Pods in `namespace` that `selector` matches, terminating ones left out (kube-scheduler's
        countPodsMatchSelector); `key` names (namespace, selector) for the memo."""
        count = self.match_counts.get(key)
        if count is None:
            count = self.match_counts[key] = sum(
                1 for p in self.pods.values()
                if p.namespace == namespace and not p.terminating and selector.matches(p.labels))
        return count

    def topology_value(self, key: str) -> str | None:
        """The node's value for a topology key; the hostname falls back to the node name."""
        value = self.labels.get(key)
        if value is None and key == LABEL_HOSTNAME:
            return self.name
        return value

    def add_pod(self, pod: PodInfo) -> None:
        self.pods[pod.key] = pod
        self.requested.add(pod.requests)
        self.non_zero_requested.add(pod.non_zero_requests)
        self.used_ports.update(pod.host_ports)
        if pod.has_affinity:
            self.pods_with_affinity[pod.key] = pod
        if pod.required_anti_affinity:
            self.pods_with_required_anti_affinity[pod.key] = pod
        self._changed()

    def remove_pod(self, key: str) -> PodInfo | None:
        pod = self.pods.pop(key, None)
        if pod is None:
            return None
        self.requested.subtract(pod.requests)
        self.non_zero_requested.subtract(pod.non_zero_requests)
        for port in pod.host_ports:
            if not any(port in other.host_ports for other in self.pods.values()):
                self.used_ports.discard(port)
        self.pods_with_affinity.pop(key, None)
        self.pods_with_required_anti_affinity.pop(key, None)
        self._changed()
        return pod


class Snapshot:
    """What plugins may look at besides the node at hand; the cache keeps it current.

    The scheduling cycle runs without awaiting, so it sees one consistent state.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, NodeInfo] = {}
        self.namespace_labels: dict[str, dict[str, str]] = {}
        # Names of nodes with pods that have (required anti-) affinity: the only
        # nodes the inter-pod affinity plugin must visit for most pods.
        self.affinity_nodes: set[str] = set()
        self.anti_affinity_nodes: set[str] = set()
        self.prefer_no_schedule_nodes: set[str] = set()  # nodes with PreferNoSchedule taints
        # Services and controllers, for the default topology spread constraints' selector.
        self.workloads: Workloads = NoWorkloads()


SKIP = object()  # returned by a pre-filter / pre-score: don't run this plugin for this pod

PreFn = Callable[[PodInfo, Snapshot], Any]
# PreScore also sees the nodes that passed the filters (kube-scheduler's filteredNodes).
PreScoreFn = Callable[[PodInfo, Snapshot, list[NodeInfo]], Any]
FilterFn = Callable[[PodInfo, NodeInfo, Any], Status]
ScoreFn = Callable[[PodInfo, NodeInfo, Any], int]
NormalizeFn = Callable[[list[int]], None]


@dataclass
class FilterPlugin:
    name: str
    filter: FilterFn
    pre_filter: PreFn | None = None
    # True for filters that pass every pod on a node whose `admits_all` is set (Ready,
    # schedulable, no NoSchedule/NoExecute taints); the loop skips calling them there.
    node_level: bool = False


@dataclass
class ScorePlugin:
    name: str
    score: ScoreFn
    weight: int = 1
    pre_score: PreScoreFn | None = None
    normalize: NormalizeFn | None = None
    # For scores that depend only on the node's state and this key of the pod (e.g.
    # its cpu and memory requests) and need no normalizing: their weighted sum is
    # remembered per node until the node changes, so replicas of one template
    # don't recompute every node.
    memo_key: Callable[[PodInfo], Any] | None = None


@dataclass
class Profile:
    """One scheduler profile: the ordered filters and weighted scores."""

    scheduler_name: str
    filters: list[FilterPlugin] = field(default_factory=list)
    scores: list[ScorePlugin] = field(default_factory=list)


def default_normalize(scores: list[int], reverse: bool = False) -> None:
    """Scales scores to 0..MAX_NODE_SCORE by the maximum (kube-scheduler's helper)."""
    top = max(scores, default=0)
    if top == 0:
        if reverse:
            scores[:] = [MAX_NODE_SCORE] * len(scores)
        return
    for i, s in enumerate(scores):
        s = MAX_NODE_SCORE * s // top
        scores[i] = MAX_NODE_SCORE - s if reverse else s


def reverse_normalize(scores: list[int]) -> None:
    default_normalize(scores, reverse=True)
