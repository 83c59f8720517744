"""Benchmark: apiserver create throughput and latency against raw etcd puts, and watch fan-out latency.

5,000 ConfigMap creates from 64 concurrent clients through skiff-apiserver and, in
the same run, the same number of puts of the same bytes straight to etcd with the
same kind of client (aetcd over gRPC). Then 500 watchers on ConfigMaps in one
namespace (in a separate process) while 1,000 objects are updated at a steady
rate; latency is from the start of the write until the last watcher has it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import time

import aetcd

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd
from tests.fixtures.pki import use_session_admin


def configmap(name: str, namespace: str = "default", value: str = "v"):
    return from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": name, "namespace": namespace, "labels": {"bench": "api"}},
                      "data": {"key": value * 64}})


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def run_concurrently(n: int, workers: int, op) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker():
        for i in counter:
            t0 = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - start, latencies


async def bench_creates(target: str, n: int, workers: int) -> tuple[float, list[float]]:
    clients = [Client(target) for _ in range(4)]
    template = configmap("cm-x")

    def named(i: int):
        obj = template.__class__()
        obj.CopyFrom(template)
        obj.metadata.name = f"cm-{i}"
        return obj

    try:
        return await run_concurrently(n, workers, lambda i: clients[i % 4].create(named(i)))
    finally:
        for c in clients:
            await c.close()


async def bench_etcd_puts(port: int, n: int, workers: int) -> tuple[float, list[float]]:
    value = configmap("cm-x").SerializeToString()
    etcd = aetcd.Client(host="127.0.0.1", port=port)
    await etcd.connect()
    try:
        return await run_concurrently(n, workers, lambda i: etcd.put(f"/bench/configmaps/cm-{i}".encode(), value))
    finally:
        await etcd.close()


def watcher_process(target: str, namespace: str, watchers: int, expected: int, ready, out) -> None:
    asyncio.run(_watchers(target, namespace, watchers, expected, ready, out))


async def _watchers(target: str, namespace: str, watchers: int, expected: int, ready, out) -> None:
    from skiff.v1 import requests_pb2, services_pb2
    clients = [Client(target) for _ in range(8)]
    listing = await clients[0].list("cm", namespace)
    rv = listing.metadata.resource_version
    last_seen: dict[str, float] = {}
    counts: dict[str, int] = {}
    started = 0
    all_started = asyncio.Event()

    async def watch(i: int) -> None:
        nonlocal started
        stub = clients[i % len(clients)].stub("cm")
        call = stub.Watch(requests_pb2.WatchRequest(namespace=namespace, resource_version=rv))
        started += 1
        if started == watchers:
            all_started.set()
        got = 0
        async for event in call:
            if event.type != "MODIFIED":
                continue
            key = event.object.data["seq"]
            counts[key] = counts.get(key, 0) + 1
            if counts[key] == watchers:
                last_seen[key] = time.time()
            got += 1
            if got == expected:
                break
        call.cancel()

    tasks = [asyncio.create_task(watch(i)) for i in range(watchers)]
    await all_started.wait()
    await asyncio.sleep(1.0)  # let every stream be established on the server
    ready.set()
    await asyncio.wait(tasks, timeout=300)
    out.send(last_seen)
    del services_pb2


async def bench_watch(target: str, watchers: int, updates: int, rate: float) -> list[float]:
    namespace = "watchbench"
    async with Client(target) as c:
        await c.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}))
        objects = 50
        for i in range(objects):
            await c.create(configmap(f"w-{i}", namespace))
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=watcher_process, args=(target, namespace, watchers, updates, ready, child))
        proc.start()
        await asyncio.get_running_loop().run_in_executor(None, ready.wait)
        sent: dict[str, float] = {}
        period = 1.0 / rate
        next_at = time.perf_counter()
        for seq in range(updates):
            obj = configmap(f"w-{seq % objects}", namespace)
            obj.data["seq"] = str(seq)
            sent[str(seq)] = time.time()
            await c.update(obj)
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        last_seen = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        proc.join(30)
    missing = [k for k in sent if k not in last_seen]
    if missing:
        raise SystemExit(f"{len(missing)} updates never reached every watcher")
    return [last_seen[k] - sent[k] for k in sent]


def topology_line(workers: int) -> str:
    default = os.cpu_count() or 1
    shape = ("the production topology" if workers == default
             else f"NOT the production topology (that is --workers {default})")
    return (f"topology: {shape}: skiff-apiserver --workers {workers} (default: one per core) behind one "
            "address, TLS, client certificates, RBAC and audit on; one etcd member")


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--creates", type=int, default=5000)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--watchers", type=int, default=500)
    p.add_argument("--updates", type=int, default=1000)
    p.add_argument("--update-rate", type=float, default=50.0, help="updates per second during the watch phase")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="apiserver worker processes (production default: the number of cores)")
    args = p.parse_args()
    topology = topology_line(args.workers)
    print(topology, flush=True)
    use_session_admin()
    etcd = start_etcd()
    server = start_apiserver(etcd, ["--watcher-queue", "20000", "--workers", str(args.workers)])
    try:
        put_s, put_lat = await bench_etcd_puts(etcd.port, args.creates, args.clients)
        create_s, create_lat = await bench_creates(server.target, args.creates, args.clients)
        watch_lat = await bench_watch(server.target, args.watchers, args.updates, args.update_rate)
    finally:
        server.stop()
        etcd.stop()
    figures = {
        "create_per_s": round(args.creates / create_s, 1),
        "etcd_put_per_s": round(args.creates / put_s, 1),
        "ratio": round(put_s / create_s, 3),
        "create_p50_ms": round(statistics.median(create_lat) * 1000, 2),
        "create_p99_ms": round(pct(create_lat, 99) * 1000, 2),
        "etcd_put_p99_ms": round(pct(put_lat, 99) * 1000, 2),
        "watch_p50_ms": round(statistics.median(watch_lat) * 1000, 2),
        "watch_p99_ms": round(pct(watch_lat, 99) * 1000, 2),
        "workers": args.workers,
        "production_topology": args.workers == (os.cpu_count() or 1),
    }
    print(f"{'figure':<18}{'value':>12}")
    for k, v in figures.items():
        print(f"{k:<18}{v:>12}")
    print(f"({args.creates} creates, {args.clients} concurrent clients; {args.watchers} watchers, "
          f"{args.updates} updates at {args.update_rate}/s; apiserver with {args.workers} worker(s), "
          f"the clients in this process)")
    print(topology)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
