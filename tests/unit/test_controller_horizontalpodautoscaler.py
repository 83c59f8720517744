"""The HorizontalPodAutoscaler controller's reconcile(key) on the fake client, with PodMetrics set
as the resource metrics API would serve them."""

from __future__ import annotations

import time

from google.protobuf.message import Message

from control.client.convert import from_dict, to_dict
from control.client.testing import on_fake
from control.controllers.horizontalpodautoscaler import HorizontalPodAutoscalerController
from skiff.v1 import metrics_pb2

NOW = time.time()
LONG_AGO = "2020-01-01T00:00:00Z"
CPU_REASON = "cpu resource utilization (percentage of request)"


def deployment(replicas: int = 2, kind: str = "Deployment") -> Message:
    return from_dict({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web", "namespace": "default"},
                      "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                               "template": {"metadata": {"labels": {"app": "web"}},
                                            "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}})


def pod(name: str, cpu_request: str = "100m") -> Message:
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
                      "spec": {"nodeName": "n1", "containers": [
                          {"name": "c", "image": "busybox:1", "resources": {"requests": {"cpu": cpu_request}}}]},
                      "status": {"phase": "Running", "startTime": LONG_AGO, "conditions": [
                          {"type": "Ready", "status": "True", "lastTransitionTime": LONG_AGO}]}})


