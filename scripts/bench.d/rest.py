"""Benchmark: the REST API against gRPC on one apiserver, in the same run.

Creates: N ConfigMaps through REST (JSON over HTTPS/1.1, one keep-alive connection per concurrent
client, as an HTTP/1.1 client needs) and N through gRPC (Skiff's client) with the same concurrency and
the same object; creates per second and p99 of each. Reads: 1,000 pods in one namespace, listed by the
machine's kubectl (`kubectl get pods`, a Table over REST) and by `skiffctl get pods` (gRPC), each run as
a fresh process, median of three runs. Every create connection is opened (TLS with a client certificate)
before the clock starts, for both protocols.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.etcd import start_etcd
from tests.fixtures.pki import SERVER_NAME, use_session_admin
from tests.fixtures.rest import kubectl_binary, start_rest_apiserver, write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]


def configmap(name: str, namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
                                                                  "labels": {"bench": "rest"}},
            "data": {"key": "v" * 64}}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def run_concurrently(n: int, workers: int, op) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker(w: int):
        for i in counter:
            t0 = time.perf_counter()
            await op(w, i)
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(workers)))
    return time.perf_counter() - start, latencies


class HttpsConnection:
    """One keep-alive HTTP/1.1 connection over TLS with a client certificate."""

    def __init__(self, port: int, ctx: ssl.SSLContext) -> None:
        self.port, self.ctx = port, ctx
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, ssl=self.ctx,
                                                                     server_hostname=SERVER_NAME)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {SERVER_NAME}\r\nContent-Type: application/json\r\n"
                f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def bench_rest_creates(port: int, pki, n: int, workers: int, namespace: str) -> tuple[float, list[float]]:
    ctx = ssl.create_default_context(cafile=pki.ca)
    ctx.load_cert_chain(pki.file("admin.crt"), pki.file("admin.key"))
    conns = [HttpsConnection(port, ctx) for _ in range(workers)]
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    await asyncio.gather(*(c.request("GET", path + "?limit=1") for c in conns))  # connected and authenticated

    async def create(w: int, i: int) -> None:
        status = await conns[w].request("POST", path, json.dumps(configmap(f"rest-{i}", namespace)).encode())
        if status != 201:
            raise SystemExit(f"REST create answered {status}")
    try:
        return await run_concurrently(n, workers, create)
    finally:
        for c in conns:
            c.close()


async def bench_grpc_creates(target: str, n: int, workers: int, namespace: str) -> tuple[float, list[float]]:
    clients = [Client(target) for _ in range(4)]
    template = from_dict(configmap("x", namespace))
    await asyncio.gather(*(c.list("cm", namespace) for c in clients))  # connected, as the REST connections

    async def create(_w: int, i: int) -> None:
        obj = template.__class__()
        obj.CopyFrom(template)
        obj.metadata.name = f"grpc-{i}"
        await clients[i % 4].create(obj)
    try:
        return await run_concurrently(n, workers, create)
    finally:
        for c in clients:
            await c.close()


async def make_pods(target: str, count: int, namespace: str) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": namespace, "labels": {"bench": "rest"}},
           "spec": {"containers": [{"name": "c", "image": "busybox:1", "command": ["sleep", "3600"]}]}}
    clients = [Client(target) for _ in range(4)]

    async def create(_w: int, i: int) -> None:
        obj = from_dict({**pod, "metadata": {**pod["metadata"], "name": f"pod-{i:04d}"}})
        await clients[i % 4].create(obj)
    try:
        await run_concurrently(count, 32, create)
    finally:
        for c in clients:
            await c.close()


def timed_runs(cmd: list[str], env: dict[str, str], expect_lines: int, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        times.append(time.perf_counter() - t0)
        lines = len(result.stdout.splitlines())
        if result.returncode != 0 or lines != expect_lines:
            raise SystemExit(f"{' '.join(cmd[:3])} failed ({result.returncode}, {lines} lines): {result.stderr}")
    return statistics.median(times)


async def create_namespace(target: str, name: str) -> None:
    async with Client(target) as c:
        await c.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--creates", type=int, default=3000)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--pods", type=int, default=1000)
    p.add_argument("--workers", type=int, default=1, help="apiserver worker processes")
    args = p.parse_args()
    pki = use_session_admin()
    etcd = start_etcd()
    rest = start_rest_apiserver(etcd, ["--workers", str(args.workers)])
    target = rest.apiserver.target
    workdir = Path(tempfile.mkdtemp(prefix="skiff-bench-rest-"))
    try:
        for ns in ("rest", "grpc", "pods"):
            await create_namespace(target, ns)
        grpc_s, grpc_lat = await bench_grpc_creates(target, args.creates, args.clients, "grpc")
        rest_s, rest_lat = await bench_rest_creates(rest.port, pki, args.creates, args.clients, "rest")
        await make_pods(target, args.pods, "pods")
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", pki, rest.url, namespace="pods")
        kube_env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(workdir)}
        run_kubectl = [kubectl_binary(), "--cache-dir", str(workdir / "cache"), "get", "pods"]
        subprocess.run(run_kubectl, env=kube_env, capture_output=True, timeout=120)  # discovery cached first
        kubectl_s = timed_runs(run_kubectl, kube_env, args.pods + 1)
        skiff_env = {**os.environ, "SKIFFCONFIG": str(pki.write_config(workdir / "skiff", target, namespace="pods"))}
        skiffctl_s = timed_runs([sys.executable, "-m", "control.cli.main", "get", "pods"], skiff_env, args.pods + 1)
    finally:
        rest.apiserver.stop()
        etcd.stop()
    figures = {
        "rest_create_per_s": round(args.creates / rest_s, 1),
        "grpc_create_per_s": round(args.creates / grpc_s, 1),
        "ratio": round(grpc_s / rest_s, 3),
        "rest_p99_ms": round(pct(rest_lat, 99) * 1000, 2),
        "grpc_p99_ms": round(pct(grpc_lat, 99) * 1000, 2),
        "kubectl_get_1k_s": round(kubectl_s, 3),
        "skiffctl_get_1k_s": round(skiffctl_s, 3),
    }
    print(f"{'figure':<20}{'value':>12}")
    for k, v in figures.items():
        print(f"{k:<20}{v:>12}")
    print(f"({args.creates} creates each way, {args.clients} concurrent clients; {args.pods} pods listed; "
          f"apiserver with {args.workers} worker(s), the create clients in this process)")
    print(json.dumps(figures))


if __name__ == "__main__":
    os.chdir(ROOT)
    asyncio.run(main())
