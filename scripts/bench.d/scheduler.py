"""Benchmark: skiff-scheduler placing 10,000 pods on 5,000 hollow nodes through a real apiserver.

Hollow nodes are Node objects only (Ready, 4 cpu / 32Gi / 110 pods), as in
kube-scheduler's own scale tests. The scheduler runs as its own process with
its default flags (leader election, adaptive percentageOfNodesToScore). Pods
are created by 32 concurrent clients while the scheduler runs; a watch sees
each binding. Reported: pods bound per second (first create to last binding)
and creation-to-binding latency. Same-run baseline: the apiserver's raw Bind
rate (binding pre-created pods round-robin with 64 concurrent calls, no
scheduling logic), the ceiling any scheduler on this apiserver could reach.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import psutil

from control.client.client import Client
from control.client.kinds import KINDS
from control.scheduler.testing import make_node, make_pod
from skiff.v1 import meta_pb2
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd
from tests.fixtures.procs import stop


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def run_concurrently(n: int, workers: int, op) -> float:
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await op(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - start


def bench_pod(name: str, namespace: str, scheduler_name: str = ""):
    pod = make_pod(name, namespace, cpu="100m", memory="128Mi", scheduler_name=scheduler_name)
    pod.metadata.uid = ""
    return pod


async def create_namespaces(client: Client, *names: str) -> None:
    for name in names:
        await client.create(KINDS["Namespace"].new(metadata=meta_pb2.ObjectMeta(name=name)))


async def create_nodes(clients: list[Client], n: int, workers: int) -> float:
    return await run_concurrently(
        n, workers, lambda i: clients[i % len(clients)].create(make_node(f"hollow-{i:05}", cpu="4", memory="32Gi")))


def spawn_scheduler(target: str, log_path: str, extra: list[str]) -> subprocess.Popen:
    # SKIFF_BENCH_PROFILE=FILE runs the scheduler under cProfile, writing FILE when it stops.
    profile = os.environ.get("SKIFF_BENCH_PROFILE")
    prefix = ["-m", "cProfile", "-o", profile] if profile else []
    return subprocess.Popen([sys.executable, *prefix, "-m", "control.scheduler.main", "--apiserver", target,
                             "-v", "0", *extra], stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


async def wait_bound(client: Client, namespace: str, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await client.get("Pod", name, namespace)).spec.node_name:
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"pod {namespace}/{name} not bound within {timeout}s")


async def watch_bindings(client: Client, namespace: str, rv: str, bound: dict[str, float], total: int,
                         done: asyncio.Event) -> None:
    async for event in client.watch("Pod", namespace, resource_version=rv):
        pod = event.object
        if event.type in ("ADDED", "MODIFIED") and pod.spec.node_name and pod.metadata.name not in bound:
            bound[pod.metadata.name] = time.perf_counter()
            if len(bound) == total:
                done.set()
                return


async def bench_scheduling(clients: list[Client], n: int, workers: int, timeout: float) -> dict:
    namespace = "bench"
    listing = await clients[0].list("Pod", namespace, limit=1)
    bound: dict[str, float] = {}
    created: dict[str, float] = {}
    done = asyncio.Event()
    watcher = asyncio.create_task(
        watch_bindings(clients[-1], namespace, listing.metadata.resource_version, bound, n, done))

    async def create(i: int) -> None:
        name = f"pod-{i:05}"
        created[name] = time.perf_counter()
        await clients[i % len(clients)].create(bench_pod(name, namespace))

    start = time.perf_counter()
    create_s = await run_concurrently(n, workers, create)
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        raise SystemExit(f"only {len(bound)}/{n} pods bound within {timeout}s") from None
    finally:
        watcher.cancel()
    latencies = [bound[k] - created[k] for k in created]
    return {"elapsed": max(bound.values()) - start, "create_s": create_s, "latencies": latencies}


async def bench_raw_binds(clients: list[Client], n: int, nodes: int, workers: int) -> float:
    """Pods nobody schedules (schedulerName none), bound round-robin: the apiserver's Bind ceiling."""
    namespace = "baseline"
    await run_concurrently(n, workers, lambda i: clients[i % len(clients)].create(
        bench_pod(f"raw-{i:05}", namespace, scheduler_name="none")))
    return await run_concurrently(n, workers, lambda i: clients[i % len(clients)].bind(
        namespace, f"raw-{i:05}", f"hollow-{i % nodes:05}"))


def scheduler_cpu_seconds(proc: subprocess.Popen) -> float:
    times = psutil.Process(proc.pid).cpu_times()
    return times.user + times.system


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--nodes", type=int, default=5000)
    p.add_argument("--pods", type=int, default=10000)
    p.add_argument("--clients", type=int, default=32, help="concurrent pod creators")
    p.add_argument("--baseline-binds", type=int, default=2000)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--scheduler-arg", action="append", default=[], help="extra skiff-scheduler flag")
    args = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="skiff-bench-sched-")
    etcd = start_etcd()
    server = start_apiserver(etcd, ["--watcher-queue", "50000", "--watch-cache-window", "50000"])
    sched = None
    clients = [Client(server.target) for _ in range(4)]
    try:
        await create_namespaces(clients[0], "bench", "baseline", "warmup")
        nodes_s = await create_nodes(clients, args.nodes, 64)
        sched = spawn_scheduler(server.target, os.path.join(workdir, "scheduler.log"), args.scheduler_arg)
        await clients[0].create(bench_pod("warmup", "warmup"))
        await wait_bound(clients[0], "warmup", "warmup", 120)  # the scheduler leads and its caches are warm
        cpu0 = scheduler_cpu_seconds(sched)
        result = await bench_scheduling(clients, args.pods, args.clients, args.timeout)
        sched_cpu = scheduler_cpu_seconds(sched) - cpu0
        stop(sched)
        sched = None
        raw_s = await bench_raw_binds(clients, args.baseline_binds, args.nodes, 64)
    finally:
        for c in clients:
            await c.close()
        if sched is not None:
            stop(sched)
        server.stop()
        etcd.stop()
    report(args, nodes_s, result, sched_cpu, raw_s)


def report(args: argparse.Namespace, nodes_s: float, result: dict, sched_cpu: float, raw_s: float) -> None:
    lat = result["latencies"]
    pods_per_s = args.pods / result["elapsed"]
    raw_per_s = args.baseline_binds / raw_s
    figures = {
        "pods_per_s": round(pods_per_s, 1),
        "bind_p50_s": round(statistics.median(lat), 3),
        "bind_p99_s": round(pct(lat, 99), 3),
        "create_per_s": round(args.pods / result["create_s"], 1),
        "raw_bind_per_s": round(raw_per_s, 1),
        "ratio_to_raw_bind": round(pods_per_s / raw_per_s, 3),
        "scheduler_cpu_ms_per_pod": round(sched_cpu * 1000 / args.pods, 3),
        "node_create_per_s": round(args.nodes / nodes_s, 1),
    }
    print(f"{'figure':<26}{'value':>12}")
    for k, v in figures.items():
        print(f"{k:<26}{v:>12}")
    print(f"({args.nodes} hollow nodes, {args.pods} pods from {args.clients} concurrent clients; baseline: "
          f"{args.baseline_binds} raw binds, 64 concurrent; {os.cpu_count()} cpus, {platform.processor() or ''} "
          f"Python {platform.python_version()}; kube-scheduler's CI floor at this size: 270 pods/s)")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
