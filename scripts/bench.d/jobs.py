"""Benchmark: a Job of 2,000 completions at parallelism 200 on hollow nodes, against a ReplicaSet.

A real apiserver, scheduler and controller manager (job and replicaset controllers, their own
processes) on 20 hollow nodes. A hollow kubelet in this process finishes every pod bound to a node:
it writes phase Succeeded with a terminated container (exit code 0), as a node whose container ran
to completion would.

- job_pods_per_s: completions / (Job created -> Complete condition).
- Same-run baseline, replicaset_pods_per_s: a ReplicaSet of 200 replicas whose pods the same hollow
  kubelet finishes (a finished pod is no longer active, so the ReplicaSet replaces it), until 2,000
  of its pods have finished. Both go through the same scheduler and kubelet, so the ratio is the Job
  controller's bookkeeping (finalizers, status counts) against the ReplicaSet's. Each runs in its
  own namespace, so the Job's controller doesn't sift the 2,000 pods the ReplicaSet left behind.
Goal: ratio >= 0.8.

Each phase also reports the CPU seconds every process spent on it (etcd, apiserver, scheduler,
controller manager, this process's hollow kubelet), per 1,000 pods: the work itself, which a busy
shared machine doesn't blur as much as the rates.
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

import psutil

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd
from tests.fixtures.pki import session_pki, use_session_admin
from tests.fixtures.procs import stop

NODES = 20
RS_NS, JOB_NS = "bench-replicaset", "bench-job"
TEMPLATE = {"metadata": {"labels": {}}, "spec": {"restartPolicy": "Never",
                                                  "containers": [{"name": "c", "image": "busybox"}]}}


def spawn(module: str, config: str, target: str, log_path: str, extra: list[str],
          profile: str | None = None) -> subprocess.Popen:
    """Starts a component; with `profile`, under cProfile, which writes its stats there when it exits."""
    runner = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []), "-m", module]
    return subprocess.Popen([*runner, "--kubeconfig", config, "--apiserver", target, *extra],
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


async def create_nodes(client: Client) -> None:
    for i in range(NODES):
        await client.create(from_dict({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": f"hollow-{i}"},
            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "500"},
                       "capacity": {"cpu": "64", "memory": "256Gi", "pods": "500"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}))


class CpuMeter:
    """CPU seconds (user + system, children included) of named processes, between two readings."""

    def __init__(self, pids: dict[str, int], alone: tuple[str, ...] = ()) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.alone = alone  # without children: this process, whose children are the others

    def read(self) -> dict[str, float]:
        return {name: _cpu(p) + (0.0 if name in self.alone else sum(_cpu(c) for c in p.children(recursive=True)))
                for name, p in self.procs.items()}

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float], pods: int) -> dict[str, float]:
        per_1k = {name: round((after[name] - before[name]) * 1000 / pods, 2) for name in before}
        return {**per_1k, "total": round(sum(per_1k.values()), 2)}


def _cpu(p: psutil.Process) -> float:
    try:
        times = p.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


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
        async for event in self.client.watch("Pod"):
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
                    pod = await self.client.get("Pod", pod.metadata.name, pod.metadata.namespace)
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
    await client.create(from_dict({"apiVersion": "batch/v1", "kind": "Job",
                                   "metadata": {"name": "bench", "namespace": JOB_NS},
                                   "spec": {"completions": completions, "parallelism": parallelism,
                                            "template": template}}))
    try:
        async with asyncio.timeout(timeout):
            async for event in client.watch("Job", JOB_NS):  # no polling: no requests the ReplicaSet run lacks
                if any(c.type == "Complete" and c.status == "True" for c in event.object.status.conditions):
                    return time.perf_counter() - start
    except TimeoutError:
        pass
    raise SystemExit(f"the Job did not complete in {timeout}s: {(await client.get('Job', 'bench', JOB_NS)).status}")


async def run_replicaset(client: Client, kubelet: HollowKubelet, pods: int, replicas: int, timeout: float) -> float:
    template = json.loads(json.dumps(TEMPLATE))
    template["metadata"]["labels"]["app"] = "rs"
    template["spec"]["restartPolicy"] = "Always"
    start = time.perf_counter()
    await client.create(from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                   "metadata": {"name": "bench", "namespace": RS_NS},
                                   "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "rs"}},
                                            "template": template}}))
    await kubelet.wait_finished("rs", pods, timeout)
    elapsed = time.perf_counter() - start
    await client.delete("ReplicaSet", "bench", RS_NS, propagation_policy="Orphan")  # stop making pods
    return elapsed


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--completions", type=int, default=2000)
    p.add_argument("--parallelism", type=int, default=200)
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--profile", action="store_true",
                   help="run the controller manager under cProfile (controller-manager.prof in the logs directory)")
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
                   ["--controllers", "job,replicaset", "--metrics-bind-address", "0"],
                   os.path.join(workdir, "controller-manager.prof") if args.profile else None)]
    client = Client(server.target)
    kubelet = HollowKubelet(client)
    watcher = None
    meter = CpuMeter({"etcd": etcd.proc.pid, "apiserver": server.proc.pid, "scheduler": procs[0].pid,
                      "controller-manager": procs[1].pid, "bench": os.getpid()}, alone=("bench",))
    try:
        await create_nodes(client)
        for ns in (RS_NS, JOB_NS):
            await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        watcher = asyncio.create_task(kubelet.run())
        start = meter.read()
        rs_s = await run_replicaset(client, kubelet, args.completions, args.parallelism, args.timeout)
        middle = meter.read()
        job_s = await run_job(client, args.completions, args.parallelism, args.timeout)
        rs_cpu = meter.spent(start, middle, args.completions)
        job_cpu = meter.spent(middle, meter.read(), args.completions)
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
    print("CPU seconds per 1,000 pods:  " + "  ".join(f"{name} {rs_cpu[name]} / {job_cpu[name]}" for name in rs_cpu)
          + "  (ReplicaSet / Job)")
    figures.update(replicaset_cpu_s_per_1k_pods=rs_cpu["total"], job_cpu_s_per_1k_pods=job_cpu["total"])
    print(f"({args.completions} pods at parallelism {args.parallelism} on {NODES} hollow nodes; scheduler and "
          f"controller manager in their own processes; {os.cpu_count()} cpus, Python {platform.python_version()}; "
          f"logs in {workdir})")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
