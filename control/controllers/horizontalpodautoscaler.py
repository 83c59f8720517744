"""HorizontalPodAutoscaler: keeps a scalable target's replicas where its metrics want them.

Every sync period (15 s) each HPA is reconciled: the target's scale (spec.replicas and its selector,
from any kind with the scale subresource) is read; a count outside minReplicas/maxReplicas is brought
inside; otherwise each metric proposes a count (hpametrics, replicacalculator), the largest wins, and
the proposal is stabilized and rate-limited (hpanormalize, with `behavior` or Kubernetes' defaults).
A different count is written to the target's spec.replicas with a SuccessfulRescale event. The
status carries currentReplicas, desiredReplicas, currentMetrics, lastScaleTime and the conditions
AbleToScale, ScalingActive and ScalingLimited with Kubernetes' reasons and messages.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client.component import duration
from control.client.controller import Controller, ControllerContext, option
from control.client.events import NORMAL, WARNING
from control.client.informer import copy_of
from control.client.kinds import KINDS, Kind
from control.client.quantity import parse_quantity
from control.client.selectors import parse_selector
from control.controllers import hpanormalize as hn
from control.controllers.hpametrics import SCALING_ACTIVE, MetricFailure, MetricsContext, metric_proposal
from control.controllers.replicacalculator import Timing, Tolerance
from skiff.v1 import autoscaling_pb2

log = logging.getLogger(__name__)

ABLE_TO_SCALE, SCALING_LIMITED = "AbleToScale", "ScalingLimited"


@dataclass(frozen=True)
class HorizontalPodAutoscalerOptions:
    horizontal_pod_autoscaler_sync_period: float = option(15.0, "how often each autoscaler is synced", duration)
    horizontal_pod_autoscaler_tolerance: float = option(
        0.1, "the minimum change (from 1.0) of the usage ratio for the autoscaler to act")
    horizontal_pod_autoscaler_downscale_stabilization: float = option(
        300.0, "how far back the autoscaler looks for a higher recommendation before scaling down", duration)
    horizontal_pod_autoscaler_cpu_initialization_period: float = option(
        300.0, "after a pod starts, how long its cpu samples may be skipped", duration)
    horizontal_pod_autoscaler_initial_readiness_delay: float = option(
        30.0, "after a pod starts, how long its readiness changes are taken as initial readiness", duration)
    concurrent_horizontal_pod_autoscaler_syncs: int = option(5, "autoscalers synced at once")


def scalable_kind(ref) -> Kind:
    """The kind a scaleTargetRef names, if it has the scale subresource (as the scale client's REST mapping)."""
    group = ref.api_version.rpartition("/")[0] if "/" in ref.api_version else ""
    kind = KINDS.get(ref.kind)
    if kind is None or kind.group != group or not kind.scale:
        raise LookupError(f'no matches for kind "{ref.kind}" in group "{group}"')
    return kind


def set_condition(status, type_: str, value: str, reason: str, message: str, now: float) -> None:
    for c in status.conditions:
        if c.type == type_:
            if c.status != value:
                c.last_transition_time.FromNanoseconds(int(now * 1e9))
            c.status, c.reason, c.message = value, reason, message
            return
    c = status.conditions.add(type=type_, status=value, reason=reason, message=message)
    c.last_transition_time.FromNanoseconds(int(now * 1e9))


def behavior_of(spec) -> hn.Behavior | None:
    """The behavior the normalization uses; None when the HPA has none (Kubernetes' older rules)."""
    if not spec.HasField("behavior"):
        return None

    def rules(r, default: hn.Rules) -> hn.Rules:
        window = r.stabilization_window_seconds if r.HasField("stabilization_window_seconds") \
            else default.stabilization_window
        policies = tuple(hn.Policy(p.type, p.value, p.period_seconds) for p in r.policies) or default.policies
        return hn.Rules(window, r.select_policy if r.HasField("select_policy") else default.select_policy, policies)

    return hn.Behavior(rules(spec.behavior.scale_up, hn.DEFAULT_SCALE_UP),
                       rules(spec.behavior.scale_down, hn.DEFAULT_SCALE_DOWN))


def tolerance_of(spec, default: float) -> Tolerance:
    """Each direction's `tolerance` from behavior, else the controller's --horizontal-pod-autoscaler-tolerance."""
    def one(rules) -> float:
        return float(parse_quantity(rules.tolerance)) if rules.HasField("tolerance") else default
    if not spec.HasField("behavior"):
        return Tolerance(default, default)
    return Tolerance(one(spec.behavior.scale_down), one(spec.behavior.scale_up))


class HorizontalPodAutoscalerController(Controller):
    name = "horizontalpodautoscaling"
    event_source = "horizontal-pod-autoscaler"
    Options = HorizontalPodAutoscalerOptions

    def __init__(self, ctx: ControllerContext) -> None:
        options: HorizontalPodAutoscalerOptions = ctx.options
        super().__init__(ctx, options.concurrent_horizontal_pod_autoscaler_syncs)
        self.hpas = ctx.informers.get("HorizontalPodAutoscaler")
        self.hpas.add_handler(**self.enqueue_handlers())
        self.pods = ctx.informers.get("Pod")
        self.histories: dict[str, hn.History] = {}
        self.clock = time.time

    async def reconcile(self, key: str) -> None:
        hpa = self.hpas.store.get(key)
        if hpa is None:
            self.histories.pop(key, None)
            return
        self.queue.add_after(key, self.options.horizontal_pod_autoscaler_sync_period)
        await self._sync(key, hpa)

    async def _target(self, hpa, status, now: float) -> tuple[Kind, Message] | None:
        """The target's kind and its scale subresource (autoscaling/v1 Scale)."""
        ref = hpa.spec.scale_target_ref
        try:
            kind = scalable_kind(ref)
            return kind, await self.client.get_scale(kind, ref.name, hpa.metadata.namespace)
        except (LookupError, grpc.aio.AioRpcError) as e:
            error = e.details() if isinstance(e, grpc.aio.AioRpcError) else str(e)
            self.recorder.event(hpa, WARNING, "FailedGetScale", error)
            set_condition(status, ABLE_TO_SCALE, "False", "FailedGetScale",
                          f"the HPA controller was unable to get the target's current scale: {error}", now)
            return None

    async def _sync(self, key: str, hpa) -> None:
        now = self.clock()
        status = copy_of(hpa.status)
        target = await self._target(hpa, status, now)
        if target is None:
            await self._write(hpa, status)
            return
        kind, scale = target
        set_condition(status, ABLE_TO_SCALE, "True", "SucceededGetScale",
                      "the HPA controller was able to get the target's current scale", now)
        current = scale.spec.replicas
        spec = hpa.spec
        minimum = spec.min_replicas if spec.HasField("min_replicas") else 1
        desired, reason, metrics = current, "", []
        if current == 0 and minimum != 0:
            set_condition(status, SCALING_ACTIVE, "False", "ScalingDisabled",
                          "scaling is disabled since the replica count of the target is zero", now)
        elif current > spec.max_replicas:
            desired, reason = spec.max_replicas, "Current number of replicas above Spec.MaxReplicas"
        elif current < minimum:
            desired, reason = minimum, "Current number of replicas below Spec.MinReplicas"
        else:
            computed = await self._from_metrics(key, hpa, scale.status.selector, status, current, minimum, now)
            if computed is None:
                status.current_replicas = current
                await self._write(hpa, status)
                return
            desired, reason, metrics = computed
        rescaled = desired != current and await self._rescale(key, hpa, kind, scale, desired, reason, status, now)
        status.current_replicas, status.desired_replicas = current, desired
        del status.current_metrics[:]
        status.current_metrics.extend(metrics)
        if rescaled:
            status.last_scale_time.FromNanoseconds(int(now * 1e9))
        await self._write(hpa, status)

    async def _from_metrics(self, key: str, hpa, selector: str, status, current: int, minimum: int,
                            now: float) -> tuple[int, str, list] | None:
        if not selector:
            self.recorder.event(hpa, WARNING, "SelectorRequired", "selector is required")
            set_condition(status, SCALING_ACTIVE, "False", "InvalidSelector",
                          "the HPA target's scale is missing a selector", now)
            return None
        proposal, name, metrics = await self._proposals(hpa, status, current, selector, now)
        if proposal is None:
            return None
        history = self.histories.setdefault(key, hn.History())
        behavior = behavior_of(hpa.spec)
        if behavior is None:
            out = hn.normalize_legacy(history, current, proposal, minimum, hpa.spec.max_replicas, now,
                                      self.options.horizontal_pod_autoscaler_downscale_stabilization)
        else:
            if not hpa.spec.behavior.scale_down.HasField("stabilization_window_seconds"):
                behavior = hn.Behavior(behavior.scale_up, hn.Rules(
                    self.options.horizontal_pod_autoscaler_downscale_stabilization,
                    behavior.scale_down.select_policy, behavior.scale_down.policies))
            out = hn.normalize(history, current, proposal, minimum, hpa.spec.max_replicas, behavior, now)
        set_condition(status, ABLE_TO_SCALE, "True", *out.able_to_scale, now)
        set_condition(status, SCALING_LIMITED, "True" if out.limited else "False", *out.limit, now)
        reason = f"{name} above target" if out.replicas > current else "All metrics below target"
        return out.replicas, reason, metrics

    async def _proposals(self, hpa, status, current: int, selector: str,
                         now: float) -> tuple[int | None, str, list]:
        namespace = hpa.metadata.namespace
        wanted = parse_selector(selector)
        pods = [p for p in self.pods.store.list() if p.metadata.namespace == namespace
                and wanted.matches(p.metadata.labels)]
        o = self.options
        ctx = MetricsContext(self.client.list_pod_metrics, pods, namespace, selector,
                             Timing(now, o.horizontal_pod_autoscaler_cpu_initialization_period,
                                    o.horizontal_pod_autoscaler_initial_readiness_delay),
                             tolerance_of(hpa.spec, o.horizontal_pod_autoscaler_tolerance))
        statuses = [autoscaling_pb2.MetricStatus() for _ in hpa.spec.metrics]
        best, best_name, failures = 0, "", []
        for i, spec in enumerate(hpa.spec.metrics):
            try:
                p = await metric_proposal(ctx, current, spec)
            except MetricFailure as e:
                self.recorder.event(hpa, WARNING, e.reason, str(e))
                failures.append(e)
                continue
            statuses[i] = p.status
            if best == 0 or p.replicas > best:
                best, best_name = p.replicas, p.metric_name
        if failures and (len(failures) >= len(hpa.spec.metrics) or best < current):
            first = failures[0]
            set_condition(status, SCALING_ACTIVE, "False", first.reason, first.message, now)
            del status.current_metrics[:]
            status.current_metrics.extend(statuses)
            self.recorder.event(hpa, WARNING, "FailedComputeMetricsReplicas",
                                f"invalid metrics ({len(failures)} invalid out of {len(hpa.spec.metrics)}), "
                                f"first error is: {first}")
            return None, "", statuses
        set_condition(status, SCALING_ACTIVE, "True", "ValidMetricFound",
                      f"the HPA was able to successfully calculate a replica count from {best_name}", now)
        return best, best_name, statuses

    async def _rescale(self, key: str, hpa, kind: Kind, scale, desired: int, reason: str, status,
                       now: float) -> bool:
        current, updated = scale.spec.replicas, copy_of(scale)
        updated.spec.replicas = desired
        try:
            await self.client.update_scale(kind, updated)
        except grpc.aio.AioRpcError as e:
            self.recorder.event(hpa, WARNING, "FailedRescale",
                                f"New size: {desired}; reason: {reason}; error: {e.details()}")
            set_condition(status, ABLE_TO_SCALE, "False", "FailedUpdateScale",
                          f"the HPA controller was unable to update the target scale: {e.details()}", now)
            return False
        set_condition(status, ABLE_TO_SCALE, "True", "SucceededRescale",
                      f"the HPA controller was able to update the target scale to {desired}", now)
        self.recorder.event(hpa, NORMAL, "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
        self.histories.setdefault(key, hn.History()).record_scale(behavior_of(hpa.spec), current, desired, now)
        log.info("%s: %s %s scaled from %d to %d (%s)", key, kind.kind, scale.metadata.name, current, desired, reason)
        return True

    async def _write(self, hpa, status) -> None:
        status.observed_generation = hpa.metadata.generation
        if status != hpa.status:
            await self.write_status(hpa, status)
