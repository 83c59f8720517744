"""Conversion between the versions of one kind, on Kubernetes' JSON, as the apiserver converts between
the versions of a group. A kind table entry lists the older versions it serves beside the stored one
(`old_versions`); skiffctl converts manifests of those versions before sending them, the REST API
converts requests and answers at its edges.

autoscaling/v1 HorizontalPodAutoscaler <-> autoscaling/v2, losslessly as Kubernetes does it: v1 holds
the CPU utilization target (`targetCPUUtilizationPercentage`) and its current value; every other metric,
the behavior, the current metrics and the conditions travel in v1's annotations
`autoscaling.alpha.kubernetes.io/{metrics,behavior,current-metrics,conditions}`, in v1's metric shapes
(`targetAverageUtilization`, `metricName`, ...). A v1 object without a CPU target converts to no
metrics, so the v2 default (CPU at 80 %) applies.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from control.client.kinds import KINDS

METRICS = "autoscaling.alpha.kubernetes.io/metrics"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
_ANNOTATIONS = (METRICS, BEHAVIOR, CURRENT_METRICS, CONDITIONS)
# v2's source field per metric type (v1's annotations use the same keys).
_SOURCES = {"Resource": "resource", "ContainerResource": "containerResource", "Pods": "pods",
            "Object": "object", "External": "external"}


class ConversionError(ValueError):
    pass


def _drop_empty(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if v is not None}


# -- one metric: v2 <-> v1's annotation shape --------------------------------------------------------

def _spec_metric_to_v1(metric: dict) -> dict:
    kind = metric.get("type", "")
    source = metric.get(_SOURCES.get(kind, ""), {}) or {}
    target = source.get("target", {}) or {}
    inner = source.get("metric", {}) or {}
    if kind in ("Resource", "ContainerResource"):
        out = {"name": source.get("name"), "container": source.get("container"),
               "targetAverageUtilization": target.get("averageUtilization"),
               "targetAverageValue": target.get("averageValue")}
    elif kind == "Pods":
        out = {"metricName": inner.get("name"), "selector": inner.get("selector"),
               "targetAverageValue": target.get("averageValue")}
    elif kind == "Object":
        out = {"target": source.get("describedObject"), "metricName": inner.get("name"),
               "selector": inner.get("selector"), "targetValue": target.get("value"),
               "averageValue": target.get("averageValue")}
    elif kind == "External":
        out = {"metricName": inner.get("name"), "metricSelector": inner.get("selector"),
               "targetValue": target.get("value"), "targetAverageValue": target.get("averageValue")}
    else:
        return metric
    return {"type": kind, _SOURCES[kind]: _drop_empty(out)}


def _target(utilization: Any = None, average: Any = None, value: Any = None) -> dict:
    if utilization is not None:
        return {"type": "Utilization", "averageUtilization": utilization}
    if average is not None:
        return {"type": "AverageValue", "averageValue": average}
    return _drop_empty({"type": "Value", "value": value})


def _spec_metric_from_v1(metric: dict) -> dict:
    kind = metric.get("type", "")
    source = metric.get(_SOURCES.get(kind, ""), {}) or {}
    if kind in ("Resource", "ContainerResource"):
        out = {"name": source.get("name"), "container": source.get("container"),
               "target": _target(source.get("targetAverageUtilization"), source.get("targetAverageValue"))}
    elif kind == "Pods":
        out = {"metric": _drop_empty({"name": source.get("metricName"), "selector": source.get("selector")}),
               "target": _target(average=source.get("targetAverageValue"))}
    elif kind == "Object":
        out = {"describedObject": source.get("target"),
               "metric": _drop_empty({"name": source.get("metricName"), "selector": source.get("selector")}),
               "target": _target(average=source.get("averageValue"), value=source.get("targetValue"))}
    elif kind == "External":
        out = {"metric": _drop_empty({"name": source.get("metricName"), "selector": source.get("metricSelector")}),
               "target": _target(average=source.get("targetAverageValue"), value=source.get("targetValue"))}
    else:
        return metric
    return {"type": kind, _SOURCES[kind]: _drop_empty(out)}


def _status_metric_to_v1(metric: dict) -> dict:
    kind = metric.get("type", "")
    source = metric.get(_SOURCES.get(kind, ""), {}) or {}
    current = source.get("current", {}) or {}
    inner = source.get("metric", {}) or {}
    if kind in ("Resource", "ContainerResource"):
        out = {"name": source.get("name"), "container": source.get("container"),
               "currentAverageUtilization": current.get("averageUtilization"),
               "currentAverageValue": current.get("averageValue")}
    elif kind == "Pods":
        out = {"metricName": inner.get("name"), "selector": inner.get("selector"),
               "currentAverageValue": current.get("averageValue")}
    elif kind == "Object":
        out = {"target": source.get("describedObject"), "metricName": inner.get("name"),
               "selector": inner.get("selector"), "currentValue": current.get("value"),
               "averageValue": current.get("averageValue")}
    elif kind == "External":
        out = {"metricName": inner.get("name"), "metricSelector": inner.get("selector"),
               "currentValue": current.get("value"), "currentAverageValue": current.get("averageValue")}
    else:
        return metric
    return {"type": kind, _SOURCES[kind]: _drop_empty(out)}


def _status_metric_from_v1(metric: dict) -> dict:
    kind = metric.get("type", "")
    source = metric.get(_SOURCES.get(kind, ""), {}) or {}
    if kind in ("Resource", "ContainerResource"):
        current = {"averageUtilization": source.get("currentAverageUtilization"),
                   "averageValue": source.get("currentAverageValue")}
        out = {"name": source.get("name"), "container": source.get("container")}
    elif kind == "Pods":
        current = {"averageValue": source.get("currentAverageValue")}
        out = {"metric": _drop_empty({"name": source.get("metricName"), "selector": source.get("selector")})}
    elif kind == "Object":
        current = {"value": source.get("currentValue"), "averageValue": source.get("averageValue")}
        out = {"describedObject": source.get("target"),
               "metric": _drop_empty({"name": source.get("metricName"), "selector": source.get("selector")})}
    elif kind == "External":
        current = {"value": source.get("currentValue"), "averageValue": source.get("currentAverageValue")}
        out = {"metric": _drop_empty({"name": source.get("metricName"), "selector": source.get("metricSelector")})}
    else:
        return metric
    return {"type": kind, _SOURCES[kind]: _drop_empty({**out, "current": _drop_empty(current)})}


def _is_cpu_utilization(metric: dict, key: str) -> bool:
    resource = metric.get("resource") or {}
    return metric.get("type") == "Resource" and resource.get("name") == "cpu" and \
        (resource.get(key) or {}).get("averageUtilization") is not None


# -- the object ----------------------------------------------------------------------------------------

def _annotations(doc: dict) -> dict:
    return doc.setdefault("metadata", {}).setdefault("annotations", {})


def _hpa_v2_to_v1(data: dict) -> dict:
    out = copy.deepcopy(data)
    out["apiVersion"] = "autoscaling/v1"
    spec, status = out.get("spec") or {}, out.get("status") or {}
    annotations = {}
    others = []
    for metric in spec.pop("metrics", None) or []:
        if _is_cpu_utilization(metric, "target") and "targetCPUUtilizationPercentage" not in spec:
            spec["targetCPUUtilizationPercentage"] = metric["resource"]["target"]["averageUtilization"]
        else:
            others.append(_spec_metric_to_v1(metric))
    if others:
        annotations[METRICS] = json.dumps(others, separators=(",", ":"))
    if spec.get("behavior"):
        annotations[BEHAVIOR] = json.dumps(spec.pop("behavior"), separators=(",", ":"))
    spec.pop("behavior", None)
    current = []
    for metric in status.pop("currentMetrics", None) or []:
        if _is_cpu_utilization(metric, "current") and "currentCPUUtilizationPercentage" not in status:
            status["currentCPUUtilizationPercentage"] = metric["resource"]["current"]["averageUtilization"]
        else:
            current.append(_status_metric_to_v1(metric))
    if current:
        annotations[CURRENT_METRICS] = json.dumps(current, separators=(",", ":"))
    if status.get("conditions"):
        annotations[CONDITIONS] = json.dumps(status.pop("conditions"), separators=(",", ":"))
    status.pop("conditions", None)
    if annotations:
        _annotations(out).update(annotations)
    return out


def _take_json(annotations: dict, key: str) -> Any:
    text = annotations.pop(key, None)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ConversionError(f"metadata.annotations[{key}]: Invalid value: not valid JSON") from None


def _hpa_v1_to_v2(data: dict) -> dict:
    out = copy.deepcopy(data)
    out["apiVersion"] = "autoscaling/v2"
    meta = out.get("metadata") if isinstance(out.get("metadata"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    spec = out.get("spec") if isinstance(out.get("spec"), dict) else None
    status = out.get("status") if isinstance(out.get("status"), dict) else None
    metrics = [_spec_metric_from_v1(m) for m in _take_json(annotations, METRICS) or []]
    behavior = _take_json(annotations, BEHAVIOR)
    current = [_status_metric_from_v1(m) for m in _take_json(annotations, CURRENT_METRICS) or []]
    conditions = _take_json(annotations, CONDITIONS)
    if annotations == {} and "annotations" in meta:
        del meta["annotations"]
    if spec is not None:
        target = spec.pop("targetCPUUtilizationPercentage", None)
        if target is not None:
            metrics.insert(0, {"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}})
        if metrics:
            spec["metrics"] = metrics
        if behavior:
            spec["behavior"] = behavior
    if status is not None:
        utilization = status.pop("currentCPUUtilizationPercentage", None)
        if utilization is not None:
            current.insert(0, {"type": "Resource", "resource": {
                "name": "cpu", "current": {"averageUtilization": utilization}}})
        if current:
            status["currentMetrics"] = current
        if conditions:
            status["conditions"] = conditions
    return out


_CONVERSIONS: dict[tuple[str, str, str], Callable[[dict], dict]] = {
    ("HorizontalPodAutoscaler", "autoscaling/v1", "autoscaling/v2"): _hpa_v1_to_v2,
    ("HorizontalPodAutoscaler", "autoscaling/v2", "autoscaling/v1"): _hpa_v2_to_v1,
}


def convert(data: dict, api_version: str) -> dict:
    """The object in `api_version` (unchanged when it already is in it or names no version)."""
    have = str(data.get("apiVersion") or api_version)
    if have == api_version:
        return data
    fn = _CONVERSIONS.get((str(data.get("kind", "")), have, api_version))
    if fn is None:
        raise ConversionError(f"no conversion of {data.get('kind')} from {have} to {api_version}")
    return fn(data)


def to_served_version(data: Any) -> Any:
    """The manifest in its kind's stored version (unchanged when it already is, or is unknown)."""
    if not isinstance(data, dict):
        return data
    kind = KINDS.get(str(data.get("kind", "")))
    if kind is None or str(data.get("apiVersion", "")) not in kind.old_api_versions:
        return data
    return convert(data, kind.api_version)
