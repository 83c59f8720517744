"""Server-side apply with the machine's real kubectl and the official Python client: create, unchanged
re-apply, change, conflicts with other managers (kubectl's message and exit code), --force-conflicts,
removal of a field dropped from the manifest, managedFields of every write; skiffctl's over gRPC."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer, kubectl, write_kubeconfig
from tests.fixtures.skiffctl import skiffctl_env

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: IMAGE
        ports: [{containerPort: 80}]
"""


def run(kube: Path, *args: str, input: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    result = kubectl(kube, *args, input=input)
    if ok:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def manifest(replicas: int = 2, image: str = "app:1", name: str = "web") -> str:
    return DEPLOYMENT.replace("REPLICAS", str(replicas)).replace("IMAGE", image).replace("name: web", f"name: {name}")


def get(kube: Path, *args: str) -> dict:
    return json.loads(run(kube, "get", *args, "-o", "json", "--show-managed-fields").stdout)


def managers(obj: dict) -> dict[tuple[str, str], dict]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


def test_server_side_apply_lifecycle(kube: Path) -> None:
    out = run(kube, "apply", "--server-side", "-f", "-", input=manifest())
    assert out.stdout.strip() == "deployment.apps/web serverside-applied"
    first = get(kube, "deployment", "web")
    entry = managers(first)[("kubectl", "Apply")]
    assert entry["apiVersion"] == "apps/v1" and entry["fieldsType"] == "FieldsV1" and entry["time"]
    fields = entry["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {} and fields["f:spec"]["f:selector"] == {}
    assert fields["f:metadata"]["f:labels"] == {"f:app": {}, "f:tier": {}}
    assert fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}'] == {
        ".": {}, "f:image": {}, "f:name": {},
        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}
    # kubectl hides managedFields unless asked
    assert "managedFields" not in json.loads(run(kube, "get", "deploy", "web", "-o", "json").stdout)["metadata"]
    assert "f:replicas" in run(kube, "get", "deploy", "web", "-o", "yaml", "--show-managed-fields").stdout

    run(kube, "apply", "--server-side", "-f", "-", input=manifest())  # unchanged: nothing is written
    assert get(kube, "deployment", "web")["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]

    run(kube, "apply", "--server-side", "-f", "-", input=manifest(image="app:2"))
    changed = get(kube, "deployment", "web")
    assert changed["spec"]["template"]["spec"]["containers"][0]["image"] == "app:2"
    assert changed["metadata"]["generation"] == 2


def test_conflicts_and_force(kube: Path) -> None:
    run(kube, "apply", "--server-side", "-f", "-", input=manifest(name="shared"))
    # another manager applying a different value of a field kubectl's apply owns: a conflict
    other = run(kube, "apply", "--server-side", "--field-manager=deployer", "-f", "-",
                input=manifest(replicas=4, name="shared"), ok=False)
    assert other.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' in other.stderr
    assert "--force-conflicts" in other.stderr  # kubectl's advice follows the server's message
    # an Update (kubectl patch) takes the field; kubectl's next apply conflicts with it
    run(kube, "patch", "deployment", "shared", "-p", '{"spec":{"replicas":3}}')
    assert ("kubectl-patch", "Update") in managers(get(kube, "deployment", "shared"))
    again = run(kube, "apply", "--server-side", "-f", "-", input=manifest(replicas=5, name="shared"),
                ok=False)
    assert again.returncode == 1
    assert 'conflict with "kubectl-patch" using apps/v1: .spec.replicas' in again.stderr
    # forced, the applier takes the field from the other manager
    run(kube, "apply", "--server-side", "--force-conflicts", "-f", "-",
        input=manifest(replicas=5, name="shared"))
    forced = get(kube, "deployment", "shared")
    assert forced["spec"]["replicas"] == 5
    assert ("kubectl-patch", "Update") not in managers(forced)  # it owned nothing else


def test_fields_dropped_from_the_manifest_are_removed(kube: Path) -> None:
    doc = yaml.safe_load(manifest(name="trim"))
    doc["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "side:1"})
    run(kube, "apply", "--server-side", "-f", "-", input=yaml.safe_dump(doc))
    doc["spec"]["template"]["spec"]["containers"].pop()
    del doc["metadata"]["labels"]["tier"], doc["spec"]["replicas"]
    run(kube, "apply", "--server-side", "-f", "-", input=yaml.safe_dump(doc))
    trimmed = get(kube, "deployment", "trim")
    assert [c["name"] for c in trimmed["spec"]["template"]["spec"]["containers"]] == ["app"]
    assert trimmed["metadata"]["labels"] == {"app": "web"}
    assert trimmed["spec"]["replicas"] == 1  # back to the default


def test_client_side_writes_record_update_entries(kube: Path) -> None:
    run(kube, "create", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: '1'}\n")
    run(kube, "label", "configmap", "plain", "x=y")
    cm = get(kube, "configmap", "plain")
    recorded = managers(cm)
    assert recorded[("kubectl-create", "Update")]["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}
    assert recorded[("kubectl-label", "Update")]["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:x": {}}}}
    assert [e["operation"] for e in cm["metadata"]["managedFields"]] == ["Update", "Update"]


def test_apply_needs_a_field_manager_and_refuses_force_elsewhere(rest: RestServer, pki: Pki, tmp_path) -> None:
    api = k8s_config.new_client_from_config(config_file=str(write_kubeconfig(tmp_path / "c", pki, rest.url)))
    core = k8s.CoreV1Api(api)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py"}, "data": {"k": "v"}}
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_config_map("py", "default", body, _content_type="application/apply-patch+yaml")
    assert e.value.status == 422
    assert "fieldManager: Required value: is required for apply patch" in json.loads(e.value.body)["message"]
    created = core.patch_namespaced_config_map("py", "default", body, field_manager="py",
                                               _content_type="application/apply-patch+yaml")
    assert created.data == {"k": "v"} and created.metadata.managed_fields[0].manager == "py"
    taken = {**body, "data": {"k": "w"}}
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_config_map("py", "default", taken, field_manager="other",
                                         _content_type="application/apply-patch+yaml")
    status = json.loads(e.value.body)
    assert e.value.status == 409 and status["reason"] == "Conflict"
    assert status["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "py"',
                                            "field": ".data.k"}]
    with pytest.raises(ApiException) as e:
        core.patch_namespaced_config_map("py", "default", {"data": {"k": "x"}}, force=True)
    assert e.value.status == 422 and "force: Forbidden: may not be specified for non-apply patch" in e.value.body
    api.close()


