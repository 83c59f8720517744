"""The machine's real kubectl on DaemonSets and StatefulSets through the REST port, with the
controllers running: apply, get with kubectl's columns, rollout status, history and undo."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually
from tests.fixtures.rest import kubectl

pytestmark = pytest.mark.timeout(120)

MANIFESTS = """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: IMAGE}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 0
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: IMAGE}]}
"""


async def run(kube: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """kubectl in a thread: the controllers run on this event loop meanwhile."""
    result = await asyncio.to_thread(kubectl, kube, *args, input=input)
    assert result.returncode == 0, result.stderr
    return result


async def test_kubectl_applies_gets_and_follows_the_rollouts(rest, kube):
    async with running_controllers(rest.apiserver.target, ["daemonset", "statefulset"]):
        applied = await run(kube, "apply", "-f", "-", input=MANIFESTS.replace("IMAGE", "busybox:1"))
        assert applied.stdout.splitlines() == ["daemonset.apps/agent created", "statefulset.apps/db created"]
        ds = await run(kube, "get", "ds")  # a list: the REST port answers Tables for lists (not yet for one object)
        assert ds.stdout.splitlines()[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE",
                                                     "AVAILABLE", "NODE", "SELECTOR", "AGE"]
        status = await run(kube, "rollout", "status", "sts/db", "--timeout=20s")
        assert "partitioned roll out complete: 0 new pods have been updated..." in status.stdout
        await run(kube, "apply", "-f", "-", input=MANIFESTS.replace("IMAGE", "busybox:2"))

        async def two_revisions() -> bool:
            out = (await asyncio.to_thread(kubectl, kube, "rollout", "history", "daemonset/agent")).stdout
            return out.split() == ["daemonset.apps/agent", "REVISION", "CHANGE-CAUSE", "1", "<none>", "2", "<none>"]
        await eventually(two_revisions, timeout=20, what="kubectl rollout history of the daemonset")
        done = await run(kube, "rollout", "status", "ds/agent", "--timeout=20s")
        assert 'daemon set "agent" successfully rolled out' in done.stdout
        undo = await run(kube, "rollout", "undo", "daemonset/agent")
        assert undo.stdout == "daemonset.apps/agent rolled back\n"
        image = await run(kube, "get", "ds", "agent", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
        assert image.stdout == "busybox:1"
