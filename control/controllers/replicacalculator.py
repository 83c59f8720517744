"""The HorizontalPodAutoscaler's replica count for one resource metric (Kubernetes' replica calculator).

Pure: pods and their metrics come in as plain values, times as seconds. The rules are Kubernetes':
- desired = ceil(usage ratio × ready pods), unchanged while the ratio is within the tolerance of 1
  (0.1 each way, or behavior's per-direction `tolerance`);
- pods being deleted or Failed are ignored; Pending pods count as unready;
- for cpu, a pod counts as unready while it has no Ready condition or start time, while it is in its
  first `cpu_initialization_period` (5 min) and either not Ready or its sample predates one metric
  window after the Ready transition, or when it is not Ready and has never been Ready (its Ready
  condition changed within `initial_readiness_delay`, 30 s, of its start);
- once the ratio is known, pods without metrics count as using 100 % of their request (or the target,
  if higher) on a scale-down and 0 % on a scale-up; unready pods count at 0 % on a scale-up only;
- a proposal that the assumed usage would reverse (or that brings the ratio within tolerance) keeps
  the current count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

CPU = "cpu"


class MetricError(Exception):
    """The metric cannot give a replica count; the message is the condition's."""


@dataclass(frozen=True)
class PodInfo:
    name: str
    phase: str = "Running"
    deleting: bool = False
    ready: str | None = "True"  # the Ready condition's status; None without one
    ready_transition: float = 0.0  # the Ready condition's lastTransitionTime (seconds)
    start_time: float | None = 0.0
    request: int = 0  # milli-units of the resource requested by the containers considered


@dataclass(frozen=True)
class PodMetric:
    value: int  # milli-units (millicores, or bytes × 1000)
    timestamp: float = 0.0
    window: float = 15.0


@dataclass(frozen=True)
class Recommendation:
    replicas: int
    utilization: int | None  # percent of request, for a Utilization target
    average_value: int  # milli-units per pod
    timestamp: float = 0.0


@dataclass
class Groups:
    ready: int = 0
    unready: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Tolerance:
    """How far the usage ratio may sit below (down) or above (up) 1 with nothing done; 0.1 each by
    default, per direction from behavior's scaleDown/scaleUp `tolerance`."""
    down: float = 0.1
    up: float = 0.1

    def within(self, ratio: float) -> bool:
        return 1.0 - self.down <= ratio <= 1.0 + self.up


def _tolerance(t: float | Tolerance) -> Tolerance:
    return t if isinstance(t, Tolerance) else Tolerance(t, t)


@dataclass(frozen=True)
class Timing:
    now: float
    cpu_initialization_period: float = 300.0
    initial_readiness_delay: float = 30.0


def _cpu_unready(pod: PodInfo, metric: PodMetric, t: Timing) -> bool:
    if pod.ready is None or pod.start_time is None:
        return True
    if pod.start_time + t.cpu_initialization_period > t.now:
        return pod.ready == "False" or metric.timestamp < pod.ready_transition + metric.window
    return pod.ready == "False" and pod.start_time + t.initial_readiness_delay > pod.ready_transition


def group_pods(pods: list[PodInfo], metrics: dict[str, PodMetric], resource: str, t: Timing) -> Groups:
    g = Groups()
    for pod in pods:
        if pod.deleting or pod.phase == "Failed":
            g.ignored.add(pod.name)
        elif pod.phase == "Pending":
            g.unready.add(pod.name)
        elif pod.name not in metrics:
            g.missing.add(pod.name)
        elif resource == CPU and _cpu_unready(pod, metrics[pod.name], t):
            g.unready.add(pod.name)
        else:
            g.ready += 1
    return g


def utilization_ratio(metrics: dict[str, PodMetric], requests: dict[str, int],
                      target: int) -> tuple[float, int, int]:
    """(usage ratio, utilization %, average milli-units) over the pods with a request."""
    used = requested = entries = 0
    for name, metric in metrics.items():
        if name not in requests:
            continue
        used += metric.value
        requested += requests[name]
        entries += 1
    if requested == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = used * 100 // requested
    return utilization / target, utilization, used // entries


