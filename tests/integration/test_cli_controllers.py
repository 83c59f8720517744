"""skiffctl with the real controller manager: revisions, rollbacks and cascading deletes it drives."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import grpc
import pytest

from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually, stop
from tests.fixtures.skiffctl import ROOT, Result, run_skiffctl, skiffctl_env

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ctl-web
spec:
  replicas: 2
  selector:
    matchLabels: {app: ctl-web}
  template:
    metadata:
      labels: {app: ctl-web}
    spec:
      containers:
      - name: web
        image: localhost:5000/whoami:1
"""



@pytest.fixture(scope="module")
def controllers(apiserver):
    log = tempfile.NamedTemporaryFile(prefix="skiff-cm-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "control.controllers.main",
                             "--kubeconfig", session_pki().controller_manager_config, "--apiserver", apiserver.target,
                             "--controllers", "replicaset,deployment,garbagecollector", "--metrics-bind-address", "0"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    stop(proc)
    log.close()
    os.unlink(log.name)


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)

    async def run(*args: str, stdin: str | None = None, timeout: float = 60) -> Result:
        return await run_skiffctl(env, *args, stdin=stdin, timeout=timeout)
    return run


async def _revisions(ctl) -> list[str]:
    result = await ctl("rollout", "history", "deploy/ctl-web")
    return [line.split()[0] for line in result.out.splitlines()[2:] if line.strip()]


async def test_rollout_history_undo_and_cascading_delete(ctl, client, controllers):
    assert (await ctl("apply", "-f", "-", stdin=DEPLOYMENT)).out == "deployment.apps/ctl-web created\n"

    async def revisions_are(*expected: str) -> bool:
        return await _revisions(ctl) == list(expected)
    await eventually(lambda: revisions_are("1"), timeout=30, what="revision 1")

    async def two_pods() -> bool:
        pods = await ctl("get", "pods", "-l", "app=ctl-web", "-o", "name")
        return len(pods.out.splitlines()) == 2
    await eventually(two_pods, timeout=30, what="the ReplicaSet's two pods")
    rs_table = (await ctl("get", "rs", "-l", "app=ctl-web")).out.splitlines()
    assert rs_table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert rs_table[1].split()[1] == "2"

    changed = await ctl("set", "image", "deploy/ctl-web", "web=localhost:5000/whoami:2")
    assert changed.out == "deployment.apps/ctl-web image updated\n"
    await eventually(lambda: revisions_are("1", "2"), timeout=30, what="revision 2")
    waiting = await ctl("rollout", "status", "deploy/ctl-web", "--timeout", "3s")
    assert waiting.code == 1  # no nodes: the new pods never become available
    assert waiting.out.startswith("Waiting for deployment")

    undo = await ctl("rollout", "undo", "deploy/ctl-web")
    assert undo.out == "deployment.apps/ctl-web rolled back\n", undo.err
    live = await client.get("deploy", "ctl-web", "default")
    assert live.spec.template.spec.containers[0].image == "localhost:5000/whoami:1"
    # The controller reuses revision 1's ReplicaSet and makes it the newest revision.
    await eventually(lambda: revisions_are("2", "3"), timeout=30, what="revision 1 reused as 3")

    deleted = await ctl("delete", "deploy", "ctl-web", "--cascade=foreground", "--timeout", "60s")
    assert (deleted.code, deleted.out) == (0, 'deployment.apps "ctl-web" deleted\n'), deleted.err
    with pytest.raises(grpc.aio.AioRpcError):
        await client.get("deploy", "ctl-web", "default")
    leftovers = await ctl("get", "rs", "-l", "app=ctl-web", "-o", "name")
    assert leftovers.out == ""  # foreground deletion removed the dependents first
