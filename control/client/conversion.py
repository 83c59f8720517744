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
from dataclasses import dataclass
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

# Per metric type, (v1 field, v2 path in the source). `{v}` is "target" in the spec, "current" in the
# status: v1 names the value `targetAverageValue` / `currentAverageValue` where v2 nests it in
# `target` / `current`.
_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Resource": (("name", "name"), ("container", "container"),
                 ("{v}AverageUtilization", "{v}.averageUtilization"), ("{v}AverageValue", "{v}.averageValue")),
    "Pods": (("metricName", "metric.name"), ("selector", "metric.selector"),
             ("{v}AverageValue", "{v}.averageValue")),
    "Object": (("target", "describedObject"), ("metricName", "metric.name"), ("selector", "metric.selector"),
               ("{v}Value", "{v}.value"), ("averageValue", "{v}.averageValue")),
    "External": (("metricName", "metric.name"), ("metricSelector", "metric.selector"),
                 ("{v}Value", "{v}.value"), ("{v}AverageValue", "{v}.averageValue")),
}
_FIELDS["ContainerResource"] = _FIELDS["Resource"]
# A v2 spec target's type, from the first of its values present.
_TARGET_TYPES = (("averageUtilization", "Utilization"), ("averageValue", "AverageValue"), ("value", "Value"))


def _get(doc: Any, path: str) -> Any:
    for key in path.split("."):
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _put(doc: dict, path: str, value: Any) -> None:
    """Sets a nested value, making the dicts on the way even when the value is None (left out)."""
    *parents, leaf = path.split(".")
    for key in parents:
        doc = doc.setdefault(key, {})
    if value is not None:
        doc[leaf] = value


def _typed_target(target: dict) -> dict:
    return next(({"type": kind, key: target[key]} for key, kind in _TARGET_TYPES if key in target),
                {"type": "Value"})


def _metric_to_v1(metric: dict, value: str) -> dict:
    kind = metric.get("type", "")
    if kind not in _FIELDS:
        return metric
    source = metric.get(_SOURCES[kind], {}) or {}
    out = {v1.format(v=value): _get(source, v2.format(v=value)) for v1, v2 in _FIELDS[kind]}
    return {"type": kind, _SOURCES[kind]: _drop_empty(out)}


def _metric_from_v1(metric: dict, value: str) -> dict:
    kind = metric.get("type", "")
    if kind not in _FIELDS:
        return metric
    source = metric.get(_SOURCES[kind], {}) or {}
    out: dict = {}
    for v1, v2 in _FIELDS[kind]:
        _put(out, v2.format(v=value), source.get(v1.format(v=value)))
    if value == "target":
        out["target"] = _typed_target(out["target"])
    return {"type": kind, _SOURCES[kind]: out}


def _is_cpu_utilization(metric: dict, key: str) -> bool:
    resource = metric.get("resource") or {}
    return metric.get("type") == "Resource" and resource.get("name") == "cpu" and \
        (resource.get(key) or {}).get("averageUtilization") is not None


# -- the object ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Part:
    """Where spec and status keep their metrics in each version, and what else v1 carries in annotations."""
    name: str  # spec | status
    value: str  # target | current
    metrics: str  # v2's list
    cpu: str  # v1's CPU utilization field
    metrics_annotation: str
    other: str  # v2's field that v1 has only in an annotation
    other_annotation: str


_PARTS = (_Part("spec", "target", "metrics", "targetCPUUtilizationPercentage", METRICS, "behavior", BEHAVIOR),
          _Part("status", "current", "currentMetrics", "currentCPUUtilizationPercentage", CURRENT_METRICS,
                "conditions", CONDITIONS))


def _annotations(doc: dict) -> dict:
    return doc.setdefault("metadata", {}).setdefault("annotations", {})


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _part_to_v1(part: _Part, doc: dict, annotations: dict) -> None:
    others = []
    for metric in doc.pop(part.metrics, None) or []:
        if _is_cpu_utilization(metric, part.value) and part.cpu not in doc:
            doc[part.cpu] = metric["resource"][part.value]["averageUtilization"]
        else:
            others.append(_metric_to_v1(metric, part.value))
    if others:
        annotations[part.metrics_annotation] = _dumps(others)
    if doc.get(part.other):
        annotations[part.other_annotation] = _dumps(doc.pop(part.other))
    doc.pop(part.other, None)


def _hpa_v2_to_v1(data: dict) -> dict:
    out = copy.deepcopy(data)
    out["apiVersion"] = "autoscaling/v1"
    annotations: dict = {}
    for part in _PARTS:
        _part_to_v1(part, out.get(part.name) or {}, annotations)
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


def _part_from_v1(part: _Part, doc: dict | None, metrics: list[dict], other: Any) -> None:
    if doc is None:
        return
    cpu = doc.pop(part.cpu, None)
    if cpu is not None:
        value = {"averageUtilization": cpu}
        metrics.insert(0, {"type": "Resource", "resource": {
            "name": "cpu", part.value: _typed_target(value) if part.value == "target" else value}})
    if metrics:
        doc[part.metrics] = metrics
    if other:
        doc[part.other] = other


def _hpa_v1_to_v2(data: dict) -> dict:
    out = copy.deepcopy(data)
    out["apiVersion"] = "autoscaling/v2"
    meta = out.get("metadata") if isinstance(out.get("metadata"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    taken = [([_metric_from_v1(m, part.value) for m in _take_json(annotations, part.metrics_annotation) or []],
              _take_json(annotations, part.other_annotation)) for part in _PARTS]
    if annotations == {} and "annotations" in meta:
        del meta["annotations"]
    for part, (metrics, other) in zip(_PARTS, taken, strict=True):
        doc = out.get(part.name)
        _part_from_v1(part, doc if isinstance(doc, dict) else None, metrics, other)
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