def test_grpc_writes_are_owned_by_their_program(rest: RestServer, kube: Path, tmp_path) -> None:
    """skiffctl writes over gRPC as manager `skiffctl` (its user agent); kubectl's apply then conflicts with
    it, and skiffctl hides managedFields unless asked, as kubectl does."""
    env = skiffctl_env(rest.apiserver.target, tmp_path)
    skiffctl = str(Path(sys.executable).parent / "skiffctl")
    created = subprocess.run([skiffctl, "create", "-f", "-"], input=manifest(replicas=1, name="native"), env=env,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    obj = get(kube, "deployment", "native")
    assert ("skiffctl", "Update") in managers(obj)
    conflict = run(kube, "apply", "--server-side", "-f", "-", input=manifest(replicas=2, name="native"), ok=False)
    assert 'conflict with "skiffctl" using apps/v1: .spec.replicas' in conflict.stderr
    plain = subprocess.run([skiffctl, "get", "deploy", "native", "-o", "yaml"], env=env, capture_output=True,
                           text=True, timeout=60)
    shown = subprocess.run([skiffctl, "get", "deploy", "native", "-o", "yaml", "--show-managed-fields"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert "managedFields" not in plain.stdout and "manager: skiffctl" in shown.stdout


def test_apply_to_status_owns_status_fields(kube: Path) -> None:
    run(kube, "apply", "--server-side", "-f", "-", input=manifest(name="stat"))
    status = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: stat}\n"
              "status:\n  conditions: [{type: Progressing, status: 'True', reason: Tested}]\n")
    out = run(kube, "apply", "--server-side", "--subresource=status", "--field-manager=checker", "-f", "-",
              input=status)
    assert "serverside-applied" in out.stdout
    obj = get(kube, "deployment", "stat")
    assert obj["status"]["conditions"][0]["reason"] == "Tested"
    entry = next(e for e in obj["metadata"]["managedFields"] if e["manager"] == "checker")
    assert entry["operation"] == "Apply" and entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:conditions": {'k:{"type":"Progressing"}': {
        ".": {}, "f:reason": {}, "f:status": {}, "f:type": {}}}}}
    assert managers(obj)[("kubectl", "Apply")]["fieldsV1"]["f:spec"]  # the object's applier keeps its fields


