"""HorizontalPodAutoscalers (autoscaling/v2): replica bounds, the target reference, metrics, behavior."""

from __future__ import annotations

from control.apiserver.validation.errors import Errors, forbidden, invalid, not_supported, required
from control.apiserver.validation.resources import validate_quantity
from control.client.quantity import parse_quantity
from skiff.v1 import autoscaling_pb2

METRIC_SOURCE_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
_SOURCE_FIELDS = {"Object": "object", "Pods": "pods", "Resource": "resource", "External": "external",
                  "ContainerResource": "container_resource"}
_JSON = {"container_resource": "containerResource"}
TARGET_TYPES = ("Utilization", "Value", "AverageValue")
SELECT_POLICIES = ("Disabled", "Max", "Min")
POLICY_TYPES = ("Percent", "Pods")
MAX_PERIOD_SECONDS = 1800
MAX_STABILIZATION_WINDOW_SECONDS = 3600
GREATER_THAN_ZERO = "must be greater than zero"


def _path_segment(value: str, path: str) -> Errors:
    if not value:
        return [required(path)]
    if value in (".", ".."):
        return [invalid(path, value, f"may not be '{value}'")]
    return [invalid(path, value, f"may not contain '{c}'") for c in ("/", "%") if c in value]


def validate_cross_version_object_reference(ref, path: str) -> Errors:
    return _path_segment(ref.kind, f"{path}.kind") + _path_segment(ref.name, f"{path}.name")


def _positive_quantity(target, name: str, path: str) -> Errors:
    if not target.HasField(name):
        return []
    text = getattr(target, name)
    json = "averageValue" if name == "average_value" else name
    errs, value = validate_quantity(text, f"{path}.{json}")
    if not errs and value is not None and value <= 0:
        errs.append(invalid(f"{path}.{json}", text, "must be positive"))
    return errs


def validate_metric_target(target, path: str) -> Errors:
    errs: Errors = []
    if not target.type:
        errs.append(required(f"{path}.type", "must specify a metric target type"))
    elif target.type not in TARGET_TYPES:
        errs.append(invalid(f"{path}.type", target.type, "must be either Utilization, Value, or AverageValue"))
    errs += _positive_quantity(target, "value", path) + _positive_quantity(target, "average_value", path)
    if target.HasField("average_utilization") and target.average_utilization < 1:
        errs.append(invalid(f"{path}.averageUtilization", target.average_utilization, GREATER_THAN_ZERO))
    return errs


def _validate_resource_source(src, path: str, container: bool) -> Errors:
    errs: Errors = []
    if not src.name:
        errs.append(required(f"{path}.name", "must specify a resource name"))
    if container and not src.container:
        errs.append(required(f"{path}.container", "must specify a container"))
    target = f"{path}.target"
    errs += validate_metric_target(src.target, target)
    has_utilization, has_value = src.target.HasField("average_utilization"), src.target.HasField("average_value")
    if not has_utilization and not has_value:
        errs.append(required(f"{target}.averageUtilization",
                             "must set either a target raw value or a target utilization"))
    if has_utilization and has_value:
        errs.append(forbidden(f"{target}.averageValue", "may not set both a target raw value and a target utilization"))
    return errs


def _metric_and_target(src, path: str) -> Errors:
    errs = [] if src.metric.name else [required(f"{path}.metric.name", "must specify a metric name")]
    return errs + validate_metric_target(src.target, f"{path}.target")


def _validate_pods_source(src, path: str) -> Errors:
    errs = _metric_and_target(src, path)
    if not src.target.HasField("average_value"):
        errs.append(required(f"{path}.target.averageValue", "must specify a positive target averageValue"))
    return errs


def _validate_object_source(src, path: str) -> Errors:
    errs = validate_cross_version_object_reference(src.described_object, f"{path}.describedObject")
    errs += _metric_and_target(src, path)
    if not src.target.HasField("value") and not src.target.HasField("average_value"):
        errs.append(required(f"{path}.target.value", "must set either a target value or averageValue"))
    return errs


def _validate_external_source(src, path: str) -> Errors:
    errs = _metric_and_target(src, path)
    has_value, has_average = src.target.HasField("value"), src.target.HasField("average_value")
    value = f"{path}.target.value"
    if not has_value and not has_average:
        errs.append(required(value, "must set either a target value for metric or a per-pod target"))
    if has_value and has_average:
        errs.append(forbidden(value, "may not set both a target value for metric and a per-pod target"))
    return errs


def _validate_source(field: str, src, path: str) -> Errors:
    if field in ("resource", "container_resource"):
        return _validate_resource_source(src, path, field == "container_resource")
    if field == "pods":
        return _validate_pods_source(src, path)
    if field == "object":
        return _validate_object_source(src, path)
    return _validate_external_source(src, path)


