"""The HorizontalPodAutoscaler's metrics: each metric of its spec to a replica proposal and a status.

Resource and ContainerResource metrics come from the resource metrics API (metrics.k8s.io PodMetrics,
per container usage) and the pods' requests; the count comes from replicacalculator. Pods, Object
and External metrics need a custom or external metrics API, which this cluster does not serve: they
fail with a condition saying so. Errors are worded as Kubernetes' HPA controller words them, since
they end up in conditions and events.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from control.client.component import duration
from control.client.quantity import format_quantity, parse_quantity
from control.controllers import replicacalculator as rc
from skiff.v1 import autoscaling_pb2

SCALING_ACTIVE = "ScalingActive"
DEFAULT_WINDOW = 15.0
_UNSERVED = {
    "Pods": ("FailedGetPodsMetric", "custom.metrics.k8s.io", "pods metric value"),
    "Object": ("FailedGetObjectMetric", "custom.metrics.k8s.io", "object metric value"),
    "External": ("FailedGetExternalMetric", "external.metrics.k8s.io", "external metric value"),
}


class MetricFailure(Exception):
    """A metric that gave no proposal: the ScalingActive=False reason and the error."""

    def __init__(self, reason: str, error: str) -> None:
        super().__init__(error)
        self.reason = reason

    @property
    def message(self) -> str:
        return f"the HPA was unable to compute the replica count: {self}"


@dataclass(frozen=True)
class Proposal:
    replicas: int
    metric_name: str  # "cpu resource utilization (percentage of request)", for events
    status: autoscaling_pb2.MetricStatus
    timestamp: float


def milli(text: str) -> int:
    """Quantity.MilliValue: thousandths, rounded up."""
    return math.ceil(parse_quantity(text) * 1000)


def _seconds(ts) -> float:
    return ts.seconds + ts.nanos / 1e9


def _ready_condition(pod) -> tuple[str | None, float]:
    for c in pod.status.conditions:
        if c.type == "Ready":
            return c.status, _seconds(c.last_transition_time)
    return None, 0.0


def pod_request(pod, resource: str, container: str) -> int:
    """The pod's request of `resource` in milli-units: its containers', or the named one's."""
    total = 0
    for c in pod.spec.containers:
        if container and c.name != container:
            continue
        text = c.resources.requests.get(resource, "")
        if not text:
            raise rc.MetricError(f"missing request for {resource} in container {c.name} of Pod {pod.metadata.name}")
        total += milli(text)
    return total


def pod_info(pod, resource: str, container: str) -> rc.PodInfo:
    ready, transition = _ready_condition(pod)
    start = _seconds(pod.status.start_time) if pod.status.HasField("start_time") else None
    return rc.PodInfo(pod.metadata.name, pod.status.phase or "Pending", pod.metadata.HasField("deletion_timestamp"),
                      ready, transition, start, pod_request(pod, resource, container))


def pod_metric(m, resource: str, container: str) -> rc.PodMetric | None:
    """A pod's usage of `resource` (milli-units) from its PodMetrics; None when a container lacks it."""
    total, found = 0, False
    for c in m.containers:
        if container and c.name != container:
            continue
        text = c.usage.get(resource, "")
        if not text:
            return None
        total, found = total + milli(text), True
    if not found:
        return None
    return rc.PodMetric(total, _seconds(m.timestamp), duration(m.window) if m.window else DEFAULT_WINDOW)


ListMetrics = Callable[[str, str], Awaitable[list[Message]]]


@dataclass
class MetricsContext:
    list_metrics: ListMetrics  # (namespace, selector) -> PodMetrics
    pods: list[Message]  # the target's pods
    namespace: str
    selector: str
    timing: rc.Timing
    tolerance: rc.Tolerance


async def _usage(ctx: MetricsContext, resource: str, container: str) -> dict[str, rc.PodMetric]:
    items = await ctx.list_metrics(ctx.namespace, ctx.selector)
    found = {m.metadata.name: pm for m in items if (pm := pod_metric(m, resource, container)) is not None}
    if not found:
        raise rc.MetricError(f"unable to get metrics for resource {resource}: no metrics returned from resource "
                             "metrics API")
    return found


async def _resource_proposal(ctx: MetricsContext, current: int, source, container: str) -> rc.Recommendation:
    resource, target = source.name, source.target
    usage = await _usage(ctx, resource, container)
    infos = [pod_info(p, resource, container) for p in ctx.pods]
    if target.HasField("average_value"):
        return rc.average_value_replicas(current, milli(target.average_value), infos, usage, resource,
                                         ctx.timing, ctx.tolerance)
    return rc.utilization_replicas(current, target.average_utilization, infos, usage, resource, ctx.timing,
                                   ctx.tolerance)


def _value_status(r: rc.Recommendation) -> autoscaling_pb2.MetricValueStatus:
    status = autoscaling_pb2.MetricValueStatus(average_value=format_quantity(parse_quantity(f"{r.average_value}m")))
    if r.utilization is not None:
        status.average_utilization = r.utilization
    return status


async def resource_metric(ctx: MetricsContext, current: int, spec) -> Proposal:
    container = spec.type == "ContainerResource"
    source = spec.container_resource if container else spec.resource
    resource = source.name
    reason = "FailedGetContainerResourceMetric" if container else "FailedGetResourceMetric"
    failed = f"failed to get {resource} {'container resource' if container else 'resource'} metric value"
    if not source.target.HasField("average_value") and not source.target.HasField("average_utilization"):
        raise MetricFailure(reason, f"{failed}: invalid resource metric source: neither an average utilization "
                                    "target nor an average value (usage) target was set")
    kind_of_value = "usage" if source.target.HasField("average_value") else "utilization"
    try:
        r = await _resource_proposal(ctx, current, source, source.container if container else "")
    except rc.MetricError as e:
        raise MetricFailure(reason, f"{failed}: failed to get {resource} {kind_of_value}: {e}") from None
    status = autoscaling_pb2.MetricStatus(type=spec.type)
    target = status.container_resource if container else status.resource
    target.name = resource
    if container:
        target.container = source.container
    target.current.CopyFrom(_value_status(r))
    scope = "container resource" if container else "resource"
    name = f"{resource} {scope} utilization (percentage of request)" if r.utilization is not None \
        else f"{resource} {scope}"
    return Proposal(r.replicas, name, status, r.timestamp)


def _metric_name(spec) -> str:
    source = {"Pods": spec.pods, "Object": spec.object, "External": spec.external}[spec.type]
    return source.metric.name


async def metric_proposal(ctx: MetricsContext, current: int, spec) -> Proposal:
    if spec.type in ("Resource", "ContainerResource"):
        return await resource_metric(ctx, current, spec)
    if spec.type in _UNSERVED:
        reason, api, what = _UNSERVED[spec.type]
        raise MetricFailure(reason, f"failed to get {what}: unable to get metric {_metric_name(spec)}: "
                                    f"no {api} API is served by this cluster")
    raise MetricFailure("InvalidMetricSourceType", f'unknown metric source type "{spec.type}"')
