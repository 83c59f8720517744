"""Benchmark: skiff-scheduler placing 10,000 pods on 5,000 hollow nodes through a real apiserver.

Hollow nodes are Node objects only (Ready, 4 cpu / 32Gi / 110 pods), as in
kube-scheduler's own scale tests. The scheduler runs as its own process with
its default flags (leader election, adaptive percentageOfNodesToScore).

1. Throughput (kube-scheduler's scheduler_perf style): 10,000 pending pods are
   created first, then the scheduler starts; pods_per_s is first to last binding.
2. Latency: with the scheduler running, 2,000 more pods are created by 32
   concurrent clients; from the create's acknowledgement to the binding seen
   by a watch.
Same-run baseline: the apiserver's raw Bind rate (pre-created pods bound
round-robin by 64 concurrent calls, no scheduling, two pod watches open), the
ceiling of any scheduler on this apiserver; the scheduler also writes Events.
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
from control.scheduler.algorithm import Algorithm
from control.scheduler.cache import Cache
from control.scheduler.filters import default_filters
from control.scheduler.framework import Profile
from control.scheduler.podinfo import PodInfo
from control.scheduler.scores import default_scores
from control.scheduler.testing import make_node, make_pod
from skiff.v1 import meta_pb2
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd
from tests.fixtures.pki import session_pki, use_session_admin
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
    return subprocess.Popen([sys.executable, *prefix, "-m", "control.scheduler.main",
                             "--kubeconfig", session_pki().scheduler_config, "--apiserver", target,
                             "-v", "0", *extra], stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


async def watch_bindings(client: Client, namespace: str, rv: str, bound: dict[str, float], total: int,
                         done: asyncio.Event) -> None:
    """Records the wall-clock time at which each pod is first seen bound."""
    async for event in client.watch("Pod", namespace, resource_version=rv):
        pod = event.object
        if event.type in ("ADDED", "MODIFIED") and pod.spec.node_name and pod.metadata.name not in bound:
            bound[pod.metadata.name] = time.time()
            if len(bound) == total:
                done.set()
                return


async def start_watch(client: Client, namespace: str, total: int) -> tuple[asyncio.Task, dict, asyncio.Event]:
    listing = await client.list("Pod", namespace, limit=1)
    bound: dict[str, float] = {}
    done = asyncio.Event()
    task = asyncio.create_task(watch_bindings(client, namespace, listing.metadata.resource_version, bound,
                                              total, done))
    return task, bound, done


async def create_pods(clients: list[Client], namespace: str, n: int, workers: int) -> tuple[float, dict]:
    """Creates n pods; returns the time taken and when each create was acknowledged.

    Not creationTimestamp: Kubernetes (and skiff) keep it in whole seconds, which
    would add half a second on average to every latency.
    """
    created: dict[str, float] = {}

    async def create(i: int) -> None:
        pod = await clients[i % len(clients)].create(bench_pod(f"pod-{i:05}", namespace))
        created[pod.metadata.name] = time.time()

    return await run_concurrently(n, workers, create), created


async def wait_all(done: asyncio.Event, bound: dict, n: int, timeout: float) -> None:
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        raise SystemExit(f"only {len(bound)}/{n} pods bound within {timeout}s") from None


async def bench_backlog(clients: list[Client], target: str, workdir: str, args) -> dict:
    """10,000 pending pods first, then the scheduler starts: its own placing rate (kube's throughput test)."""
    watch, bound, done = await start_watch(clients[-1], "bench", args.pods)
    create_s, _ = await create_pods(clients, "bench", args.pods, args.clients)
    started = time.time()
    sched = spawn_scheduler(target, os.path.join(workdir, "scheduler.log"), args.scheduler_arg)
    try:
        await wait_all(done, bound, args.pods, args.timeout)
        cpu = scheduler_cpu_seconds(sched)
    finally:
        watch.cancel()
    first, last = min(bound.values()), max(bound.values())
    return {"sched": sched, "create_s": create_s, "startup_s": first - started, "elapsed": last - first,
            "cpu": cpu}


async def bench_latency(clients: list[Client], sched: subprocess.Popen, args) -> dict:
    """With the scheduler running, pods created by concurrent clients: creation-to-binding latency."""
    watch, bound, done = await start_watch(clients[-1], "latency", args.latency_pods)
    cpu0 = scheduler_cpu_seconds(sched)
    try:
        create_s, created = await create_pods(clients, "latency", args.latency_pods, args.clients)
        await wait_all(done, bound, args.latency_pods, args.timeout)
    finally:
        watch.cancel()
    latencies = [bound[k] - created[k] for k in created]
    elapsed = max(bound.values()) - min(created.values())
    return {"latencies": latencies, "elapsed": elapsed, "create_s": create_s,
            "cpu": scheduler_cpu_seconds(sched) - cpu0}


async def drain_watch(client: Client) -> None:
    rv = (await client.list("Pod", limit=1)).metadata.resource_version
    async for _ in client.watch("Pod", resource_version=rv):  # changes only, as an informer after its list
        pass


async def bench_raw_binds(clients: list[Client], n: int, nodes: int, workers: int) -> float:
    """Pods nobody schedules (schedulerName none), bound round-robin: the apiserver's Bind ceiling.

    Two pod watchers stay open meanwhile, as the scheduler's informer and the bench's watch do.
    """
    namespace = "baseline"
    await run_concurrently(n, workers, lambda i: clients[i % len(clients)].create(
        bench_pod(f"raw-{i:05}", namespace, scheduler_name="none")))
    watchers = [asyncio.create_task(drain_watch(clients[i])) for i in (0, -1)]
    try:
        return await run_concurrently(n, workers, lambda i: clients[i % len(clients)].bind(
            namespace, f"raw-{i:05}", f"hollow-{i % nodes:05}"))
    finally:
        for w in watchers:
            w.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)