def hpa(metrics: list | None = None, min_replicas: int = 1, max_replicas: int = 10, behavior: dict | None = None,
        target: dict | None = None) -> Message:
    spec: dict = {"scaleTargetRef": target or {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                  "minReplicas": min_replicas, "maxReplicas": max_replicas,
                  "metrics": metrics or [{"type": "Resource", "resource": {
                      "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}
    if behavior is not None:
        spec["behavior"] = behavior
    return from_dict({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                      "metadata": {"name": "web", "namespace": "default"}, "spec": spec})


def usage(client, **cpu: str) -> None:
    client.pod_metrics.clear()
    for name, value in cpu.items():
        m = metrics_pb2.PodMetrics(api_version="metrics.k8s.io/v1beta1", kind="PodMetrics", window="15s")
        m.metadata.name, m.metadata.namespace = name, "default"
        m.metadata.labels["app"] = "web"
        m.timestamp.FromNanoseconds(int((NOW - 1) * 1e9))
        c = m.containers.add(name="c")
        c.usage["cpu"], c.usage["memory"] = value, "10Mi"
        client.pod_metrics[("default", name)] = m


def conditions(obj) -> dict[str, tuple[str, str, str]]:
    return {c.type: (c.status, c.reason, c.message) for c in obj.status.conditions}


async def reconcile(run, at: float = NOW) -> Message:
    run.controller.clock = lambda: at
    await run.reconcile("default/web")
    return await run.client.get("HorizontalPodAutoscaler", "web", "default")


async def test_scales_up_on_cpu_utilization_within_the_scale_up_limit() -> None:
    async with on_fake(HorizontalPodAutoscalerController, deployment(2), pod("a"), pod("b"), hpa()) as run:
        usage(run.client, a="200m", b="200m")  # 200 % of request against 50 %: 8 wanted, at most max(2 × 2, 4)
        got = await reconcile(run)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 4
        assert (got.status.current_replicas, got.status.desired_replicas) == (2, 4)
        assert to_dict(got)["status"]["currentMetrics"] == [{"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": 200, "averageValue": "200m"}}}]
        assert got.status.HasField("last_scale_time")
        c = conditions(got)
        assert c["AbleToScale"] == ("True", "SucceededRescale", "the HPA controller was able to update the target "
                                                                "scale to 4")
        assert c["ScalingActive"] == ("True", "ValidMetricFound",
                                      f"the HPA was able to successfully calculate a replica count from {CPU_REASON}")
        assert c["ScalingLimited"][:2] == ("True", "ScaleUpLimit")
        assert ("Normal", "SuccessfulRescale", f"New size: 4; reason: {CPU_REASON} above target") in await run.events()


async def test_within_tolerance_nothing_changes() -> None:
    async with on_fake(HorizontalPodAutoscalerController, deployment(2), pod("a"), pod("b"), hpa()) as run:
        usage(run.client, a="54m", b="52m")
        got = await reconcile(run)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 2
        assert (got.status.desired_replicas, conditions(got)["ScalingLimited"][:2]) == (2, ("False",
                                                                                           "DesiredWithinRange"))
        assert conditions(got)["AbleToScale"][1] == "ReadyForNewScale"
        assert not got.status.HasField("last_scale_time")


async def test_without_metrics_scaling_is_not_active() -> None:
    async with on_fake(HorizontalPodAutoscalerController, deployment(2), pod("a"), pod("b"), hpa()) as run:
        got = await reconcile(run)
        error = ("failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for "
                 "resource cpu: no metrics returned from resource metrics API")
        assert conditions(got)["ScalingActive"] == ("False", "FailedGetResourceMetric",
                                                    f"the HPA was unable to compute the replica count: {error}")
        assert got.status.current_replicas == 2
        events = await run.events()
        assert ("Warning", "FailedGetResourceMetric", error) in events
        assert ("Warning", "FailedComputeMetricsReplicas",
                f"invalid metrics (1 invalid out of 1), first error is: {error}") in events


async def test_a_missing_request_is_reported() -> None:
    async with on_fake(HorizontalPodAutoscalerController, deployment(1), pod("a", cpu_request=""), hpa()) as run:
        usage(run.client, a="100m")
        got = await reconcile(run)
        assert conditions(got)["ScalingActive"][2].endswith("missing request for cpu in container c of Pod a")


async def test_pods_object_and_external_metrics_are_refused_clearly() -> None:
    metrics = [{"type": "Pods", "pods": {"metric": {"name": "packets-per-second"},
                                         "target": {"type": "AverageValue", "averageValue": "1k"}}}]
    async with on_fake(HorizontalPodAutoscalerController, deployment(2), pod("a"), hpa(metrics)) as run:
        got = await reconcile(run)
        status, reason, message = conditions(got)["ScalingActive"]
        assert (status, reason) == ("False", "FailedGetPodsMetric")
        assert "unable to get metric packets-per-second: no custom.metrics.k8s.io API is served" in message


async def test_out_of_range_counts_are_brought_inside() -> None:
    async with on_fake(HorizontalPodAutoscalerController, deployment(12), hpa(max_replicas=5)) as run:
        await reconcile(run)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 5
        assert ("Normal", "SuccessfulRescale",
                "New size: 5; reason: Current number of replicas above Spec.MaxReplicas") in await run.events()


async def test_zero_replicas_disable_scaling() -> None:
    async with on_fake(HorizontalPodAutoscalerController, deployment(0), hpa()) as run:
        got = await reconcile(run)
        assert conditions(got)["ScalingActive"] == ("False", "ScalingDisabled",
                                                    "scaling is disabled since the replica count of the target is "
                                                    "zero")


async def test_missing_or_unscalable_targets() -> None:
    async with on_fake(HorizontalPodAutoscalerController, hpa()) as run:
        got = await reconcile(run)
        status, reason, message = conditions(got)["AbleToScale"]
        assert (status, reason) == ("False", "FailedGetScale")
        assert message.startswith("the HPA controller was unable to get the target's current scale: ")
        assert "not found" in message
    target = {"apiVersion": "v1", "kind": "ConfigMap", "name": "web"}
    async with on_fake(HorizontalPodAutoscalerController, hpa(target=target)) as run:
        got = await reconcile(run)
        assert conditions(got)["AbleToScale"][2].endswith('no matches for kind "ConfigMap" in group ""')


async def test_replicasets_scale_too() -> None:
    target = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web"}
    async with on_fake(HorizontalPodAutoscalerController, deployment(1, "ReplicaSet"), pod("a"),
                       hpa(target=target)) as run:
        usage(run.client, a="100m")
        await reconcile(run)
        assert (await run.client.get("ReplicaSet", "web", "default")).spec.replicas == 2


async def test_scale_down_waits_for_the_stabilization_window() -> None:
    async with on_fake(HorizontalPodAutoscalerController, deployment(4), *(pod(n) for n in "abcd"), hpa()) as run:
        usage(run.client, a="50m", b="50m", c="50m", d="50m")
        await reconcile(run, NOW)
        usage(run.client, a="10m", b="10m", c="10m", d="10m")
        got = await reconcile(run, NOW + 60)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 4
        assert conditions(got)["AbleToScale"][1] == "ScaleDownStabilized"
        await reconcile(run, NOW + 301)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 1
        assert ("Normal", "SuccessfulRescale", "New size: 1; reason: All metrics below target") in await run.events()


async def test_behavior_policies_limit_each_period() -> None:
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 0,
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
                "scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    async with on_fake(HorizontalPodAutoscalerController, deployment(4), *(pod(n) for n in "abcd"),
                       hpa(behavior=behavior)) as run:
        usage(run.client, a="10m", b="10m", c="10m", d="10m")
        got = await reconcile(run, NOW)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 3
        assert conditions(got)["ScalingLimited"][:2] == ("True", "ScaleDownLimit")
        await reconcile(run, NOW + 30)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 3  # one pod per minute
        await reconcile(run, NOW + 61)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 2


async def test_container_resource_average_value() -> None:
    metrics = [{"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": "c", "target": {"type": "AverageValue", "averageValue": "50m"}}}]
    async with on_fake(HorizontalPodAutoscalerController, deployment(2), pod("a"), pod("b"), hpa(metrics)) as run:
        usage(run.client, a="100m", b="100m")
        got = await reconcile(run)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 4
        assert to_dict(got)["status"]["currentMetrics"] == [{"type": "ContainerResource", "containerResource": {
            "name": "cpu", "container": "c", "current": {"averageValue": "100m"}}}]
        assert ("Normal", "SuccessfulRescale", "New size: 4; reason: cpu container resource above target") \
            in await run.events()


async def test_behavior_tolerance_per_direction() -> None:
    behavior = {"scaleUp": {"tolerance": "0.5", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}}
    async with on_fake(HorizontalPodAutoscalerController, deployment(2), pod("a"), pod("b"),
                       hpa(behavior=behavior)) as run:
        usage(run.client, a="70m", b="70m")  # ratio 1.4: within an upward tolerance of 0.5
        got = await reconcile(run)
        assert (await run.client.get("Deployment", "web", "default")).spec.replicas == 2
        assert got.status.desired_replicas == 2
