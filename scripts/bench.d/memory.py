"""Benchmark: resident memory of the control plane (apiserver + scheduler + controller manager) holding
1,000 pods on 100 hollow nodes, and what each further 1,000 pods add.

The production topology: etcd, skiff-apiserver with its default --workers (every worker process counted),
skiff-scheduler and skiff-controller-manager (every controller) as their own processes, TLS and RBAC on.
Hollow nodes are Node objects kept Ready by the bench itself (it renews each node's Lease every 10 s, as
a kubelet does); there are no agents. The pods come from a Deployment (the controller manager makes
them) and the scheduler binds them; RSS is read once every pod is bound and the processes settled.
Same-run baseline: the same processes with the nodes and no pods. The project's bytecode is compiled
first, as scripts/install-deps leaves it (a process compiling its modules at start would be measured
with the compiler's leftovers).
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
from google.protobuf.timestamp_pb2 import Timestamp

from control.client.client import Client
from control.client.convert import from_dict
from control.client.kinds import KINDS
from control.scheduler.testing import make_node
from skiff.v1 import coordination_pb2, meta_pb2
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd
from tests.fixtures.pki import session_pki, use_session_admin
from tests.fixtures.procs import stop

NODE_LEASE_NAMESPACE = "kube-node-lease"


def spawn(module: str, config: str, target: str, log_path: str, extra: list[str] = ()) -> subprocess.Popen:
    # No metrics port (the defaults may be taken on a shared machine); one process of each, so no
    # leader election, which a heavily loaded machine can make a component lose (it then exits).
    return subprocess.Popen([sys.executable, "-m", module, "--kubeconfig", config, "--apiserver", target,
                             "-v", "0", "--metrics-bind-address", "0", "--leader-elect=false", *extra],
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


def memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS of a process and its children (the apiserver's workers), in MiB. PSS counts a page
    shared by n processes (the Python runtime, gRPC's and OpenSSL's libraries) as 1/n in each."""
    proc = psutil.Process(pid)
    infos = [p.memory_full_info() for p in [proc, *proc.children(recursive=True)]]
    return sum(i.rss for i in infos) / 2**20, sum(i.pss for i in infos) / 2**20


async def heartbeat(client: Client, nodes: int) -> None:
    """Renews every hollow node's Lease every 10 s, as each node's kubelet would."""
    lease_kind = KINDS["Lease"]
    while True:
        now = Timestamp()
        now.GetCurrentTime()
        for i in range(nodes):
            name = f"hollow-{i:03}"
            lease = lease_kind.new(metadata=meta_pb2.ObjectMeta(name=name, namespace=NODE_LEASE_NAMESPACE),
                                   spec=coordination_pb2.LeaseSpec(holder_identity=name, lease_duration_seconds=40,
                                                                   renew_time=now))
            try:
                current = await client.get("Lease", name, NODE_LEASE_NAMESPACE)
                current.spec.renew_time.CopyFrom(now)
                await client.update(current)
            except Exception:  # noqa: BLE001 - first beat: create it
                await client.create(lease)
        await asyncio.sleep(10)


def deployment(replicas: int):
    return from_dict({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "mem", "namespace": "bench"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "mem"}},
                 "template": {"metadata": {"labels": {"app": "mem"}},
                              "spec": {"containers": [{"name": "c", "image": "busybox",
                                                       "resources": {"requests": {"cpu": "10m",
                                                                                  "memory": "16Mi"}}}]}}}})


async def bound_pods(client: Client) -> int:
    items, _ = await client.list_all("Pod", "bench")
    return sum(1 for p in items if p.spec.node_name)


def check_running(procs: dict[str, subprocess.Popen], workdir: str) -> None:
    for name, proc in procs.items():
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited ({proc.returncode}); see {workdir}/{name}.log")


async def scale_and_wait(client: Client, replicas: int, timeout: float, alive) -> float:
    started = time.monotonic()
    d = await client.get("Deployment", "mem", "bench")
    d.spec.replicas = replicas
    await client.update(d)
    while (bound := await bound_pods(client)) < replicas:
        alive()
        if time.monotonic() - started > timeout:
            raise SystemExit(f"only {bound}/{replicas} pods bound within {timeout}s")
        await asyncio.sleep(1)
    return time.monotonic() - started


