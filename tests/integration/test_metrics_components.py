"""/metrics of skiff-scheduler and skiff-controller-manager, each a real process against a real apiserver,
scraped over HTTP while they work (hollow nodes: Node objects only)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid

import pytest

from control.client.client import Client
from control.client.convert import from_dict
from control.scheduler.testing import make_node, make_pod
from tests.fixtures.metrics import Scrape, scrape
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually, free_port, stop


def spawn(module: str, config: str, target: str, port: int, *args: str) -> tuple[subprocess.Popen, str]:
    log = os.path.join(tempfile.mkdtemp(prefix="skiff-metrics-"), f"{module}.log")
    proc = subprocess.Popen([sys.executable, "-m", module, "--kubeconfig", config, "--apiserver", target,
                             "--leader-elect=false", "--metrics-bind-address", f"127.0.0.1:{port}", *args],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    return proc, log


async def scraped_when(port: int, ready, what: str, timeout: float = 20) -> Scrape:
    """Scrapes until `ready(scrape)` holds; the last scrape."""
    last: list[Scrape] = []

    async def check() -> bool:
        last[:] = [await scrape(port)]
        return ready(last[0])
    await eventually(check, timeout=timeout, what=what)
    return last[0]


@pytest.fixture
def logs_on_failure():
    logs: list[str] = []
    yield logs
    for path in logs:
        with open(path, errors="replace") as f:
            print(f"--- {path}\n{f.read()[-4000:]}")


async def test_scheduler_counts_attempts_by_result_and_pending_pods_by_queue(apiserver, client: Client,
                                                                             logs_on_failure):
    port = free_port()
    proc, log = spawn("control.scheduler.main", session_pki().scheduler_config, apiserver.target, port)
    logs_on_failure.append(log)
    try:
        await client.create(make_node("metrics-n1", cpu="4"))
        for name, cpu in (("fits-1", "1"), ("fits-2", "1"), ("too-big", "100")):
            pod = make_pod(name, cpu=cpu)
            pod.metadata.uid = ""
            await client.create(pod)

        def attempts(s: Scrape, result: str) -> float:
            return s.value("scheduler_schedule_attempts_total", result=result, profile="default-scheduler")

        s = await scraped_when(port, lambda s: attempts(s, "scheduled") == 2 and attempts(s, "unschedulable") >= 1
                               and s.value("scheduler_pending_pods", queue="unschedulable") == 1,
                               "two pods scheduled, one parked as unschedulable")
        assert s.value("scheduler_scheduling_attempt_duration_seconds_count", result="scheduled",
                       profile="default-scheduler") == 2
        assert s.value("scheduler_scheduling_attempt_duration_seconds_count", result="unschedulable") == \
            attempts(s, "unschedulable")
        assert s.value("scheduler_pending_pods", queue="active") == 0
        assert s.label_values("scheduler_pending_pods", "queue") == {"active", "backoff", "unschedulable", "gated"}
        assert attempts(s, "error") == 0
        for name in ("fits-1", "fits-2"):
            assert (await client.get("Pod", name, "default")).spec.node_name == "metrics-n1"
    finally:
        stop(proc)
    logs_on_failure.clear()


async def test_controller_manager_reports_each_controllers_work_queue(apiserver, client: Client, logs_on_failure):
    port = free_port()
    proc, log = spawn("control.controllers.main", session_pki().controller_manager_config, apiserver.target, port,
                      "--controllers", "replicaset")
    logs_on_failure.append(log)
    ns = f"m-{uuid.uuid4().hex[:6]}"
    try:
        await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        await client.create(from_dict({
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": ns},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}))

        async def three_pods() -> bool:
            return len((await client.list("Pod", ns)).items) == 3
        await eventually(three_pods, timeout=20, what="the ReplicaSet's pods")

        q = {"name": "replicaset"}
        s = await scraped_when(port, lambda s: s.value("workqueue_depth", **q) == 0
                               and s.value("workqueue_work_duration_seconds_count", **q)
                               == s.value("workqueue_queue_duration_seconds_count", **q) > 0,
                               "the replicaset queue drained")
        # Each add was handed to a worker (its queue duration) and finished (its work duration).
        assert s.value("workqueue_adds_total", **q) == s.value("workqueue_queue_duration_seconds_count", **q)
        assert s.types["workqueue_queue_duration_seconds"] == "histogram"
        assert s.has("workqueue_retries_total", **q)
        assert s.value("workqueue_unfinished_work_seconds", **q) == 0
        assert s.value("workqueue_longest_running_processor_seconds", **q) == 0
        assert s.label_values("workqueue_adds_total", "name") == {"replicaset"}
    finally:
        stop(proc)
    logs_on_failure.clear()
