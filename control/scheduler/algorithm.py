"""One scheduling decision: filter nodes (only as many as needed), score them, pick the best."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from control.scheduler.cache import Cache
from control.scheduler.framework import SKIP, SUCCESS, NodeInfo, Profile, Status
from control.scheduler.podinfo import PodInfo

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
NO_NODES_AVAILABLE = "no nodes available to schedule pods"


class NoNodesAvailableError(Exception):
    def __init__(self) -> None:
        super().__init__(NO_NODES_AVAILABLE)


class FitError(Exception):
    """No node fits; str() is kube-scheduler's message, e.g.
    "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu."
    """

    def __init__(self, pod: PodInfo, num_all_nodes: int, statuses: dict[str, Status]) -> None:
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.statuses = statuses
        super().__init__(fit_error_message(num_all_nodes, statuses))

    @property
    def plugins(self) -> set[str]:
        return {s.plugin for s in self.statuses.values()}


def fit_error_message(num_all_nodes: int, statuses: dict[str, Status]) -> str:
    """Reasons counted over nodes and sorted as strings ("<count> <reason>"), as kube-scheduler does; a
    PreFilter's refusal is named once."""
    message = f"0/{num_all_nodes} nodes are available:"
    pre_filter = next((s for s in statuses.values() if s.pre_filter), None)
    if pre_filter is not None:
        return f"{message} {', '.join(pre_filter.reasons)}."
    histogram = Counter(reason for status in statuses.values() for reason in status.reasons)
    reasons = sorted(f"{count} {reason}" for reason, count in histogram.items())
    if reasons:
        message += f" {', '.join(reasons)}."
    return message


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    """kube-scheduler's percentageOfNodesToScore; 0 means adaptive: 50% minus 1% per 125 nodes, >= 5%."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage <= 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    count = num_all_nodes * min(percentage, 100) // 100
    return max(count, MIN_FEASIBLE_NODES_TO_FIND)


@dataclass
class ScheduleResult:
    node_name: str
    evaluated_nodes: int
    feasible_nodes: int


class Algorithm:
    def __init__(self, cache: Cache, profile: Profile, percentage_of_nodes_to_score: int = 0,
                 rng: random.Random | None = None) -> None:
        self.cache = cache
        self.profile = profile
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score
        self.next_start_node_index = 0
        self.rng = rng or random.Random()

    def schedule(self, pod: PodInfo) -> ScheduleResult:
        nodes = self.cache.node_infos()
        if not nodes:
            raise NoNodesAvailableError()
        feasible, statuses, evaluated = self._find_feasible(pod, nodes)
        if not feasible:
            raise FitError(pod, len(nodes), statuses)
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, evaluated, 1)
        totals = self._prioritize(pod, feasible)
        return ScheduleResult(self._select_host(feasible, totals), evaluated, len(feasible))

    def _active_filters(self, pod: PodInfo) -> tuple[list[tuple], list[tuple]]:
        """The filters to run for this pod: all of them, and those a node that admits all needs."""
        snapshot = self.cache.snapshot
        active, per_pod = [], []
        for plugin in self.profile.filters:
            state = plugin.pre_filter(pod, snapshot) if plugin.pre_filter else None
            if state is not SKIP:
                active.append((plugin.filter, state))
                if not plugin.node_level:
                    per_pod.append((plugin.filter, state))
        return active, per_pod

    def fitter(self, pod: PodInfo) -> Callable[[PodInfo, NodeInfo], bool]:
        """Whether the pod passes every filter on a given (possibly simulated) node; pre-filter state
        is computed once, for preemption to try many node variants."""
        every, _ = self._active_filters(pod)

        def fits(candidate: PodInfo, node: NodeInfo) -> bool:
            return all((status := fn(candidate, node, state)) is SUCCESS or not status.code for fn, state in every)
        return fits

    def _find_feasible(self, pod: PodInfo, nodes: list[NodeInfo]) -> tuple[list[NodeInfo], dict[str, Status], int]:
        """Filters nodes round-robin from where the last cycle stopped until enough fit."""
        every, per_pod = self._active_filters(pod)
        total = len(nodes)
        wanted = num_feasible_nodes_to_find(total, self.percentage_of_nodes_to_score)
        start = self.next_start_node_index % total
        feasible: list[NodeInfo] = []
        statuses: dict[str, Status] = {}
        evaluated = 0
        for node in nodes[start:] + nodes[:start]:
            evaluated += 1
            for fn, state in per_pod if node.admits_all else every:
                status = fn(pod, node, state)
                if status is not SUCCESS and status.code:
                    statuses[node.name] = status
                    break
            else:
                feasible.append(node)
                if len(feasible) >= wanted:
                    break
        self.next_start_node_index = (start + evaluated) % total
        return feasible, statuses, evaluated

    def _prioritize(self, pod: PodInfo, feasible: list[NodeInfo]) -> list[int]:
        snapshot = self.cache.snapshot
        totals = [0] * len(feasible)
        memoized = []
        for plugin in self.profile.scores:
            state = plugin.pre_score(pod, snapshot, feasible) if plugin.pre_score else None
            if state is SKIP:
                continue
            if plugin.memo_key is not None and plugin.normalize is None:
                memoized.append((plugin, state))
                continue
            fn = plugin.score
            scores = [fn(pod, node, state) for node in feasible]
            if plugin.normalize is not None:
                plugin.normalize(scores)
            weight = plugin.weight
            totals = [t + s * weight for t, s in zip(totals, scores, strict=True)]
        if memoized:
            sums = self._memoized_sums(pod, feasible, memoized)
            totals = [t + s for t, s in zip(totals, sums, strict=True)]
        return totals

    @staticmethod
    def _memoized_sums(pod: PodInfo, feasible: list[NodeInfo], plugins: list[tuple]) -> list[int]:
        """The weighted sum of the memoizable plugins per node, remembered until the node changes."""
        # A string: its hash is computed once, a tuple's on every lookup.
        key = repr(tuple((plugin.name, plugin.memo_key(pod)) for plugin, _ in plugins))
        parts = [(plugin.score, plugin.weight, state) for plugin, state in plugins]
        sums = []
        for node in feasible:
            memo = node.score_memo
            total = memo.get(key)
            if total is None:
                if len(memo) > 64:
                    memo.clear()
                total = memo[key] = sum(fn(pod, node, state) * weight for fn, weight, state in parts)
            sums.append(total)
        return sums

    def _select_host(self, feasible: list[NodeInfo], totals: list[int]) -> str:
        best = max(totals)
        ties = [i for i, s in enumerate(totals) if s == best]
        return feasible[self.rng.choice(ties)].name
