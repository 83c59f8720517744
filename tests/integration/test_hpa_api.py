"""HorizontalPodAutoscalers and the scale subresource on a real apiserver: defaults, validation worded as
Kubernetes', autoscaling/v1 manifests, `get hpa` and `autoscale`, GetScale/UpdateScale and their RBAC,
and metrics.k8s.io refused to a user without a grant."""

from __future__ import annotations

import grpc
import pytest

from control.cli.errors import field_violations
from control.client.client import Client
from control.client.convert import from_dict, to_dict
from tests.fixtures.pki import session_pki
from tests.fixtures.skiffctl import run_skiffctl, skiffctl_env


def hpa(name: str, **spec) -> object:
    body = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 5,
            **spec}
    return from_dict({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                      "metadata": {"name": name, "namespace": "default"}, "spec": body})


def deployment(name: str = "web", replicas: int = 2) -> object:
    return from_dict({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
                      "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                               "template": {"metadata": {"labels": {"app": name}},
                                            "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}})


async def invalid(call) -> list[tuple[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, e.value.details()
    return field_violations(e.value)


async def test_defaults_and_behavior_rules(client: Client):
    created = to_dict(await client.create(hpa("defaults", behavior={"scaleDown": {"selectPolicy": "Min"}})))
    spec = created["spec"]
    assert spec["minReplicas"] == 1
    assert spec["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    assert spec["behavior"]["scaleUp"] == {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}
    assert spec["behavior"]["scaleDown"] == {"selectPolicy": "Min", "policies": [
        {"type": "Percent", "value": 100, "periodSeconds": 15}]}
    await client.delete("hpa", "defaults", "default")


async def test_validation(client: Client):
    assert await invalid(client.create(hpa("bad", maxReplicas=0, minReplicas=2))) == [
        ("spec.maxReplicas", "Invalid value: 0: must be greater than 0"),
        ("spec.maxReplicas", "Invalid value: 0: must be greater than or equal to `minReplicas`")]
    bad_metric = [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]
    assert await invalid(client.create(hpa("bad", metrics=bad_metric))) == [
        ("spec.metrics[0].resource.target.averageUtilization",
         "Required value: must set either a target raw value or a target utilization")]
    policy = {"scaleUp": {"stabilizationWindowSeconds": 4000, "policies": [
        {"type": "Nodes", "value": 0, "periodSeconds": 1801}]}}
    assert await invalid(client.create(hpa("bad", behavior=policy))) == [
        ("spec.behavior.scaleUp.stabilizationWindowSeconds", "Invalid value: 4000: must be less than or equal to 3600"),
        ("spec.behavior.scaleUp.policies[0].type", 'Unsupported value: "Nodes": supported values: "Percent", "Pods"'),
        ("spec.behavior.scaleUp.policies[0].value", "Invalid value: 0: must be greater than zero"),
        ("spec.behavior.scaleUp.policies[0].periodSeconds", "Invalid value: 1801: must be less than or equal to 1800")]
    ref = {"apiVersion": "apps/v1", "kind": "", "name": "a/b"}
    assert await invalid(client.create(hpa("bad", scaleTargetRef=ref))) == [
        ("spec.scaleTargetRef.kind", "Required value"),
        ("spec.scaleTargetRef.name", "Invalid value: \"a/b\": may not contain '/'")]


async def test_scale_subresource(apiserver, client: Client):
    await client.create(deployment("scaled", 2))
    scale = await client.get_scale("Deployment", "scaled", "default")
    assert (scale.kind, scale.spec.replicas, scale.status.selector) == ("Scale", 2, "app=scaled")
    scale.spec.replicas = 4
    updated = await client.update_scale("Deployment", scale)
    assert updated.spec.replicas == 4 and (await client.get("deploy", "scaled", "default")).spec.replicas == 4
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await client.update_scale("Deployment", scale)  # the resourceVersion it was read at
    assert stale.value.code() == grpc.StatusCode.ABORTED
    scale.metadata.resource_version = ""
    scale.spec.replicas = -1
    assert await invalid(client.update_scale("Deployment", scale)) == [
        ("spec.replicas", "Invalid value: -1: must be greater than or equal to 0")]
    bob = Client(apiserver.target, config=session_pki().user_config("bob", server=apiserver.target))
    try:
        details = []
        for call in (bob.get_scale("Deployment", "scaled", "default"), bob.list_pod_metrics("default")):
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await call
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
            details.append(e.value.details())
        assert details == [
            'deployments.apps "scaled" is forbidden: User "bob" cannot get resource "deployments/scale" in API group '
            '"apps" in the namespace "default"',
            'pods.metrics.k8s.io is forbidden: User "bob" cannot list resource "pods" in API group "metrics.k8s.io" '
            'in the namespace "default"']
    finally:
        await bob.close()
    await client.delete("deploy", "scaled", "default")


async def test_v1_manifests_autoscale_and_get(apiserver, client: Client, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)
    manifest = tmp_path / "hpa.yaml"
    manifest.write_text("apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: v1}\n"
                        "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: ReplicaSet, name: frontend}\n"
                        "  minReplicas: 3\n  maxReplicas: 10\n  targetCPUUtilizationPercentage: 50\n")
    applied = await run_skiffctl(env, "apply", "-f", str(manifest))
    assert (applied.code, applied.out) == (0, "horizontalpodautoscaler.autoscaling/v1 created\n"), applied.err
    stored = to_dict(await client.get("hpa", "v1", "default"))
    assert (stored["apiVersion"], stored["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]) == (
        "autoscaling/v2", 50)
    again = await run_skiffctl(env, "apply", "-f", str(manifest))
    assert again.out == "horizontalpodautoscaler.autoscaling/v1 unchanged\n", again.err

    await client.create(deployment("web", 1))
    made = await run_skiffctl(env, "autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=5")
    assert (made.code, made.out) == (0, "horizontalpodautoscaler.autoscaling/web autoscaled\n"), made.err
    listed = await run_skiffctl(env, "get", "hpa")
    lines = [line.split() for line in listed.out.splitlines()]
    assert lines[0] == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert lines[1][:7] == ["v1", "ReplicaSet/frontend", "cpu:", "<unknown>/50%", "3", "10", "0"]
    assert lines[2][:7] == ["web", "Deployment/web", "cpu:", "<unknown>/50%", "1", "5", "0"]
    no_max = await run_skiffctl(env, "autoscale", "deploy/web")
    assert (no_max.code, no_max.err) == (1, "error: --max=MAXPODS is required and must be at least 1, max: -1\n")
    not_scalable = await run_skiffctl(env, "autoscale", "service", "kubernetes", "--max=3")
    assert (not_scalable.code, not_scalable.err) == (1, "error: cannot autoscale a Service\n")
    described = await run_skiffctl(env, "describe", "hpa", "web")
    assert "Reference:" in described.out and "Deployment/web" in described.out
    assert "resource cpu on pods  (as a percentage of request):  <unknown> / 50%" in described.out, described.out