def test_kubectl_moves_from_client_side_to_server_side_apply(kube: Path) -> None:
    run(kube, "apply", "-f", "-", input=manifest(name="moved"))  # client-side: kubectl-client-side-apply
    assert ("kubectl-client-side-apply", "Update") in managers(get(kube, "deployment", "moved"))
    # as Kubernetes documents, the move takes the fields over without conflicts
    out = run(kube, "apply", "--server-side", "-f", "-", input=manifest(replicas=3, name="moved"))
    assert out.stderr == ""  # kubectl's own migration of the managers and its re-apply went through
    moved = get(kube, "deployment", "moved")
    assert moved["spec"]["replicas"] == 3
    last = json.loads(moved["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 3  # the annotation follows, for a later client-side apply
    assert ("kubectl", "Apply") in managers(moved)
    # another manager gets no such pass
    other = run(kube, "apply", "--server-side", "--field-manager=ci", "-f", "-",
                input=manifest(replicas=4, name="moved"), ok=False)
    assert other.returncode == 1 and 'conflict with "kubectl": .spec.replicas' in other.stderr


def test_skiffctl_applies_server_side_over_grpc(rest: RestServer, kube: Path, tmp_path) -> None:
    env = skiffctl_env(rest.apiserver.target, tmp_path)
    skiffctl = str(Path(sys.executable).parent / "skiffctl")

    def ctl(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([skiffctl, *args], input=input, env=env, capture_output=True, text=True, timeout=60)
    first = ctl("apply", "--server-side", "-f", "-", input=manifest(name="grpc-ssa"))
    assert (first.returncode, first.stdout) == (0, "deployment.apps/grpc-ssa serverside-applied\n"), first.stderr
    entry = managers(get(kube, "deployment", "grpc-ssa"))[("skiffctl", "Apply")]
    assert entry["fieldsV1"]["f:spec"]["f:replicas"] == {}
    # kubectl's own apply of another value conflicts with skiffctl's, and the reverse over gRPC too
    run(kube, "apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest(replicas=6, name="grpc-ssa"))
    clash = ctl("apply", "--server-side", "-f", "-", input=manifest(replicas=2, name="grpc-ssa"))
    assert clash.returncode == 1
    assert clash.stderr.startswith('error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas\n')
    forced = ctl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest(replicas=2, name="grpc-ssa"))
    assert forced.returncode == 0, forced.stderr
    assert get(kube, "deployment", "grpc-ssa")["spec"]["replicas"] == 2
    dry = ctl("apply", "--server-side", "--dry-run=server", "-f", "-", input=manifest(replicas=7, name="grpc-ssa"))
    assert dry.stdout == "deployment.apps/grpc-ssa serverside-applied (server dry run)\n"
    assert get(kube, "deployment", "grpc-ssa")["spec"]["replicas"] == 2


def test_diff_and_dry_run_server_side(kube: Path) -> None:
    run(kube, "apply", "--server-side", "-f", "-", input=manifest(name="dry"))
    before = get(kube, "deployment", "dry")["metadata"]["resourceVersion"]
    same = run(kube, "diff", "--server-side", "-f", "-", input=manifest(name="dry"), ok=False)
    assert (same.returncode, same.stdout) == (0, "")
    changed = run(kube, "diff", "--server-side", "-f", "-", input=manifest(replicas=9, name="dry"), ok=False)
    assert changed.returncode == 1 and "+  replicas: 9" in changed.stdout
    dry = run(kube, "apply", "--server-side", "--dry-run=server", "-f", "-", input=manifest(replicas=9, name="dry"))
    assert dry.stdout.strip() == "deployment.apps/dry serverside-applied (server dry run)"
    after = get(kube, "deployment", "dry")
    assert after["metadata"]["resourceVersion"] == before and after["spec"]["replicas"] == 2
