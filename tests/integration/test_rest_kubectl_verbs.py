"""The everyday kubectl verbs over the REST port that edit objects through patches: set image, set env,
rollout restart, annotate, wait (condition and delete), delete with --cascade."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.fixtures.rest import kubectl, kubectl_binary

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: verbs}
spec:
  replicas: 1
  selector: {matchLabels: {app: verbs}}
  template:
    metadata: {labels: {app: verbs}}
    spec:
      containers:
      - {name: app, image: "busybox:1"}
"""


def run(kube: Path, *args: str, input: str | None = None) -> str:
    result = kubectl(kube, *args, input=input)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def get(kube: Path, *args: str) -> dict:
    return json.loads(run(kube, "get", *args, "-o", "json"))


def test_set_image_env_and_rollout_restart(kube: Path) -> None:
    run(kube, "apply", "-f", "-", input=DEPLOYMENT)
    assert run(kube, "set", "image", "deployment/verbs", "app=busybox:2").strip() == \
        "deployment.apps/verbs image updated"
    assert run(kube, "set", "env", "deployment/verbs", "GREETING=hi", "MODE=test").strip() == \
        "deployment.apps/verbs env updated"
    container = get(kube, "deployment", "verbs")["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "busybox:2"
    assert {e["name"]: e["value"] for e in container["env"]} == {"GREETING": "hi", "MODE": "test"}
    run(kube, "set", "env", "deployment/verbs", "MODE-")
    container = get(kube, "deployment", "verbs")["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in container["env"]] == ["GREETING"]
    assert run(kube, "rollout", "restart", "deployment/verbs").strip() == "deployment.apps/verbs restarted"
    annotations = get(kube, "deployment", "verbs")["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations


def test_annotate_and_overwrite(kube: Path) -> None:
    run(kube, "create", "configmap", "noted", "--from-literal=a=b")
    assert run(kube, "annotate", "configmap", "noted", "owner=alice").strip() == "configmap/noted annotated"
    refused = kubectl(kube, "annotate", "configmap", "noted", "owner=bob")
    assert refused.returncode != 0 and "--overwrite is false but found the following declared annotation(s)" in \
        refused.stderr
    run(kube, "annotate", "configmap", "noted", "owner=bob", "--overwrite")
    assert get(kube, "configmap", "noted")["metadata"]["annotations"]["owner"] == "bob"
    run(kube, "annotate", "configmap", "noted", "owner-")
    assert "owner" not in (get(kube, "configmap", "noted")["metadata"].get("annotations") or {})


def test_wait_for_a_condition_and_for_delete(kube: Path) -> None:
    run(kube, "run", "waited", "--image=busybox:1", "--restart=Never")
    env = {**os.environ, "KUBECONFIG": str(kube), "HOME": str(kube.parent)}
    waiting = subprocess.Popen([kubectl_binary(), "wait", "--for=condition=Ready", "pod/waited", "--timeout=30s"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
        run(kube, "patch", "pod", "waited", "--subresource=status", "--type=merge", "-p", json.dumps(ready))
        out, err = waiting.communicate(timeout=40)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, err
    assert out.strip() == "pod/waited condition met"
    deleting = subprocess.Popen([kubectl_binary(), "wait", "--for=delete", "pod/waited", "--timeout=30s"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        run(kube, "delete", "pod", "waited", "--grace-period=0", "--force")
        out, err = deleting.communicate(timeout=40)
    finally:
        deleting.kill()
    assert deleting.returncode == 0, err


def test_delete_with_cascade(kube: Path) -> None:
    run(kube, "create", "configmap", "plain", "--from-literal=a=b")
    assert run(kube, "delete", "configmap", "plain").strip() == 'configmap "plain" deleted'
    gone = kubectl(kube, "get", "configmap", "plain")
    assert gone.returncode == 1 and 'configmaps "plain" not found' in gone.stderr
    # Orphan and foreground deletion hold the object with a finalizer for the garbage collector (not
    # running here), so kubectl is told not to wait for it.
    for policy, finalizer in (("orphan", "orphan"), ("foreground", "foregroundDeletion")):
        run(kube, "create", "configmap", policy, "--from-literal=a=b")
        out = run(kube, "delete", "configmap", policy, f"--cascade={policy}", "--wait=false")
        assert out.strip() == f'configmap "{policy}" deleted'
        meta = get(kube, "configmap", policy)["metadata"]
        assert meta.get("deletionTimestamp") and finalizer in meta["finalizers"]
