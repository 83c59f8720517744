"""Benchmark: HorizontalPodAutoscaler scale-up latency and the resource metrics collector's cost.

Scale-up: a real etcd, apiserver (scraping every --resolution s), containerd in its own network
namespace, one skiff-agent and the deployment, replicaset and HPA controllers (sync every --sync s).
Each round creates a Deployment of one pod spinning a busy loop (limit 200m, request 100m) and an
autoscaler (cpu 50 %, max 3), and times from the autoscaler's creation until the Deployment's
spec.replicas grows. Same-run baseline: from the same moment until the pod first appears in the
resource metrics API, the part of the wait that is the metrics pipeline (two scrapes) and not the
autoscaler.

Collector cost: a stand-in agent (in this process) answers Stats with --pods pods of one container;
the apiserver's CPU time (psutil) over --cost-seconds with the collector scraping every second,
minus the same apiserver's CPU time over the same span with the collector off (the same-run
baseline), per scrape and per 100 pods.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import grpc
import psutil

from control.client.client import Client
from control.client.convert import from_dict
from skiff.v1 import node_agent_pb2, node_agent_pb2_grpc
from tests.fixtures.agent import agent_node
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.controllers import running_controllers
from tests.fixtures.etcd import start_etcd
from tests.fixtures.images import BUSYBOX
from tests.fixtures.pki import session_pki, use_session_admin
from tests.fixtures.procs import eventually, free_port


def busy(name: str, node: str):
    container = {"name": "spin", "image": BUSYBOX, "command": ["/bin/sh", "-c", "while :; do :; done"],
                 "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}}}
    return from_dict({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
                      "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                               "template": {"metadata": {"labels": {"app": name}},
                                            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0,
                                                     "containers": [container]}}}})


def autoscaler(name: str):
    return from_dict({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                      "metadata": {"name": name, "namespace": "default"},
                      "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                               "minReplicas": 1, "maxReplicas": 3, "metrics": [{"type": "Resource", "resource": {
                                   "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}})


async def one_round(client: Client, node: str, i: int) -> tuple[float, float]:
    name = f"spin-{i}"
    await client.create(busy(name, node))

    async def running() -> bool:
        pods, _ = await client.list_all("Pod", "default", label_selector=f"app={name}")
        return any(p.status.phase == "Running" for p in pods)
    await eventually(running, timeout=60, interval=0.2, what=f"{name} running")
    start = time.perf_counter()
    await client.create(autoscaler(name))
    measured = scaled = 0.0
    while not scaled:
        now = time.perf_counter() - start
        if not measured and await client.list_pod_metrics("default", f"app={name}"):
            measured = now
        if (await client.get("Deployment", name, "default")).spec.replicas > 1:
            scaled = now
        if now > 300:
            raise TimeoutError(f"{name} not scaled up in 300 s")
        await asyncio.sleep(0.1)
    await client.delete("HorizontalPodAutoscaler", name, "default")
    await client.delete("Deployment", name, "default")
    return scaled, measured or scaled


async def scale_up(args, etcd) -> tuple[list[float], list[float]]:
    apiserver = start_apiserver(etcd, ["--metric-resolution", f"{args.resolution}s"])
    client = Client(apiserver.target)
    try:
        with agent_node(apiserver, "skbhpa", "10.126.0.0/24", show_log=False) as node:
            options = {"horizontal_pod_autoscaler_sync_period": args.sync}
            async with running_controllers(apiserver.target, ["deployment", "replicaset",
                                                               "horizontalpodautoscaling"], options):
                results = [await one_round(client, node.agent.node_name, i) for i in range(args.rounds)]
            return [r[0] for r in results], [r[1] for r in results]
    finally:
        await client.close()
        apiserver.stop()


class StandIn(node_agent_pb2_grpc.NodeAgentServicer):
    def __init__(self, pods: int) -> None:
        self.pods = pods

    async def Stats(self, request, context):  # noqa: N802 - gRPC method name
        now = time.time_ns()
        summary = node_agent_pb2.StatsSummary(node_name=request.name, cpu_usage_core_nano_seconds=now // 4,
                                              cpu_timestamp_ns=now, memory_working_set_bytes=2**30)
        for i in range(self.pods):
            p = summary.pods.add(namespace="default", name=f"p{i}")
            p.containers.add(name="c", id=f"c{i}", cpu_usage_core_nano_seconds=now // 100, cpu_timestamp_ns=now,
                             memory_working_set_bytes=2**20)
        return summary


async def collector_cost(args, etcd) -> tuple[float, float, int]:
    """(collector CPU ms per scrape, idle CPU ms over the span, scrapes)."""
    pki = session_pki()
    node = "bench-hpa-standin"
    pki.node_config(node)
    key, cert, ca = (Path(pki.file(f)).read_bytes() for f in (f"node-{node}.key", f"node-{node}.crt", "ca.crt"))
    server = grpc.aio.server()
    node_agent_pb2_grpc.add_NodeAgentServicer_to_server(StandIn(args.pods), server)
    port = free_port()
    server.add_secure_port(f"127.0.0.1:{port}",
                           grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True))
    await server.start()
    spans = {}
    try:
        for resolution in ("0", "1s"):
            apiserver = start_apiserver(etcd, ["--metric-resolution", resolution])
            client = Client(apiserver.target)
            try:
                if resolution != "0":
                    n = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}})
                    await client.create(n)
                    n = await client.get("Node", node)
                    n.status.addresses.add(type="InternalIP", address="127.0.0.1")
                    n.status.daemon_endpoints.kubelet_endpoint.port = port
                    await client.update_status(n)
                await asyncio.sleep(2)
                proc = psutil.Process(apiserver.proc.pid)
                before = proc.cpu_times()
                await asyncio.sleep(args.cost_seconds)
                after = proc.cpu_times()
                spans[resolution] = (after.user + after.system - before.user - before.system) * 1000
                if resolution != "0":
                    await client.delete("Node", node)
            finally:
                await client.close()
                apiserver.stop()
    finally:
        await server.stop(None)
    scrapes = int(args.cost_seconds)
    return (spans["1s"] - spans["0"]) / scrapes, spans["0"], scrapes


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--resolution", type=float, default=15.0, help="the apiserver's --metric-resolution (s)")
    p.add_argument("--sync", type=float, default=15.0, help="the autoscaler's sync period (s)")
    p.add_argument("--pods", type=int, default=500, help="pods the stand-in agent reports, for the collector cost")
    p.add_argument("--cost-seconds", type=float, default=20.0)
    args = p.parse_args()
    if os.geteuid() != 0 or not shutil.which("containerd"):
        print("hpa: needs root and containerd", file=sys.stderr)
        return 2
    use_session_admin()
    etcd = start_etcd()
    try:
        scaled, measured = await scale_up(args, etcd)
        per_scrape, idle, scrapes = await collector_cost(args, etcd)
    finally:
        etcd.stop()
    per_100 = per_scrape / (args.pods / 100)
    print(f"hpa: {args.rounds} rounds, metric resolution {args.resolution:g} s, sync period {args.sync:g} s, "
          f"load {os.getloadavg()[0]:.1f}")
    print(f"{'measure':<56} {'p50 s':>8} {'max s':>8}")
    print(f"{'autoscaler created -> Deployment scaled up':<56} {statistics.median(scaled):>8.2f} {max(scaled):>8.2f}")
    print(f"{'baseline: autoscaler created -> pod in metrics API':<56} {statistics.median(measured):>8.2f} "
          f"{max(measured):>8.2f}")
    print(f"collector: {per_scrape:.1f} ms of apiserver CPU per scrape of {args.pods} pods "
          f"({per_100:.2f} ms per 100 pods; {scrapes} scrapes; idle apiserver {idle:.0f} ms over the span)")
    print(json.dumps({"scale_up_p50_s": round(statistics.median(scaled), 2), "scale_up_max_s": round(max(scaled), 2),
                      "baseline_metrics_visible_p50_s": round(statistics.median(measured), 2),
                      "metrics_cpu_ms_per_100_pods": round(per_100, 3),
                      "resolution_s": args.resolution, "sync_period_s": args.sync}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
