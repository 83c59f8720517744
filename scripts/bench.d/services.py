"""Benchmark: the service proxy's nftables programming, against one raw `nft -f`.

In a network namespace of its own:
1. initial sync: 10,000 Services x 10 endpoints handed to a fresh ServiceProxy,
   timed from nothing until its one atomic transaction is committed
   (rendering + diffing + nft) — `initial_sync_s`;
2. baseline: the very same ruleset text loaded with one `nft -f` into an empty
   namespace — `nft_baseline_s` (what nft and the kernel cost alone);
3. change latency: with those 10,000 Services programmed, Endpoints objects are
   updated through a real apiserver (real etcd); latency runs from the start of
   the Update call until the proxy's incremental transaction holding that change
   has been committed by nft (the rule is live) — p50/p99 over --changes updates.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from control.client.client import Client  # noqa: E402
from control.client.informer import Informer  # noqa: E402
from node.network.nftables import Nft, NodeConfig, full_transaction  # noqa: E402
from node.network.proxy import ServiceProxy  # noqa: E402
from skiff.v1 import core_pb2, meta_pb2  # noqa: E402
from tests.fixtures.apiserver import start_apiserver  # noqa: E402
from tests.fixtures.etcd import start_etcd
from tests.fixtures.pki import use_session_admin  # noqa: E402

SERVICE_NET = ipaddress.ip_network("10.96.0.0/12")
POD_NET = ipaddress.ip_network("10.244.0.0/16")


def service(i: int, namespace: str = "bench", ip: str | None = None) -> core_pb2.Service:
    svc = core_pb2.Service(api_version="v1", kind="Service",
                           metadata=meta_pb2.ObjectMeta(name=f"svc-{i}", namespace=namespace))
    if ip is not None:
        svc.spec.cluster_ip = ip
    svc.spec.type = "ClusterIP"
    svc.spec.ports.add(name="http", protocol="TCP", port=80)
    return svc


def endpoints(i: int, n: int, namespace: str = "bench", shift: int = 0) -> core_pb2.Endpoints:
    eps = core_pb2.Endpoints(api_version="v1", kind="Endpoints",
                             metadata=meta_pb2.ObjectMeta(name=f"svc-{i}", namespace=namespace))
    subset = eps.subsets.add()
    for e in range(n):
        subset.addresses.add(ip=str(POD_NET.network_address + 1 + (i * n + e + shift) % 65000))
    subset.ports.add(name="http", port=8080, protocol="TCP")
    return eps


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


class Netns:
    def __init__(self) -> None:
        self.name = f"skbench-{uuid.uuid4().hex[:8]}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], check=False)


def objects(services: int, per_service: int) -> list[tuple[core_pb2.Service, core_pb2.Endpoints]]:
    return [(service(i, ip=str(SERVICE_NET.network_address + 100 + i)), endpoints(i, per_service))
            for i in range(services)]


def load_proxy(proxy: ServiceProxy, objs: list[tuple[core_pb2.Service, core_pb2.Endpoints]]) -> None:
    for svc, eps in objs:
        proxy.on_service(svc)
        proxy.on_endpoints(eps)


class Clock:
    """Wall time, and CPU time of this process plus its finished children (nft): on a shared,
    loaded machine the CPU figure is the steadier one."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, self._cpu() - self.cpu

    @staticmethod
    def _cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


async def initial_sync(netns: str, objs) -> tuple[Clock, ServiceProxy]:
    """From the objects being handed over (as informers would) to the table being live."""
    proxy = ServiceProxy(Nft(netns), NodeConfig())
    with Clock() as clock:
        load_proxy(proxy, objs)
        await proxy.sync()
    return clock, proxy


async def nft_baseline(objs) -> Clock:
    """The same ruleset text, prepared beforehand, loaded into an empty namespace by one nft -f."""
    ns = Netns()
    try:
        proxy = ServiceProxy(Nft(ns.name), NodeConfig())
        load_proxy(proxy, objs)
        text = full_transaction(proxy.config, [proxy._render(key) for key in proxy.services])
        with Clock() as clock:
            await proxy.nft.apply(text)
        return clock
    finally:
        ns.delete()


