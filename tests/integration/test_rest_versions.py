"""An older version served beside the stored one over REST: autoscaling/v1 HorizontalPodAutoscalers
through the real kubectl and the official Python client, converted to and from the stored
autoscaling/v2 at the API's edge, in discovery and OpenAPI, in lists, watches and patches."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException

from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer, kubectl, write_kubeconfig

V1_MANIFEST = """apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: NAME, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  targetCPUUtilizationPercentage: 40
"""


@pytest.fixture(scope="module")
def api_client(rest: RestServer, pki: Pki, tmp_path_factory) -> k8s.ApiClient:
    path = write_kubeconfig(tmp_path_factory.mktemp("pyclient") / "config", pki, rest.url)
    c = k8s_config.new_client_from_config(config_file=str(path))
    yield c
    c.close()


def run(kube: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    result = kubectl(kube, *args, input=input)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def test_discovery_lists_v1_beside_the_preferred_v2(api_client: k8s.ApiClient) -> None:
    group = k8s.ApisApi(api_client).get_api_versions()
    autoscaling = next(g for g in group.groups if g.name == "autoscaling")
    assert [v.version for v in autoscaling.versions] == ["v2", "v1"]
    assert autoscaling.preferred_version.version == "v2"
    resources = k8s.AutoscalingV1Api(api_client).get_api_resources()
    assert {r.name for r in resources.resources} == {"horizontalpodautoscalers", "horizontalpodautoscalers/status"}


def test_kubectl_applies_a_v1_manifest_and_reads_either_version(kube: Path) -> None:
    manifest = V1_MANIFEST.replace("NAME", "cpu40")
    assert "created" in run(kube, "apply", "-f", "-", input=manifest).stdout
    assert "unchanged" in run(kube, "apply", "-f", "-", input=manifest).stdout
    v2 = json.loads(run(kube, "get", "hpa", "cpu40", "-o", "json").stdout)
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 40}}}]
    v1 = json.loads(run(kube, "get", "horizontalpodautoscalers.v1.autoscaling", "cpu40", "-o", "json").stdout)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 40
    assert "metrics" not in v1["spec"]
    assert "configured" in run(kube, "apply", "-f", "-", input=manifest.replace(": 40", ": 55")).stdout
    v2 = json.loads(run(kube, "get", "hpa", "cpu40", "-o", "json").stdout)
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 55
    run(kube, "delete", "hpa", "cpu40")


def test_strict_validation_names_the_v1_field(kube: Path) -> None:
    bad = V1_MANIFEST.replace("NAME", "typo").replace("targetCPUUtilizationPercentage", "targetCPU")
    result = kubectl(kube, "apply", "-f", "-", input=bad)
    assert result.returncode != 0
    assert 'unknown field "spec.targetCPU"' in result.stderr


def test_python_client_v1_crud_patch_and_watch(api_client: k8s.ApiClient) -> None:
    v1 = k8s.AutoscalingV1Api(api_client)
    v2 = k8s.AutoscalingV2Api(api_client)
    body = k8s.V1HorizontalPodAutoscaler(
        metadata=k8s.V1ObjectMeta(name="py"),
        spec=k8s.V1HorizontalPodAutoscalerSpec(
            max_replicas=4, target_cpu_utilization_percentage=30,
            scale_target_ref=k8s.V1CrossVersionObjectReference(api_version="apps/v1", kind="Deployment",
                                                               name="web")))
    created = v1.create_namespaced_horizontal_pod_autoscaler("default", body)
    assert created.api_version == "autoscaling/v1" and created.spec.target_cpu_utilization_percentage == 30
    # A metric v1 cannot hold is added through v2; v1 carries it in its annotation and gives it back.
    stored = v2.read_namespaced_horizontal_pod_autoscaler("py", "default")
    stored.spec.metrics.append(k8s.V2MetricSpec(type="Resource", resource=k8s.V2ResourceMetricSource(
        name="memory", target=k8s.V2MetricTarget(type="AverageValue", average_value="100Mi"))))
    v2.replace_namespaced_horizontal_pod_autoscaler("py", "default", stored)
    read = v1.read_namespaced_horizontal_pod_autoscaler("py", "default")
    assert json.loads(read.metadata.annotations["autoscaling.alpha.kubernetes.io/metrics"]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}}]
    v1.replace_namespaced_horizontal_pod_autoscaler("py", "default", read)  # v1 round trip keeps it
    assert len(v2.read_namespaced_horizontal_pod_autoscaler("py", "default").spec.metrics) == 2
    patched = v1.patch_namespaced_horizontal_pod_autoscaler("py", "default",
                                                            {"spec": {"targetCPUUtilizationPercentage": 70}})
    assert patched.spec.target_cpu_utilization_percentage == 70
    metrics = v2.read_namespaced_horizontal_pod_autoscaler("py", "default").spec.metrics
    assert [m.resource.name for m in metrics] == ["cpu", "memory"]
    assert metrics[0].resource.target.average_utilization == 70
    listed = v1.list_namespaced_horizontal_pod_autoscaler("default")
    assert all(i.api_version == "autoscaling/v1" or i.api_version is None for i in listed.items)
    assert "py" in {i.metadata.name for i in listed.items}
    events = k8s_watch.Watch().stream(v1.list_namespaced_horizontal_pod_autoscaler, "default",
                                      resource_version=listed.metadata.resource_version, timeout_seconds=10)
    v1.delete_namespaced_horizontal_pod_autoscaler("py", "default")
    for event in events:
        if event["type"] == "DELETED":
            assert event["object"].spec.target_cpu_utilization_percentage == 70
            break
    else:
        pytest.fail("no DELETED event on the v1 watch")
    with pytest.raises(ApiException) as e:
        v1.read_namespaced_horizontal_pod_autoscaler("py", "default")
    assert e.value.status == 404


def test_openapi_has_the_v1_schema(kube: Path) -> None:
    out = run(kube, "explain", "horizontalpodautoscalers.spec", "--api-version=autoscaling/v1").stdout
    assert "targetCPUUtilizationPercentage" in out
