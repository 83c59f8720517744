"""Benchmark: pods on claims against the same pods on emptyDir, on one real node.

A real etcd, apiserver, containerd (in its own network namespace) and skiff-agent, the scheduler and
the storage controllers (binder, protection, the local-path provisioner) in this process. For each of N
rounds, one after another: a 64Mi claim of the default WaitForFirstConsumer class `local-path` is
created with a pod using it, timed from the claim's creation until the claim is Bound and the pod
Running (the scheduler picks the node, the provisioner makes the volume there, the binder binds it,
the agent makes and mounts its ext4 image); then the same pod with an emptyDir volume, timed from its
creation until Running. Interleaving the two keeps load from elsewhere on the machine fair to both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from podstart import RunningWatch, pct  # noqa: E402

from control.client.client import Client  # noqa: E402
from control.client.convert import from_dict  # noqa: E402
from control.client.kubeconfig import load_client_config  # noqa: E402
from control.scheduler.scheduler import Scheduler  # noqa: E402
from tests.fixtures.agent import agent_node  # noqa: E402
from tests.fixtures.apiserver import start_apiserver  # noqa: E402
from tests.fixtures.containerd import (  # noqa: E402
    unmount_under,
)
from tests.fixtures.controllers import running_controllers  # noqa: E402
from tests.fixtures.etcd import start_etcd  # noqa: E402
from tests.fixtures.images import BUSYBOX  # noqa: E402
from tests.fixtures.pki import session_pki, use_session_admin  # noqa: E402
from tests.fixtures.procs import eventually  # noqa: E402

NODE = "bench-storage"
LABEL = "bench=storage"
CONTROLLERS = ["persistentvolume-binder", "pv-protection", "pvc-protection", "local-path-provisioner"]


def claim(name: str):
    return from_dict({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": name, "namespace": "default"},
                      "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}})


def pod(name: str, volume: dict):
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default", "labels": {"bench": "storage"}},
                      "spec": {"terminationGracePeriodSeconds": 0, "volumes": [{"name": "data", **volume}],
                               "containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"],
                                               "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}})


async def on_claim(client: Client, watch: RunningWatch, name: str) -> float:
    t0 = time.perf_counter()
    await client.create(claim(name))
    await client.create(pod(name, {"persistentVolumeClaim": {"claimName": name}}))
    running = await watch.wait(name, timeout=120)
    # The agent mounts a claim only once it is Bound, so Running comes last; checked, not assumed.
    if (await client.get("PersistentVolumeClaim", name, "default")).status.phase != "Bound":
        raise RuntimeError(f"pod {name} Running on a claim that is not Bound")
    return running - t0


async def on_empty_dir(client: Client, watch: RunningWatch, name: str) -> float:
    t0 = time.perf_counter()
    await client.create(pod(name, {"emptyDir": {}}))
    return await watch.wait(name, timeout=120) - t0


async def measure(target: str, n: int, storage_root: str) -> dict:
    client = Client(target)
    scheduler_client = Client(target, config=load_client_config(session_pki().scheduler_config))
    watch = RunningWatch(client, LABEL)
    watch.start()
    scheduler = asyncio.create_task(Scheduler(scheduler_client, bind_timeout=60).run())
    try:
        async with running_controllers(target, CONTROLLERS, {"local_path_root": storage_root}):
            async def ready() -> bool:
                node = await client.get("Node", NODE)
                return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
            await eventually(ready, timeout=60, what="node Ready")
            await on_empty_dir(client, watch, "warmup-empty")
            await on_claim(client, watch, "warmup-claim")
            claims, empty = [], []
            for i in range(n):
                claims.append(await on_claim(client, watch, f"claim-{i}"))
                empty.append(await on_empty_dir(client, watch, f"empty-{i}"))
            return {"claims": claims, "empty": empty}
    finally:
        scheduler.cancel()
        if watch.task is not None:
            watch.task.cancel()
        await asyncio.gather(scheduler, return_exceptions=True)
        await scheduler_client.close()
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=50)
    args = parser.parse_args()
    use_session_admin()
    etcd = start_etcd()
    apiserver = start_apiserver(etcd)
    root = tempfile.mkdtemp(prefix="skiff-bench-storage-")
    try:
        with agent_node(apiserver, "skbstor", "10.126.0.0/24", node_name=NODE, log_level="WARNING", fast=False,
                        show_log=False):
            result = asyncio.run(measure(apiserver.target, args.claims, os.path.join(root, "storage")))
    finally:
        apiserver.stop()
        etcd.stop()
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)
    report(result, args.claims)


def report(result: dict, n: int) -> None:
    claims, empty = result["claims"], result["empty"]
    memory = psutil.virtual_memory().total >> 30
    print(f"storage: {n} pods on WaitForFirstConsumer local-path claims against {n} on emptyDir, one node "
          f"({platform.node()} {platform.machine()} {psutil.cpu_count()} cpus {memory} GiB)")
    print(f"{'measure':<52} {'p50 s':>8} {'p99 s':>8} {'mean s':>8}")
    for label, values in (("claim created -> Bound and its pod Running", claims),
                          ("emptyDir pod created -> Running (baseline)", empty)):
        print(f"{label:<52} {pct(values, 50):>8.3f} {pct(values, 99):>8.3f} {statistics.mean(values):>8.3f}")
    print(json.dumps({"pvc_p50_s": round(pct(claims, 50), 3), "pvc_p99_s": round(pct(claims, 99), 3),
                      "emptydir_p99_s": round(pct(empty, 99), 3),
                      "ratio": round(pct(claims, 99) / pct(empty, 99), 3), "claims": n}))


if __name__ == "__main__":
    main()
