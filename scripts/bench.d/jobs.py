"""Benchmark: a Job of 2,000 completions at parallelism 200 on hollow nodes, against a ReplicaSet.

A real apiserver, scheduler and controller manager (job and replicaset controllers, their own
processes) on 20 hollow nodes. A hollow kubelet in this process finishes every pod bound to a node:
it writes phase Succeeded with a terminated container (exit code 0), as a node whose container ran
to completion would.

- job_pods_per_s: completions / (Job created -> Complete condition).
- Same-run baseline, replicaset_pods_per_s: a ReplicaSet of 200 replicas whose pods the same hollow
  kubelet finishes (a finished pod is no longer active, so the ReplicaSet replaces it), until 2,000
  of its pods have finished. Both go through the same scheduler and kubelet, so the ratio is the Job
  controller's bookkeeping (finalizers, status counts) against the ReplicaSet's.
Goal: ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd
from tests.fixtures.pki import session_pki, use_session_admin
from tests.fixtures.procs import stop

NODES = 20
TEMPLATE = {"metadata": {"labels": {}}, "spec": {"restartPolicy": "Never",
                                                  "containers": [{"name": "c", "image": "busybox"}]}}


def spawn(module: str, config: str, target: str, log_path: str, extra: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, "--kubeconfig", config, "--apiserver", target, *extra],
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


async def create_nodes(client: Client) -> None:
    for i in range(NODES):
        await client.create(from_dict({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": f"hollow-{i}"},
            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "500"},
                       "capacity": {"cpu": "64", "memory": "256Gi", "pods": "500"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}))


class HollowKubelet:
    """Finishes every bound pod once; counts finished pods per label value of `app`."""

    def __init__(self, client: Client, concurrency: int = 64) -> None:
        self.client = client
        self.slots = asyncio.Semaphore(concurrency)
        self.handled: set[str] = set()
        self.finished: dict[str, int] = {}
        self.changed = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        async for event in self.client.watch("Pod", "default"):
            pod = event.object
            if event.type in ("ADDED", "MODIFIED") and pod.spec.node_name and pod.metadata.uid not in self.handled \
                    and pod.status.phase not in ("Succeeded", "Failed"):
                self.handled.add(pod.metadata.uid)
                task = asyncio.create_task(self._finish(pod))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def _finish(self, pod) -> None:
        async with self.slots:
            for _ in range(5):
                pod.status.phase = "Succeeded"
                del pod.status.container_statuses[:]
                st = pod.status.container_statuses.add(name="c", image="busybox", ready=False)
                st.state.terminated.exit_code = 0
                st.state.terminated.reason = "Completed"
                try:
                    await self.client.update_status(pod)
                    break
                except Exception:  # noqa: BLE001 - a conflict: read it again
                    pod = await self.client.get("Pod", pod.metadata.name, "default")
        app = pod.metadata.labels.get("app", "")
        self.finished[app] = self.finished.get(app, 0) + 1
        self.changed.set()

    async def wait_finished(self, app: str, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.finished.get(app, 0) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.1, deadline - time.monotonic()))


async def run_job(client: Client, completions: int, parallelism: int, timeout: float) -> float:
    template = json.loads(json.dumps(TEMPLATE))
    template["metadata"]["labels"]["app"] = "job"
    start = time.perf_counter()
    await client.create(from_dict({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "bench"},
                                   "spec": {"completions": completions, "parallelism": parallelism,
                                            "template": template}}))
    deadline = time.monotonic() + timeout
    while True:
        job = await client.get("Job", "bench", "default")
        if any(c.type == "Complete" and c.status == "True" for c in job.status.conditions):
            return time.perf_counter() - start
        if time.monotonic() > deadline:
            raise SystemExit(f"the Job did not complete in {timeout}s: {job.status}")
        await asyncio.sleep(0.2)


async def run_replicaset(client: Client, kubelet: HollowKubelet, pods: int, replicas: int, timeout: float) -> float:
    template = json.loads(json.dumps(TEMPLATE))
    template["metadata"]["labels"]["app"] = "rs"
    template["spec"]["restartPolicy"] = "Always"
    start = time.perf_counter()
    await client.create(from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "bench"},
                                   "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "rs"}},
                                            "template": template}}))
    await kubelet.wait_finished("rs", pods, timeout)
    elapsed = time.perf_counter() - start
    await client.delete("ReplicaSet", "bench", "default", propagation_policy="Orphan")  # stop making pods
    return elapsed


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--completions", type=int, default=2000)
    p.add_argument("--parallelism", type=int, default=200)
    p.add_argument("--timeout", type=float, default=900.0)
    args = p.parse_args()
    use_session_admin()
    workdir = tempfile.mkdtemp(prefix="skiff-bench-jobs-")
    etcd = start_etcd()
    server = start_apiserver(etcd)
    pki = session_pki()
    procs = [spawn("control.scheduler.main", pki.scheduler_config, server.target,
                   os.path.join(workdir, "scheduler.log"), ["-v", "0", "--metrics-bind-address", "0"]),
             spawn("control.controllers.main", pki.controller_manager_config, server.target,
                   os.path.join(workdir, "controller-manager.log"),
                   ["--controllers", "job,replicaset", "--metrics-bind-address", "0"])]
    client = Client(server.target)
    kubelet = HollowKubelet(client)
    watcher = None
    try:
        await create_nodes(client)
        watcher = asyncio.create_task(kubelet.run())
        rs_s = await run_replicaset(client, kubelet, args.completions, args.parallelism, args.timeout)
        job_s = await run_job(client, args.completions, args.parallelism, args.timeout)
    finally:
        if watcher is not None:
            watcher.cancel()
        await client.close()
        for proc in procs:
            stop(proc)
        server.stop()
        etcd.stop()
    figures = {"job_pods_per_s": round(args.completions / job_s, 1),
               "replicaset_pods_per_s": round(args.completions / rs_s, 1),
               "ratio": round(rs_s / job_s, 3)}
    for k, v in figures.items():
        print(f"{k:<24}{v:>10}")
    print(f"({args.completions} pods at parallelism {args.parallelism} on {NODES} hollow nodes; scheduler and "
          f"controller manager in their own processes; {os.cpu_count()} cpus, Python {platform.python_version()}; "
          f"logs in {workdir})")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