def bench_algorithm(nodes: int, pods: int) -> float:
    """The scheduling cycle alone, in process (no API): filter, score, assume. Returns CPU seconds."""
    cache = Cache()
    for i in range(nodes):
        cache.add_node(make_node(f"hollow-{i:05}", cpu="4", memory="32Gi"))
    algorithm = Algorithm(cache, Profile("default-scheduler", default_filters(), default_scores()))
    infos = [PodInfo(bench_pod(f"pod-{i:05}", "bench")) for i in range(pods)]
    start = time.process_time()
    for info in infos:
        cache.assume_pod(info, algorithm.schedule(info).node_name)
    return time.process_time() - start


def scheduler_cpu_seconds(proc: subprocess.Popen) -> float:
    times = psutil.Process(proc.pid).cpu_times()
    return times.user + times.system


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--nodes", type=int, default=5000)
    p.add_argument("--pods", type=int, default=10000, help="pending pods placed from a backlog")
    p.add_argument("--latency-pods", type=int, default=2000, help="pods created while the scheduler runs")
    p.add_argument("--clients", type=int, default=32, help="concurrent pod creators")
    p.add_argument("--baseline-binds", type=int, default=2000)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--scheduler-arg", action="append", default=[], help="extra skiff-scheduler flag")
    args = p.parse_args()
    use_session_admin()
    workdir = tempfile.mkdtemp(prefix="skiff-bench-sched-")
    etcd = start_etcd()
    server = start_apiserver(etcd, ["--watcher-queue", "50000", "--watch-cache-window", "50000"])
    sched = None
    clients = [Client(server.target) for _ in range(4)]
    try:
        await create_namespaces(clients[0], "bench", "latency", "baseline")
        nodes_s = await create_nodes(clients, args.nodes, 64)
        backlog = await bench_backlog(clients, server.target, workdir, args)
        sched = backlog.pop("sched")
        latency = await bench_latency(clients, sched, args)
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
    cycle_s = bench_algorithm(args.nodes, args.pods)
    report(args, nodes_s, backlog, latency, raw_s, cycle_s)


def report(args: argparse.Namespace, nodes_s: float, backlog: dict, latency: dict, raw_s: float,
           cycle_s: float) -> None:
    lat = latency["latencies"]
    pods_per_s = args.pods / backlog["elapsed"]
    raw_per_s = args.baseline_binds / raw_s
    figures = {
        "pods_per_s": round(pods_per_s, 1),
        "raw_bind_per_s": round(raw_per_s, 1),
        "ratio_to_raw_bind": round(pods_per_s / raw_per_s, 3),
        "scheduler_cpu_ms_per_pod": round(backlog["cpu"] * 1000 / args.pods, 3),
        "startup_s": round(backlog["startup_s"], 2),
        "bind_p50_s": round(statistics.median(lat), 3),
        "bind_p99_s": round(pct(lat, 99), 3),
        "steady_pods_per_s": round(args.latency_pods / latency["elapsed"], 1),
        "steady_create_per_s": round(args.latency_pods / latency["create_s"], 1),
        "node_create_per_s": round(args.nodes / nodes_s, 1),
        "cycle_ms": round(cycle_s * 1000 / args.pods, 3),
    }
    print(f"{'figure':<26}{'value':>12}")
    for k, v in figures.items():
        print(f"{k:<26}{v:>12}")
    print(f"pods_per_s: {args.pods} pending pods on {args.nodes} hollow nodes, first to last binding; "
          f"startup_s: process start to first binding (lists {args.nodes} nodes + {args.pods} pods)")
    print(f"bind_p*_s / steady_*: {args.latency_pods} pods created by {args.clients} clients while it runs, "
          f"create acknowledged to binding seen by a watch")
    print("cycle_ms: one scheduling cycle (filter, score, assume) in process, CPU time, same nodes and pods")
    print(f"baseline: {args.baseline_binds} raw Bind calls (64 concurrent, no scheduling, 2 pod watches) "
          "on the same apiserver; "
          f"{os.cpu_count()} cpus, Python {platform.python_version()}; kube-scheduler's CI floor here: 270 pods/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