async def settled(pids: dict[str, int], seconds: float) -> dict[str, tuple[float, float]]:
    """RSS and PSS of each component after `seconds` of quiet (the work queues drain, caches fill)."""
    await asyncio.sleep(seconds)
    return {name: memory_mb(pid) for name, pid in pids.items()}


async def run(args: argparse.Namespace, target: str, pids: dict[str, int], alive) -> list[tuple[int, dict, float]]:
    async with Client(target) as client:
        await client.create(KINDS["Namespace"].new(metadata=meta_pb2.ObjectMeta(name="bench")))
        for i in range(args.nodes):
            await client.create(make_node(f"hollow-{i:03}", cpu="32", memory="256Gi", pods="250"))
        beats = asyncio.create_task(heartbeat(client, args.nodes))
        try:
            await client.create(deployment(0))
            rows = [(0, await settled(pids, args.settle), 0.0)]
            for step in range(1, args.steps + 1):
                replicas = step * args.pods
                took = await scale_and_wait(client, replicas, args.timeout, alive)
                rows.append((replicas, await settled(pids, args.settle), took))
            return rows
        finally:
            beats.cancel()
            await asyncio.gather(beats, return_exceptions=True)


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--nodes", type=int, default=100)
    p.add_argument("--pods", type=int, default=1000, help="pods per step")
    p.add_argument("--steps", type=int, default=3, help="steps of --pods pods (the first gives rss_mb_1k_pods)")
    p.add_argument("--settle", type=float, default=10, help="seconds of quiet before each reading")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="apiserver worker processes (production default: the number of cores)")
    args = p.parse_args()
    use_session_admin()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0",
                    *(os.path.join(root, d) for d in ("control", "skiff", "cri", "node"))],
                   check=True, stdout=subprocess.DEVNULL)
    workdir = tempfile.mkdtemp(prefix="skiff-bench-memory-")
    workers = args.workers
    etcd = start_etcd()
    server = start_apiserver(etcd, ["--workers", str(workers)])
    pki = session_pki()
    procs = {"scheduler": spawn("control.scheduler.main", pki.scheduler_config, server.target,
                                os.path.join(workdir, "scheduler.log")),
             "controller-manager": spawn("control.controllers.main", pki.controller_manager_config, server.target,
                                         os.path.join(workdir, "controller-manager.log"))}
    pids = {"apiserver": server.proc.pid, **{k: v.pid for k, v in procs.items()}}
    try:
        rows = await run(args, server.target, pids, lambda: check_running(procs, workdir))
    finally:
        for proc in procs.values():
            stop(proc)
        server.stop()
        etcd.stop()
    report(args, workers, rows)


def report(args: argparse.Namespace, workers: int, rows: list[tuple[int, dict, float]]) -> None:
    default = os.cpu_count() or 1
    shape = "production topology" if workers == default else f"NOT the production topology (--workers {default})"
    print(f"{shape}: skiff-apiserver --workers {workers} (the default: one per core), "
          f"skiff-scheduler, skiff-controller-manager; {args.nodes} hollow nodes")
    names = list(rows[0][1])
    print(f"{'pods':>6} " + " ".join(f"{n + ' RSS MiB':>22}" for n in names) + f" {'total MiB':>10} {'bound in s':>11}")
    for pods, mem, took in rows:
        print(f"{pods:>6} " + " ".join(f"{mem[n][0]:>22.1f}" for n in names) +
              f" {sum(m[0] for m in mem.values()):>10.1f} {took:>11.1f}   (PSS total "
              f"{sum(m[1] for m in mem.values()):.1f})")
    rss = [sum(m[0] for m in r[1].values()) for r in rows]
    pss = [sum(m[1] for m in r[1].values()) for r in rows]

    def per_step(totals: list[float]) -> float:
        return (totals[-1] - totals[1]) / (len(totals) - 2) * 1000 / args.pods if len(totals) > 2 else 0.0
    figures = {"rss_mb_1k_pods": round(rss[1], 1), "rss_mb_per_1k_more": round(per_step(rss), 1),
               "rss_mb_no_pods": round(rss[0], 1), "pss_mb_1k_pods": round(pss[1], 1),
               "pss_mb_per_1k_more": round(per_step(pss), 1), "apiserver_workers": workers,
               **{f"rss_mb_1k_pods_{n.replace('-', '_')}": round(rows[1][1][n][0], 1) for n in names},
               "machine": f"{platform.machine()} {os.cpu_count()} cpu, load {os.getloadavg()[0]:.1f}",
               "goal_rss_mb_1k_pods": 250}
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