def usage_ratio(metrics: dict[str, PodMetric], target: int) -> tuple[float, int]:
    """(usage ratio, average milli-units) of a plain per-pod target."""
    average = sum(m.value for m in metrics.values()) // len(metrics)
    return average / target, average


def _usable(pods: list[PodInfo], metrics: dict[str, PodMetric], resource: str,
            t: Timing) -> tuple[Groups, dict[str, PodMetric]]:
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    g = group_pods(pods, metrics, resource, t)
    kept = {n: m for n, m in metrics.items() if n not in g.ignored and n not in g.unready}
    if not kept:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    return g, kept


def _settle(current: int, ratio: float, new_ratio: float, count: int, tolerance: Tolerance) -> int:
    if tolerance.within(new_ratio) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current
    proposed = math.ceil(new_ratio * count)
    if (new_ratio < 1.0 and proposed > current) or (new_ratio > 1.0 and proposed < current):
        return current
    return proposed


def utilization_replicas(current: int, target_utilization: int, pods: list[PodInfo],
                         metrics: dict[str, PodMetric], resource: str, t: Timing,
                         tolerance: float | Tolerance = 0.1) -> Recommendation:
    """A Utilization target: percent of the pods' requests."""
    g, kept = _usable(pods, metrics, resource, t)
    requests = {p.name: p.request for p in pods}
    ratio, utilization, average = utilization_ratio(kept, requests, target_utilization)
    stamp = _timestamp(kept)
    scale_up_with_unready = bool(g.unready) and ratio > 1.0
    if not scale_up_with_unready and not g.missing:
        if _tolerance(tolerance).within(ratio):
            return Recommendation(current, utilization, average, stamp)
        return Recommendation(math.ceil(ratio * g.ready), utilization, average, stamp)
    if ratio < 1.0:
        fallback = max(100, target_utilization)
        kept.update({n: PodMetric(requests[n] * fallback // 100) for n in g.missing})
    elif ratio > 1.0:
        kept.update({n: PodMetric(0) for n in g.missing})
    if scale_up_with_unready:
        kept.update({n: PodMetric(0) for n in g.unready})
    new_ratio, _, _ = utilization_ratio(kept, requests, target_utilization)
    replicas = _settle(current, ratio, new_ratio, len(kept), _tolerance(tolerance))
    return Recommendation(replicas, utilization, average, stamp)


def average_value_replicas(current: int, target_milli: int, pods: list[PodInfo],
                           metrics: dict[str, PodMetric], resource: str, t: Timing,
                           tolerance: float | Tolerance = 0.1) -> Recommendation:
    """An AverageValue target: milli-units per pod."""
    g, kept = _usable(pods, metrics, resource, t)
    ratio, average = usage_ratio(kept, target_milli)
    stamp = _timestamp(kept)
    scale_up_with_unready = bool(g.unready) and ratio > 1.0
    if not scale_up_with_unready and not g.missing:
        if _tolerance(tolerance).within(ratio):
            return Recommendation(current, None, average, stamp)
        return Recommendation(math.ceil(ratio * g.ready), None, average, stamp)
    if ratio < 1.0:
        kept.update({n: PodMetric(target_milli) for n in g.missing})
    elif ratio > 1.0:
        kept.update({n: PodMetric(0) for n in g.missing})
    if scale_up_with_unready:
        kept.update({n: PodMetric(0) for n in g.unready})
    new_ratio, _ = usage_ratio(kept, target_milli)
    return Recommendation(_settle(current, ratio, new_ratio, len(kept), _tolerance(tolerance)), None, average,
                          stamp)


def _timestamp(metrics: dict[str, PodMetric]) -> float:
    return min((m.timestamp for m in metrics.values()), default=0.0)