def validate_metric_spec(spec: autoscaling_pb2.MetricSpec, path: str) -> Errors:
    errs: Errors = []
    if not spec.type:
        errs.append(required(f"{path}.type", "must specify a metric source type"))
    elif spec.type not in METRIC_SOURCE_TYPES:
        errs.append(not_supported(f"{path}.type", spec.type, METRIC_SOURCE_TYPES))
    present = [f for f in _SOURCE_FIELDS.values() if spec.HasField(f)]
    if present:
        errs += _validate_source(present[0], getattr(spec, present[0]), f"{path}.{_JSON.get(present[0], present[0])}")
    expected = _SOURCE_FIELDS.get(spec.type)
    if expected is not None and not spec.HasField(expected):
        errs.append(required(f"{path}.{_JSON.get(expected, expected)}",
                             "must populate information for the given metric source"))
    if len(present) > 1:
        errs += [forbidden(f"{path}.{_JSON.get(f, f)}", "must populate the given metric source only")
                 for f in present if f != expected]
    return errs


def _validate_metrics(metrics, path: str, spec) -> Errors:
    errs: Errors = []
    for i, m in enumerate(metrics):
        errs += validate_metric_spec(m, f"{path}[{i}]")
    if spec.HasField("min_replicas") and spec.min_replicas == 0 and \
            not any(m.type in ("Object", "External") for m in metrics):
        errs.append(forbidden(path, "must specify at least one Object or External metric to support scaling to "
                                    "zero replicas"))
    return errs


def _validate_policy(policy, path: str) -> Errors:
    errs: Errors = []
    if policy.type not in POLICY_TYPES:
        errs.append(not_supported(f"{path}.type", policy.type, POLICY_TYPES))
    if policy.value <= 0:
        errs.append(invalid(f"{path}.value", policy.value, GREATER_THAN_ZERO))
    if policy.period_seconds <= 0:
        errs.append(invalid(f"{path}.periodSeconds", policy.period_seconds, GREATER_THAN_ZERO))
    if policy.period_seconds > MAX_PERIOD_SECONDS:
        errs.append(invalid(f"{path}.periodSeconds", policy.period_seconds,
                            f"must be less than or equal to {MAX_PERIOD_SECONDS}"))
    return errs


def _tolerance_errors(text: str, path: str) -> Errors:
    try:
        value = parse_quantity(text)
    except ValueError as e:
        return [invalid(path, text, str(e))]
    return [invalid(path, text, "must be greater than or equal to zero")] if value < 0 else []


def validate_scaling_rules(rules, path: str) -> Errors:
    errs: Errors = []
    if rules.HasField("stabilization_window_seconds"):
        window = rules.stabilization_window_seconds
        if window < 0:
            errs.append(invalid(f"{path}.stabilizationWindowSeconds", window, "must be greater than or equal to zero"))
        if window > MAX_STABILIZATION_WINDOW_SECONDS:
            errs.append(invalid(f"{path}.stabilizationWindowSeconds", window,
                                f"must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"))
    if rules.HasField("tolerance"):
        errs += _tolerance_errors(rules.tolerance, f"{path}.tolerance")
    if rules.HasField("select_policy") and rules.select_policy not in SELECT_POLICIES:
        errs.append(not_supported(f"{path}.selectPolicy", rules.select_policy, SELECT_POLICIES))
    if not rules.policies:
        errs.append(required(f"{path}.policies", "must specify at least one Policy"))
    for i, policy in enumerate(rules.policies):
        errs += _validate_policy(policy, f"{path}.policies[{i}]")
    return errs


def _validate_behavior(spec, path: str) -> Errors:
    if not spec.HasField("behavior"):
        return []
    b = spec.behavior
    errs: Errors = []
    if b.HasField("scale_up"):
        errs += validate_scaling_rules(b.scale_up, f"{path}.scaleUp")
    if b.HasField("scale_down"):
        errs += validate_scaling_rules(b.scale_down, f"{path}.scaleDown")
    return errs


def validate_horizontal_pod_autoscaler(hpa: autoscaling_pb2.HorizontalPodAutoscaler) -> Errors:
    spec, path = hpa.spec, "spec"
    errs: Errors = []
    # The lower bound is 1: scaling to zero is Kubernetes' HPAScaleToZero feature, off by default.
    if spec.HasField("min_replicas") and spec.min_replicas < 1:
        errs.append(invalid(f"{path}.minReplicas", spec.min_replicas, "must be greater than or equal to 1"))
    if spec.max_replicas < 1:
        errs.append(invalid(f"{path}.maxReplicas", spec.max_replicas, "must be greater than 0"))
    if spec.HasField("min_replicas") and spec.max_replicas < spec.min_replicas:
        errs.append(invalid(f"{path}.maxReplicas", spec.max_replicas, "must be greater than or equal to `minReplicas`"))
    ref_errs = validate_cross_version_object_reference(spec.scale_target_ref, f"{path}.scaleTargetRef")
    errs += ref_errs or _validate_metrics(spec.metrics, f"{path}.metrics", spec) or \
        _validate_behavior(spec, f"{path}.behavior")
    for name, json in (("current_replicas", "currentReplicas"), ("desired_replicas", "desiredReplicas")):
        value = getattr(hpa.status, name)
        if value < 0:
            errs.append(invalid(f"status.{json}", value, "must be greater than or equal to 0"))
    return errs
