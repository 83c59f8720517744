"""Conversion between autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers: v1's CPU target and
current value, everything else through v1's annotations, losslessly both ways; and the kind table's
older-version views."""

from __future__ import annotations

import json

import pytest

from control.client import conversion
from control.client.convert import ManifestError, from_dict, to_dict
from control.client.kinds import KINDS

HPA = KINDS["HorizontalPodAutoscaler"]

V2 = {
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web", "namespace": "default", "annotations": {"team": "a"}},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1, "maxReplicas": 10,
        "metrics": [
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                         "averageUtilization": 50}}},
            {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue",
                                                                            "averageValue": "100Mi"}}},
            {"type": "ContainerResource", "containerResource": {
                "name": "cpu", "container": "app", "target": {"type": "Utilization", "averageUtilization": 60}}},
            {"type": "Pods", "pods": {"metric": {"name": "qps"},
                                      "target": {"type": "AverageValue", "averageValue": "1k"}}},
            {"type": "Object", "object": {
                "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
                "metric": {"name": "requests"}, "target": {"type": "Value", "value": "10k"}}},
            {"type": "External", "external": {
                "metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
                "target": {"type": "AverageValue", "averageValue": "30"}}},
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60,
                                   "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}},
    },
    "status": {
        "currentReplicas": 3, "desiredReplicas": 4, "observedGeneration": 2,
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 70,
                                                                        "averageValue": "350m"}}},
            {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "90Mi"}}},
        ],
        "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}],
    },
}


def test_v2_to_v1_keeps_cpu_in_fields_and_the_rest_in_annotations() -> None:
    v1 = conversion.convert(V2, "autoscaling/v1")
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert "metrics" not in v1["spec"] and "behavior" not in v1["spec"]
    assert v1["status"]["currentCPUUtilizationPercentage"] == 70
    assert "conditions" not in v1["status"] and "currentMetrics" not in v1["status"]
    notes = v1["metadata"]["annotations"]
    assert notes["team"] == "a"
    others = json.loads(notes[conversion.METRICS])
    assert others[0] == {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}}
    assert others[2] == {"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "1k"}}
    assert others[4]["external"] == {"metricName": "queue", "metricSelector": {"matchLabels": {"q": "jobs"}},
                                     "targetAverageValue": "30"}
    assert json.loads(notes[conversion.BEHAVIOR]) == V2["spec"]["behavior"]
    assert json.loads(notes[conversion.CONDITIONS]) == V2["status"]["conditions"]
    assert V2["spec"]["metrics"][0]["resource"]["name"] == "cpu"  # the input is left alone


def test_v2_round_trips_through_v1() -> None:
    back = conversion.convert(conversion.convert(V2, "autoscaling/v1"), "autoscaling/v2")
    # v1 keeps the CPU current value only as a utilization; its averageValue is not representable.
    expected = json.loads(json.dumps(V2))
    del expected["status"]["currentMetrics"][0]["resource"]["current"]["averageValue"]
    assert back == expected


def test_every_metric_type_of_the_status_round_trips_through_v1() -> None:
    current = [
        {"type": "ContainerResource", "containerResource": {"name": "memory", "container": "app",
                                                            "current": {"averageValue": "20Mi"}}},
        {"type": "Pods", "pods": {"metric": {"name": "qps", "selector": {"matchLabels": {"a": "b"}}},
                                  "current": {"averageValue": "900"}}},
        {"type": "Object", "object": {"describedObject": {"kind": "Ingress", "name": "main"},
                                      "metric": {"name": "requests"},
                                      "current": {"value": "9k", "averageValue": "3k"}}},
        {"type": "External", "external": {"metric": {"name": "queue"},
                                          "current": {"value": "31", "averageValue": "8"}}},
    ]
    v2 = {**V2, "status": {**V2["status"], "currentMetrics": current}}
    v1 = conversion.convert(v2, "autoscaling/v1")
    assert json.loads(v1["metadata"]["annotations"][conversion.CURRENT_METRICS])[2] == {"type": "Object", "object": {
        "target": {"kind": "Ingress", "name": "main"}, "metricName": "requests", "currentValue": "9k",
        "averageValue": "3k"}}
    assert conversion.convert(v1, "autoscaling/v2")["status"]["currentMetrics"] == current


def test_v1_without_cpu_target_has_no_metrics_so_the_v2_default_applies() -> None:
    v1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
          "spec": {"maxReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "a"}}}
    v2 = conversion.convert(v1, "autoscaling/v2")
    assert "metrics" not in v2["spec"] and "annotations" not in v2["metadata"]
    assert conversion.convert(v2, "autoscaling/v1") == v1


def test_v1_manifest_becomes_the_stored_message() -> None:
    v1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
          "spec": {"maxReplicas": 3, "targetCPUUtilizationPercentage": 40,
                   "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}}}
    obj = from_dict(v1)
    assert obj.api_version == "autoscaling/v2"
    assert obj.spec.metrics[0].resource.target.average_utilization == 40


def test_a_broken_annotation_is_a_manifest_error() -> None:
    v1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
          "metadata": {"name": "a", "annotations": {conversion.METRICS: "[{"}}, "spec": {"maxReplicas": 1}}
    with pytest.raises(ManifestError, match="autoscaling.alpha.kubernetes.io/metrics"):
        from_dict(v1)


def test_unknown_conversion_is_refused() -> None:
    with pytest.raises(conversion.ConversionError):
        conversion.convert({"apiVersion": "apps/v1", "kind": "Deployment"}, "apps/v2")


def test_older_version_view_has_its_own_messages_and_the_stored_kind() -> None:
    view = HPA.at_version("v1")
    assert view.api_version == "autoscaling/v1" and view.stored is HPA
    spec = view.message.DESCRIPTOR.fields_by_name["spec"].message_type
    assert "target_cpu_utilization_percentage" in spec.fields_by_name
    assert [k.api_version for k in HPA.versions] == ["autoscaling/v2", "autoscaling/v1"]
    with pytest.raises(ValueError):
        HPA.at_version("v3")
    msg = from_dict(conversion.convert(V2, "autoscaling/v1"), view)
    assert to_dict(msg)["spec"]["targetCPUUtilizationPercentage"] == 50
