"""Manifests of an older version of a served kind, converted to the served version (as the apiserver
converts between versions of one group). Only what the kind table lists in `old_versions` comes here.

autoscaling/v1 HorizontalPodAutoscaler -> autoscaling/v2: `targetCPUUtilizationPercentage: N` becomes
the metric `{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: N}}}`;
without it the v2 default (cpu at 80 %) applies. v1's status (currentCPUUtilizationPercentage) is
the server's and is dropped.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


def _hpa_v1(data: dict) -> dict:
    out = copy.deepcopy(data)
    out["apiVersion"] = "autoscaling/v2"
    spec = out.get("spec")
    if isinstance(spec, dict) and "targetCPUUtilizationPercentage" in spec:
        target = spec.pop("targetCPUUtilizationPercentage")
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}]
    out.pop("status", None)
    return out


_CONVERSIONS: dict[tuple[str, str], Callable[[dict], dict]] = {
    ("autoscaling/v1", "HorizontalPodAutoscaler"): _hpa_v1,
}


def to_served_version(data: Any) -> Any:
    """The manifest in its kind's served version (unchanged when it already is, or is unknown)."""
    if not isinstance(data, dict):
        return data
    convert = _CONVERSIONS.get((str(data.get("apiVersion", "")), str(data.get("kind", ""))))
    return convert(data) if convert is not None else data
