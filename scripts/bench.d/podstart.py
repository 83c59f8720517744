"""Benchmark: pod start latency through skiff-agent against raw CRI, on one node.

A real etcd, apiserver, containerd (in its own network namespace, with a CNI bridge) and a
skiff-agent process. 30 one-container busybox pods (image present), created one after
another; each is timed from Create until the agent reports phase Running (seen through a
watch). In the same run, the same pods through raw CRI (RunPodSandbox + CreateContainer +
StartContainer: scripts/bench.d/podstart_cri.py), interleaved one for one with the agent's
so that load from elsewhere on the machine hits both alike, are the baseline (the agent is
frozen while they run: it would remove them as orphans, as the kubelet does). A burst of
30 pods created at once is reported too, against 30 raw-CRI starts at once (no goal: it
measures queueing on the node).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from podstart_cri import raw_cri_start_times  # noqa: E402

from control.client.client import Client  # noqa: E402
from control.client.convert import from_dict  # noqa: E402
from node.cri import CRI  # noqa: E402
from tests.fixtures.agent import agent_node  # noqa: E402
from tests.fixtures.apiserver import start_apiserver  # noqa: E402
from tests.fixtures.etcd import start_etcd  # noqa: E402
from tests.fixtures.images import BUSYBOX  # noqa: E402
from tests.fixtures.pki import use_session_admin  # noqa: E402
from tests.fixtures.procs import eventually  # noqa: E402

NODE = "bench-node"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def pod(name: str):
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default", "labels": {"bench": "podstart"}},
                      "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 0,
                               "containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}]}})


class RunningWatch:
    """Records when each pod is first seen Running."""

    def __init__(self, client: Client, label_selector: str = "bench=podstart") -> None:
        self.client = client
        self.label_selector = label_selector
        self.running: dict[str, float] = {}
        self.events: dict[str, asyncio.Event] = {}
        self.task: asyncio.Task | None = None

    async def _run(self) -> None:
        async for event in self.client.watch("Pod", "default", label_selector=self.label_selector):
            p = event.object
            if p.status.phase == "Running" and p.metadata.name not in self.running:
                self.running[p.metadata.name] = time.perf_counter()
                self.events.setdefault(p.metadata.name, asyncio.Event()).set()

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def wait(self, name: str, timeout: float = 60) -> float:
        await asyncio.wait_for(self.events.setdefault(name, asyncio.Event()).wait(), timeout)
        return self.running[name]


async def start_pods(client: Client, watch: RunningWatch, names: list[str], burst: bool) -> list[float]:
    async def one(name: str) -> float:
        t0 = time.perf_counter()
        await client.create(pod(name))
        return await watch.wait(name) - t0
    if burst:
        return list(await asyncio.gather(*(one(n) for n in names)))
    return [await one(n) for n in names]


async def delete_all(client: Client, cri: CRI) -> None:
    items, _ = await client.list_all("Pod", "default", label_selector="bench=podstart")
    await asyncio.gather(*(client.delete("Pod", p.metadata.name, "default") for p in items))

    async def empty():
        left, _ = await client.list_all("Pod", "default", label_selector="bench=podstart")
        return not left and not await cri.list_pod_sandboxes({"io.kubernetes.pod.namespace": "default"})
    await eventually(empty, timeout=120, interval=0.2, what="bench pods deleted")


class Paused:
    """Freezes the agent (SIGSTOP) while raw CRI pods run: it would rightly remove them as orphans."""

    def __init__(self, agent: subprocess.Popen) -> None:
        self.agent = agent

    def __enter__(self) -> None:
        os.kill(self.agent.pid, signal.SIGSTOP)

    def __exit__(self, *exc: object) -> None:
        os.kill(self.agent.pid, signal.SIGCONT)


async def measure(apiserver_target: str, socket: str, n: int, agent: subprocess.Popen) -> dict:
    client, cri = Client(apiserver_target), CRI(socket)
    watch = RunningWatch(client)
    watch.start()
    try:
        async def node_ready():
            node = await client.get("Node", NODE)
            return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
        await eventually(node_ready, timeout=60, what="node Ready")
        await start_pods(client, watch, ["warmup"], burst=False)
        with Paused(agent):
            await raw_cri_start_times(cri, 1)
        sequential, raw = [], []
        for i in range(n):
            sequential += await start_pods(client, watch, [f"seq-{i}"], burst=False)
            with Paused(agent):
                raw += await raw_cri_start_times(cri, 1)
        await delete_all(client, cri)
        burst = await start_pods(client, watch, [f"burst-{i}" for i in range(n)], burst=True)
        await delete_all(client, cri)
        with Paused(agent):
            outcomes = await asyncio.gather(*(raw_cri_start_times(cri, 1) for _ in range(n)),
                                            return_exceptions=True)
        raw_burst = [t for ts in outcomes if isinstance(ts, list) for t in ts]
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        if failed:
            print(f"raw CRI burst: {len(failed)} of {n} starts failed, e.g. {failed[0]}", file=sys.stderr)
        return {"sequential": sequential, "raw": raw, "burst": burst, "raw_burst": raw_burst or [float("nan")]}
    finally:
        if watch.task is not None:
            watch.task.cancel()
        await cri.close()
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=30)
    args = parser.parse_args()
    use_session_admin()
    etcd = start_etcd()
    apiserver = start_apiserver(etcd)
    try:
        with agent_node(apiserver, "skbench", "10.125.0.0/24", node_name=NODE, log_level="WARNING", fast=False,
                        show_log=False) as node:
            result = asyncio.run(measure(apiserver.target, node.containerd.address, args.pods, node.agent.proc))
    finally:
        apiserver.stop()
        etcd.stop()
    report(result, args.pods)


def report(result: dict, n: int) -> None:
    seq, raw, burst, raw_burst = result["sequential"], result["raw"], result["burst"], result["raw_burst"]
    memory = psutil.virtual_memory().total >> 30
    machine = f"{platform.node()} {platform.machine()} {psutil.cpu_count()} cpus {memory} GiB"
    print(f"podstart: {n} pods on one node, image present ({machine})")
    print(f"{'measure':<40} {'p50 s':>8} {'p99 s':>8} {'mean s':>8}")
    rows = [("skiff-agent, create -> Running (one by one)", seq), ("raw CRI sandbox+create+start (one by one)", raw),
            (f"skiff-agent, burst of {n} created at once", burst), (f"raw CRI, burst of {n} at once", raw_burst)]
    for label, values in rows:
        print(f"{label:<40} {pct(values, 50):>8.3f} {pct(values, 99):>8.3f} {statistics.mean(values):>8.3f}")
    figures = {"p50_s": round(pct(seq, 50), 4), "p99_s": round(pct(seq, 99), 4),
               "cri_p50_s": round(pct(raw, 50), 4), "cri_p99_s": round(pct(raw, 99), 4),
               "ratio_to_cri": round(pct(seq, 99) / pct(raw, 99), 3),
               "burst_p50_s": round(pct(burst, 50), 4), "burst_p99_s": round(pct(burst, 99), 4),
               "cri_burst_p99_s": round(pct(raw_burst, 99), 4), "pods": n}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
