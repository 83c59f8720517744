"""Resource metrics (metrics.k8s.io), collected as metrics-server collects them.

Every `--metric-resolution` (15 s) the collector asks each node's agent for its stats summary (the
Stats RPC the apiserver already proxies) and keeps, per node and per container, the cumulative CPU
time with the time it was read. CPU usage is the rate between the last two samples (nano-cores over
that window); memory is the working set of the last sample. So a node, or a pod, has metrics from
its second scrape on, and a pod only when every one of its running containers has. Everything is
in memory, as in metrics-server: each apiserver scrapes for itself (agents keep no per-caller state,
so several apiservers do not disturb each other's windows) and a restart starts over.

The collector lives in the apiserver because that is where metrics.k8s.io is served and where the
kubelet client credentials are; Kubernetes puts it in a separate aggregated apiserver
(metrics-server), which Skiff has no aggregation layer for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from control.apiserver.context import ApiContext
from control.client.kinds import KINDS
from skiff.v1 import node_agent_pb2

log = logging.getLogger(__name__)

NODE = KINDS["Node"]


@dataclass(frozen=True)
class Sample:
    usage_ns: int  # cumulative CPU time
    at_ns: int  # Unix ns


@dataclass(frozen=True)
class Point:
    """One object's usage over a window: cpu in nano-cores, memory in bytes."""
    cpu_nano_cores: int
    memory_bytes: int
    timestamp_ns: int
    window_s: float


@dataclass(frozen=True)
class PodPoint:
    containers: dict[str, Point]
    timestamp_ns: int
    window_s: float


def rate(previous: Sample | None, current: Sample) -> tuple[int, float] | None:
    """(nano-cores, window in seconds) between two samples; None without a usable pair."""
    if previous is None or current.at_ns <= previous.at_ns or current.usage_ns < previous.usage_ns:
        return None
    elapsed = current.at_ns - previous.at_ns
    return (current.usage_ns - previous.usage_ns) * 10**9 // elapsed, elapsed / 1e9


@dataclass
class _NodeState:
    cpu: Sample | None = None
    containers: dict[tuple[str, str, str], tuple[str, Sample]] = field(default_factory=dict)


class MetricsStore:
    """The latest usage of every node and pod, from successive stats summaries."""

    def __init__(self) -> None:
        self.nodes: dict[str, Point] = {}
        self.pods: dict[tuple[str, str], PodPoint] = {}
        self._state: dict[str, _NodeState] = {}
        self._pods_of: dict[str, set[tuple[str, str]]] = {}

    def known_nodes(self) -> set[str]:
        return set(self._state)

    def forget(self, node: str) -> None:
        self.nodes.pop(node, None)
        self._state.pop(node, None)
        for key in self._pods_of.pop(node, set()):
            self.pods.pop(key, None)

    def add(self, summary: node_agent_pb2.StatsSummary) -> None:
        name = summary.node_name
        state = self._state.setdefault(name, _NodeState())
        current = Sample(summary.cpu_usage_core_nano_seconds, summary.cpu_timestamp_ns)
        node_rate = rate(state.cpu, current)
        state.cpu = current
        if node_rate is None:
            self.nodes.pop(name, None)
        else:
            self.nodes[name] = Point(node_rate[0], summary.memory_working_set_bytes, current.at_ns, node_rate[1])
        for key in self._pods_of.pop(name, set()):
            self.pods.pop(key, None)
        seen: dict[tuple[str, str, str], tuple[str, Sample]] = {}
        pods: set[tuple[str, str]] = set()
        for pod in summary.pods:
            point = self._pod_point(state, pod, seen)
            if point is not None:
                self.pods[(pod.namespace, pod.name)] = point
                pods.add((pod.namespace, pod.name))
        state.containers = seen
        self._pods_of[name] = pods

    @staticmethod
    def _pod_point(state: _NodeState, pod: node_agent_pb2.PodStats,
                   seen: dict[tuple[str, str, str], tuple[str, Sample]]) -> PodPoint | None:
        containers: dict[str, Point] = {}
        complete = bool(pod.containers)
        for c in pod.containers:
            key = (pod.namespace, pod.name, c.name)
            sample = Sample(c.cpu_usage_core_nano_seconds, c.cpu_timestamp_ns)
            before = state.containers.get(key)
            seen[key] = (c.id, sample)
            r = rate(before[1] if before is not None and before[0] == c.id else None, sample)
            if r is None:
                complete = False
                continue
            containers[c.name] = Point(r[0], c.memory_working_set_bytes, sample.at_ns, r[1])
        if not complete:
            return None
        points = list(containers.values())
        return PodPoint(containers, max(p.timestamp_ns for p in points), max(p.window_s for p in points))


def _has_agent(node) -> bool:
    """Whether the node publishes an agent to scrape (hollow nodes in tests and benchmarks do not)."""
    return bool(node.status.daemon_endpoints.kubelet_endpoint.port) and \
        any(a.type == "InternalIP" for a in node.status.addresses)


class Collector:
    """Scrapes every node's agent each `resolution` seconds into a MetricsStore."""

    def __init__(self, api: ApiContext, resolution: float, timeout: float | None = None) -> None:
        self.api = api
        self.resolution = resolution
        self.timeout = timeout if timeout is not None else max(1.0, resolution * 0.8)
        self.store = MetricsStore()
        self.scrapes = 0

    async def _scrape(self, node: str) -> None:
        try:
            summary = await asyncio.wait_for(
                self.api.agents.stats(node_agent_pb2.StatsRequest(name=node)), self.timeout)
        except Exception as e:  # noqa: BLE001 - an unreachable node has no metrics, as in metrics-server
            log.debug("scraping node %s failed: %s", node, e)
            self.store.forget(node)
            return
        summary.node_name = node
        self.store.add(summary)

    async def scrape_once(self) -> None:
        nodes = {n.metadata.name for n in self.api.cache[NODE].snapshot()[0] if _has_agent(n)}
        for gone in self.store.known_nodes() - nodes:
            self.store.forget(gone)
        await asyncio.gather(*(self._scrape(n) for n in sorted(nodes)))
        self.scrapes += 1

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.scrape_once()
            except Exception:  # noqa: BLE001 - a failed round must not end the collector
                log.exception("resource metrics scrape failed")
            await asyncio.sleep(max(0.0, self.resolution - (time.monotonic() - started)))
