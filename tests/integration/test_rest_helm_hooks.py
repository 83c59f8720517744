"""Helm's hooks and tests over the REST API, with the job controller running and a stand-in kubelet that
finishes pods (those named `-failing` fail): a pre-install/pre-upgrade Job hook runs and is deleted once it
succeeded (hook-delete-policy), `helm test` reports its test pod's outcome, and an upgrade whose hook fails
is rolled back with rollback-on-failure (Helm 3's --atomic)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest

from control.client.client import Client
from tests.fixtures.controllers import running_controllers
from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer, write_kubeconfig

HERE = Path(__file__).resolve().parent / "helm"
HELM_PYTHON = HERE.parents[2] / ".venv-helm" / "bin" / "python"
CHART = str(HERE / "hooks")


@pytest.fixture(scope="module")
def kube(rest: RestServer, pki: Pki, tmp_path_factory) -> Path:
    if not HELM_PYTHON.exists():
        raise RuntimeError(f"{HELM_PYTHON} is missing: scripts/install-deps makes the Helm venv")
    return write_kubeconfig(tmp_path_factory.mktemp("helm-hooks") / "config", pki, rest.url)


async def finish_pods(client: Client) -> None:
    """Marks each pod of the namespace Succeeded (Failed when its name says `-failing`), as a kubelet
    would once its container exited."""
    finished: set[str] = set()
    while True:
        for pod in (await client.list("Pod", "default")).items:
            if pod.metadata.uid in finished or pod.status.phase in ("Succeeded", "Failed"):
                continue
            failing = "-failing" in pod.metadata.name
            pod.status.phase = "Failed" if failing else "Succeeded"
            status = pod.status.container_statuses.add(name=pod.spec.containers[0].name, image="busybox")
            status.state.terminated.exit_code = 1 if failing else 0
            status.state.terminated.reason = "Error" if failing else "Completed"
            with contextlib.suppress(Exception):  # changed meanwhile: the next round sees it again
                await client.update_status(pod)
                finished.add(pod.metadata.uid)
        await asyncio.sleep(0.2)


async def helm(kube: Path, *args: str) -> tuple[int, dict]:
    proc = await asyncio.create_subprocess_exec(
        str(HELM_PYTHON), str(HERE / "driver.py"), str(kube), "default", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={"HOME": str(kube.parent)})
    out, err = await asyncio.wait_for(proc.communicate(), 150)
    assert out.strip(), err.decode()[-3000:]
    return proc.returncode, json.loads(out)


async def test_hooks_tests_and_a_rolled_back_upgrade(rest: RestServer, kube: Path) -> None:
    client = Client(rest.apiserver.target)
    async with running_controllers(rest.apiserver.target, ["job", "garbagecollector"]):
        kubelet = asyncio.create_task(finish_pods(client))
        try:
            code, installed = await helm(kube, "install", "hk", CHART, "{}", "false")
            assert code == 0 and installed["info"]["status"] == "deployed", installed
            # the hook ran before the chart's objects and, having succeeded, was deleted
            assert [j.metadata.name for j in (await client.list("Job", "default")).items] == []
            settings = await client.get("ConfigMap", "hk-settings", "default")
            assert dict(settings.data) == {"fail": "false"}
            code, tested = await helm(kube, "test", "hk")
            assert code == 0, tested
            code, failed = await helm(kube, "upgrade", "hk", CHART, json.dumps({"fail": True}), "true", "atomic")
            assert code == 1 and "rolled back" in failed["error"] and "hk-pre-failing" in failed["error"], failed
            code, status = await helm(kube, "status", "hk")
            assert status["info"]["status"] == "deployed" and status["info"].get("rollback_revision") == 1, status
            settings = await client.get("ConfigMap", "hk-settings", "default")
            assert dict(settings.data) == {"fail": "false"}
        finally:
            kubelet.cancel()
            await asyncio.gather(kubelet, return_exceptions=True)
            await client.close()
