"""How skiffctl prints a HorizontalPodAutoscaler: `get` columns (TARGETS as kubectl) and `describe`."""

from __future__ import annotations

import asyncio

from control.cli.describe_hpa import horizontal_pod_autoscaler
from control.cli.describe_text import render_section
from control.client.convert import from_dict
from control.client.hpatext import COLUMNS, targets_text
from control.client.printers import NONE


def hpa(metrics: list, current: list | None = None, behavior: dict | None = None):
    spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 5,
            "metrics": metrics}
    if behavior:
        spec["behavior"] = behavior
    return from_dict({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                      "metadata": {"name": "web", "namespace": "default"}, "spec": spec,
                      "status": {"currentReplicas": 2, "desiredReplicas": 4, "currentMetrics": current or []}})


CPU = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
MEM = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}
PODS = {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}}
CPU_NOW = {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 250,
                                                                       "averageValue": "250m"}}}


def test_targets_as_kubectl_prints_them():
    assert targets_text(hpa([CPU])) == "cpu: <unknown>/50%"
    assert targets_text(hpa([CPU], [CPU_NOW])) == "cpu: 250%/50%"
    assert targets_text(hpa([CPU, MEM], [CPU_NOW])) == "cpu: 250%/50%, memory: <unknown>/100Mi"
    assert targets_text(hpa([CPU, MEM, PODS])) == "cpu: <unknown>/50%, memory: <unknown>/100Mi + 1 more..."
    assert targets_text(hpa([])) == NONE


def test_get_row():
    obj = hpa([CPU], [CPU_NOW])
    obj.spec.min_replicas = 1
    row = COLUMNS.row(obj, 0.0)
    assert len(row) == len(COLUMNS.headers)
    assert row[:6] == ["web", "Deployment/web", "cpu: 250%/50%", "1", "5", "2"]


def test_describe():
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Min",
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}}
    text = render_section(asyncio.run(horizontal_pod_autoscaler(None, hpa([CPU], [CPU_NOW], behavior))))
    assert "Reference:" in text and "Deployment/web" in text
    assert "  resource cpu on pods  (as a percentage of request):  250% (250m) / 50%\n" in text
    assert "Behavior:\n  Scale Down:\n    Stabilization Window: 60 seconds\n    Select Policy: Min\n    Policies:\n" \
           "      - Type: Pods  Value: 1  Period: 30 seconds\n" in text
    assert "Deployment pods:" in text and "2 current / 4 desired" in text
