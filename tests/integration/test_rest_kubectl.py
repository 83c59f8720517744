"""The machine's real kubectl against the apiserver's REST port: discovery, create, apply (created,
unchanged, configured), get with columns and -o wide|json, label, scale, delete, get -w, errors."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path

from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer, kubectl, kubectl_binary, write_kubeconfig

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: NAME, labels: {app: demo}}
data: {greeting: hi}
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: IMAGE
        ports: [{containerPort: 80}]
      - name: sidecar
        image: busybox:1
"""
POD = """apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers: [{name: c, image: busybox:1}]
"""


def run(kube: Path, *args: str, input: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    result = kubectl(kube, *args, input=input)
    if ok:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def test_version_and_api_resources(kube: Path) -> None:
    assert "Server Version: v1.32" in run(kube, "version").stdout
    lines = run(kube, "api-resources").stdout.splitlines()
    deployments = next(line.split() for line in lines if line.startswith("deployments "))
    assert deployments == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert any(line.split()[:2] == ["pods", "po"] for line in lines)
    wide = run(kube, "api-resources", "-o", "wide").stdout
    assert "create,delete,deletecollection,get,list,patch,update,watch" in wide


def test_create_get_label_delete(kube: Path) -> None:
    manifest = CONFIGMAP.replace("NAME", "greeting")
    assert run(kube, "create", "-f", "-", input=manifest).stdout.strip() == "configmap/greeting created"
    again = run(kube, "create", "-f", "-", input=manifest, ok=False)
    assert again.returncode == 1
    assert 'Error from server (AlreadyExists): error when creating "STDIN": configmaps "greeting" already exists' \
        in again.stderr
    table = run(kube, "get", "configmaps").stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"]
    assert any(line.split()[:2] == ["greeting", "1"] for line in table[1:])
    assert run(kube, "label", "configmap", "greeting", "tier=front").stdout.strip() == "configmap/greeting labeled"
    assert run(kube, "get", "cm", "-l", "tier=front", "-o", "name").stdout.split() == ["configmap/greeting"]
    assert run(kube, "get", "cm", "-l", "tier=back", "-o", "name").stdout.split() == []
    doc = json.loads(run(kube, "get", "cm", "greeting", "-o", "json").stdout)
    assert doc["kind"] == "ConfigMap" and doc["data"] == {"greeting": "hi"}
    assert doc["metadata"]["labels"] == {"app": "demo", "tier": "front"}
    assert run(kube, "delete", "configmap", "greeting").stdout.strip() == 'configmap "greeting" deleted'
    gone = run(kube, "get", "configmap", "greeting", ok=False)
    assert gone.returncode == 1
    assert gone.stderr.strip() == 'Error from server (NotFound): configmaps "greeting" not found'


def test_apply_created_unchanged_configured_and_scale(kube: Path) -> None:
    first = DEPLOYMENT.replace("IMAGE", "nginx:1")
    assert run(kube, "apply", "-f", "-", input=first).stdout.strip() == "deployment.apps/web created"
    assert run(kube, "apply", "-f", "-", input=first).stdout.strip() == "deployment.apps/web unchanged"
    second = DEPLOYMENT.replace("IMAGE", "nginx:2")
    assert run(kube, "apply", "-f", "-", input=second).stdout.strip() == "deployment.apps/web configured"
    doc = json.loads(run(kube, "get", "deployment", "web", "-o", "json").stdout)
    containers = doc["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("app", "nginx:2"), ("sidecar", "busybox:1")]
    assert containers[0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert doc["metadata"]["generation"] == 2
    assert run(kube, "scale", "deployment", "web", "--replicas", "4").stdout.strip() == "deployment.apps/web scaled"
    assert run(kube, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "4"
    wide = run(kube, "get", "deployments", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[5:] == ["app,sidecar", "nginx:2,busybox:1", "app=web"]
    one = run(kube, "get", "deployment", "web").stdout.splitlines()  # one object: a Table too
    assert one[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"] and one[1].split()[0] == "web"


def test_get_pods_wide_and_json(kube: Path) -> None:
    run(kube, "apply", "-f", "-", input=POD.replace("NAME", "solo"))
    wide = run(kube, "get", "pods", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                               "READINESS", "GATES"]
    assert wide[1].split()[:3] == ["solo", "0/1", "Pending"]
    listed = json.loads(run(kube, "get", "pods", "-o", "json").stdout)
    assert listed["kind"] == "List" and [p["metadata"]["name"] for p in listed["items"]] == ["solo"]
    everywhere = run(kube, "get", "pods", "-A").stdout.splitlines()
    assert everywhere[0].split()[:2] == ["NAMESPACE", "NAME"] and everywhere[1].split()[:2] == ["default", "solo"]


def test_validation_errors(kube: Path) -> None:
    bad = run(kube, "apply", "-f", "-", input='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad"},'
              '"spec":{"containers":[{"name":"c"}]}}', ok=False)
    assert bad.returncode == 1
    assert 'The Pod "bad" is invalid' in bad.stderr and "spec.containers[0].image: Required value" in bad.stderr
    unknown = CONFIGMAP.replace("NAME", "strict") + "bogus: 1\n"
    refused = run(kube, "apply", "-f", "-", input=unknown, ok=False)
    assert refused.returncode == 1 and 'strict decoding error: unknown field "bogus"' in refused.stderr
    warned = run(kube, "apply", "--validate=warn", "-f", "-", input=unknown.replace("strict", "warned"))
    assert warned.stdout.strip() == "configmap/warned created"
    assert 'Warning: unknown field "bogus"' in warned.stderr
    quiet = run(kube, "apply", "--validate=false", "-f", "-", input=unknown)
    assert quiet.stdout.strip() == "configmap/strict created" and "Warning" not in quiet.stderr


def test_explain_from_the_openapi_schemas(kube: Path) -> None:
    out = run(kube, "explain", "deployment.spec.replicas").stdout
    assert "GROUP:      apps" in out and "FIELD: replicas <integer>" in out
    fields = run(kube, "explain", "pods.spec.containers").stdout
    assert "image\t<string>" in fields and "ports\t<[]ContainerPort>" in fields


def test_forbidden_and_unauthorized(kube: Path, pki: Pki, rest: RestServer, tmp_path: Path) -> None:
    alice = write_kubeconfig(tmp_path / "alice", pki, rest.url, cert=None, token=pki.tokens["alice"])
    denied = kubectl(alice, "get", "pods")
    assert denied.returncode == 1
    assert denied.stderr.strip() == ('Error from server (Forbidden): pods is forbidden: User "alice" cannot list '
                                     'resource "pods" in API group "" in the namespace "default"')
    stranger = write_kubeconfig(tmp_path / "stranger", pki, rest.url, cert=None, token="not-a-token")
    refused = kubectl(stranger, "get", "pods")
    assert refused.returncode == 1
    assert "error: You must be logged in to the server (Unauthorized)" in refused.stderr


def test_get_watch_receives_event(kube: Path) -> None:
    """The list prints the object; a change made after it can only arrive through the watch."""
    run(kube, "create", "-f", "-", input=CONFIGMAP.replace("NAME", "watched"))
    proc = subprocess.Popen([kubectl_binary(), "get", "configmap", "watched", "-w", "-o", "name"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"KUBECONFIG": str(kube), "HOME": str(kube.parent), "PATH": "/usr/bin:/bin"})
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in proc.stdout], daemon=True).start()
    try:
        assert lines.get(timeout=20) == "configmap/watched"
        run(kube, "label", "configmap", "watched", "seen=yes")
        assert lines.get(timeout=20) == "configmap/watched"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
