"""HorizontalPodAutoscaler validation rule by rule, worded as Kubernetes'."""

from __future__ import annotations

from control.apiserver import defaults
from control.apiserver.validation.autoscaling import validate_horizontal_pod_autoscaler
from control.client.convert import from_dict


def errors(**spec) -> list[tuple[str, str]]:
    body = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 3,
            **spec}
    obj = from_dict({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                     "metadata": {"name": "web", "namespace": "default"}, "spec": body})
    defaults.default_horizontal_pod_autoscaler(obj)
    return [(v.field, v.description) for v in validate_horizontal_pod_autoscaler(obj)]


def test_a_defaulted_autoscaler_is_valid():
    assert errors() == []


def test_replica_bounds():
    assert errors(minReplicas=0) == [
        ("spec.minReplicas", "Invalid value: 0: must be greater than or equal to 1"),
        ("spec.metrics", "Forbidden: must specify at least one Object or External metric to support scaling to zero "
                         "replicas")]
    assert errors(minReplicas=4) == [
        ("spec.maxReplicas", "Invalid value: 3: must be greater than or equal to `minReplicas`")]


def test_metric_sources():
    assert errors(metrics=[{"type": "Gizmo"}]) == [
        ("spec.metrics[0].type", 'Unsupported value: "Gizmo": supported values: "ContainerResource", "External", '
                                 '"Object", "Pods", "Resource"')]
    assert errors(metrics=[{"type": "Resource"}]) == [
        ("spec.metrics[0].resource", "Required value: must populate information for the given metric source")]
    both = {"type": "Utilization", "averageUtilization": 50, "averageValue": "100m"}
    assert errors(metrics=[{"type": "Resource", "resource": {"name": "cpu", "target": both}}]) == [
        ("spec.metrics[0].resource.target.averageValue",
         "Forbidden: may not set both a target raw value and a target utilization")]
    assert errors(metrics=[{"type": "Pods", "pods": {"metric": {"name": ""}, "target": {"type": "Value"}}}]) == [
        ("spec.metrics[0].pods.metric.name", "Required value: must specify a metric name"),
        ("spec.metrics[0].pods.target.averageValue", "Required value: must specify a positive target averageValue")]
    zero = {"type": "AverageValue", "averageValue": "0"}
    assert errors(metrics=[{"type": "Resource", "resource": {"name": "memory", "target": zero}}]) == [
        ("spec.metrics[0].resource.target.averageValue", 'Invalid value: "0": must be positive')]


def test_behavior_rules():
    rules = {"tolerance": "-0.1", "selectPolicy": "Most"}
    assert errors(behavior={"scaleDown": rules}) == [
        ("spec.behavior.scaleDown.tolerance", 'Invalid value: "-0.1": must be greater than or equal to zero'),
        ("spec.behavior.scaleDown.selectPolicy", 'Unsupported value: "Most": supported values: "Disabled", "Max", '
                                                 '"Min"')]
    bad_policy = {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 0}]}
    assert errors(behavior={"scaleUp": bad_policy}) == [
        ("spec.behavior.scaleUp.policies[0].periodSeconds", "Invalid value: 0: must be greater than zero")]
