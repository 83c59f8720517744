"""One scheduling decision: filter nodes (only as many as needed), score them, pick the best."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from control.scheduler.cache import Cache
from control.scheduler.framework import SKIP, NodeInfo, Profile, Status
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
    """Reasons counted over nodes and sorted as strings ("<count> <reason>"), as kube-scheduler does."""
    histogram = Counter(reason for status in statuses.values() for reason in status.reasons)
    reasons = sorted(f"{count} {reason}" for reason, count in histogram.items())
    message = f"0/{num_all_nodes} nodes are available:"
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
        names = self.cache.node_names()
        if not names:
            raise NoNodesAvailableError()
        feasible, statuses, evaluated = self._find_feasible(pod, names)
        if not feasible:
            raise FitError(pod, len(names), statuses)
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, evaluated, 1)
        totals = self._prioritize(pod, feasible)
        return ScheduleResult(self._select_host(feasible, totals), evaluated, len(feasible))

    def _active_filters(self, pod: PodInfo) -> list[tuple]:
        snapshot = self.cache.snapshot
        active = []
        for plugin in self.profile.filters:
            state = plugin.pre_filter(pod, snapshot) if plugin.pre_filter else None
            if state is not SKIP:
                active.append((plugin.filter, state))
        return active

    def _find_feasible(self, pod: PodInfo, names: list[str]) -> tuple[list[NodeInfo], dict[str, Status], int]:
        """Filters nodes round-robin from where the last cycle stopped until enough fit."""
        filters = self._active_filters(pod)
        nodes = self.cache.snapshot.nodes
        total = len(names)
        wanted = num_feasible_nodes_to_find(total, self.percentage_of_nodes_to_score)
        start = self.next_start_node_index % total
        feasible: list[NodeInfo] = []
        statuses: dict[str, Status] = {}
        evaluated = 0
        for i in range(total):
            name = names[(start + i) % total]
            node = nodes[name]
            evaluated += 1
            for fn, state in filters:
                status = fn(pod, node, state)
                if status.code:
                    statuses[name] = status
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
        for plugin in self.profile.scores:
            state = plugin.pre_score(pod, snapshot) if plugin.pre_score else None
            if state is SKIP:
                continue
            fn = plugin.score
            scores = [fn(pod, node, state) for node in feasible]
            if plugin.normalize is not None:
                plugin.normalize(scores)
            weight = plugin.weight
            for i, s in enumerate(scores):
                totals[i] += s * weight
        return totals

    def _select_host(self, feasible: list[NodeInfo], totals: list[int]) -> str:
        best = max(totals)
        ties = [i for i, s in enumerate(totals) if s == best]
        return feasible[self.rng.choice(ties)].name