async def change_latencies(proxy: ServiceProxy, changes: int, per_service: int, watched: int) -> list[float]:
    etcd = start_etcd()
    api = start_apiserver(etcd)
    try:
        async with Client(api.target) as client:
            for i in range(watched):
                await client.create(service(i, namespace="default"))
                await client.create(endpoints(i, per_service, namespace="default"))
            informers = [Informer(client, "Service", namespace="default"),
                         Informer(client, "Endpoints", namespace="default")]
            informers[0].add_handler(proxy.on_service, proxy.on_service, proxy.on_service_deleted)
            informers[1].add_handler(proxy.on_endpoints, proxy.on_endpoints, proxy.on_endpoints_deleted)
            tasks = [asyncio.create_task(inf.run()) for inf in informers]
            runner = asyncio.create_task(proxy.run())
            try:
                for inf in informers:
                    await inf.wait_synced()
                await asyncio.wait_for(proxy.synced.wait(), 60)  # handlers have marked keys dirty
                return await _measure(client, proxy, changes, per_service, watched)
            finally:
                for t in (*tasks, runner):
                    t.cancel()
                await asyncio.gather(*tasks, runner, return_exceptions=True)
    finally:
        api.stop()
        etcd.stop()


async def _measure(client: Client, proxy: ServiceProxy, changes: int, per_service: int,
                   watched: int) -> list[float]:
    applied: asyncio.Queue[set[str]] = asyncio.Queue()
    proxy.on_synced = applied.put_nowait
    latencies = []
    for n in range(changes):
        i = n % watched
        key = f"default/svc-{i}"
        current = await client.get("Endpoints", f"svc-{i}", "default")
        desired = endpoints(i, per_service, namespace="default", shift=n + 1)
        desired.metadata.resource_version = current.metadata.resource_version
        start = time.perf_counter()
        await client.update(desired)
        while key not in await applied.get():
            pass
        latencies.append(time.perf_counter() - start)
    proxy.on_synced = None
    return latencies


def machine() -> str:
    model = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} x {model}, kernel {platform.release()}"


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--services", type=int, default=10000)
    p.add_argument("--endpoints", type=int, default=10)
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--watched", type=int, default=10, help="Services whose Endpoints are updated")
    args = p.parse_args()
    use_session_admin()
    load_before = os.getloadavg()[0]
    ns = Netns()
    try:
        objs = objects(args.services, args.endpoints)
        sync, proxy = await initial_sync(ns.name, objs)
        baseline = await nft_baseline(objs)
        lat = await change_latencies(proxy, args.changes, args.endpoints, args.watched)
    finally:
        ns.delete()
    result = {
        "services": args.services, "endpoints_per_service": args.endpoints, "changes": len(lat),
        "initial_sync_s": round(sync.wall, 3), "nft_baseline_s": round(baseline.wall, 3),
        "initial_sync_vs_baseline": round(sync.wall / baseline.wall, 2),
        "initial_sync_cpu_s": round(sync.cpu, 3), "nft_baseline_cpu_s": round(baseline.cpu, 3),
        "change_p50_ms": round(pct(lat, 50) * 1000, 1), "change_p99_ms": round(pct(lat, 99) * 1000, 1),
        "change_mean_ms": round(statistics.mean(lat) * 1000, 1), "machine": machine(),
        "loadavg_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    print(f"services benchmark on {result['machine']} (1-min load average before/after: "
          f"{result['loadavg_1m'][0]}/{result['loadavg_1m'][1]})")
    print(f"{'figure':<34}{'value':>12}")
    rows = [("Services x endpoints", f"{args.services} x {args.endpoints}"),
            ("initial sync (proxy), s", result["initial_sync_s"]),
            ("same ruleset, one raw nft -f, s", result["nft_baseline_s"]),
            ("ratio proxy / raw nft", result["initial_sync_vs_baseline"]),
            ("initial sync CPU (incl. nft), s", result["initial_sync_cpu_s"]),
            ("raw nft -f CPU, s", result["nft_baseline_cpu_s"]),
            ("Endpoints change -> live, p50 ms", result["change_p50_ms"]),
            ("Endpoints change -> live, p99 ms", result["change_p99_ms"])]
    for name, value in rows:
        print(f"{name:<34}{value!s:>12}")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
