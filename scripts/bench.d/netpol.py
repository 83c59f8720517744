"""Benchmark: the NetworkPolicy enforcer's nftables programming, against one raw `nft -f`.

In a network namespace of its own:
1. initial sync: --policies NetworkPolicies over --pods pods, all on this node, in --namespaces
   namespaces, handed to a fresh enforcer (as its informers would) and timed from nothing until
   its one atomic transaction is committed (rendering + nft) — `initial_sync_s`;
2. baseline: the very same ruleset text loaded with one `nft -f` into an empty namespace —
   `nft_baseline_s` (what nft and the kernel cost alone);
3. change latency: with all of that enforced, NetworkPolicies are changed through a real
   apiserver (real etcd), each in turn updated twice (allowed port and peer selectors change),
   deleted and created again; latency runs from the start of the call until the enforcer's
   transaction holding that change has been committed (the rule is live) — p50/p99 over
   --changes changes; and the enforcer's own part, from its informer handing it the change to
   the transaction committed.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from google.protobuf import json_format  # noqa: E402
from services import Clock, Netns, machine, pct  # noqa: E402

from control.client.client import Client  # noqa: E402
from control.client.informer import Informer  # noqa: E402
from node.network.libnft import LibNft  # noqa: E402
from node.network.networkpolicy import PolicyEnforcer  # noqa: E402
from node.network.nftables import Nft  # noqa: E402
from node.network.policytable import full_transaction  # noqa: E402
from skiff.v1 import core_pb2, meta_pb2, networking_pb2, pod_pb2  # noqa: E402
from tests.fixtures.apiserver import start_apiserver  # noqa: E402
from tests.fixtures.etcd import start_etcd  # noqa: E402
from tests.fixtures.pki import use_session_admin  # noqa: E402

NODE = "bench-node"
POD_NET = ipaddress.ip_network("10.244.0.0/16")
APPS = 10  # distinct `app` labels per namespace


def namespace(i: int) -> core_pb2.Namespace:
    return core_pb2.Namespace(api_version="v1", kind="Namespace", metadata=meta_pb2.ObjectMeta(
        name=f"ns-{i}", labels={"kubernetes.io/metadata.name": f"ns-{i}", "team": f"team-{i % 4}"}))


def pod(i: int, namespaces: int) -> pod_pb2.Pod:
    return json_format.ParseDict({
        "metadata": {"name": f"pod-{i}", "namespace": f"ns-{i % namespaces}",
                     "labels": {"app": f"app-{i // namespaces % APPS}", "tier": f"tier-{i % 3}"}},
        "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "busybox", "ports": [
            {"name": "http", "containerPort": 8080 + i % 5}, {"name": "metrics", "containerPort": 9100}]}]},
        "status": {"phase": "Running", "podIP": str(POD_NET.network_address + 10 + i)}}, pod_pb2.Pod())


def policy_spec(i: int, port: int = 80) -> dict:
    """Every kind of peer and port, varied by i: pods by label, namespaces by label, both, ipBlock."""
    peers = [{"podSelector": {"matchLabels": {"app": f"app-{(i + 1) % APPS}"}}},
             {"namespaceSelector": {"matchLabels": {"team": f"team-{i % 4}"}},
              "podSelector": {"matchLabels": {"tier": f"tier-{i % 3}"}}},
             {"ipBlock": {"cidr": f"172.{16 + i % 16}.0.0/16", "except": [f"172.{16 + i % 16}.{i % 256}.0/24"]}}]
    spec = {"podSelector": {"matchLabels": {"app": f"app-{i % APPS}"}},
            "ingress": [{"from": peers, "ports": [{"port": port}, {"port": "http"},
                                                  {"protocol": "TCP", "port": 30000, "endPort": 30100}]},
                        {"from": [{"namespaceSelector": {"matchLabels": {"team": "team-0"}}}],
                         "ports": [{"port": "metrics"}]}]}
    if i % 2:
        spec["policyTypes"] = ["Ingress", "Egress"]
        spec["egress"] = [{"to": [{"podSelector": {}}]}, {"ports": [{"protocol": "UDP", "port": 53}]}]
    return spec


def policy(i: int, namespaces: int, port: int = 80) -> networking_pb2.NetworkPolicy:
    return json_format.ParseDict({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                  "metadata": {"name": f"np-{i}", "namespace": f"ns-{i % namespaces}"},
                                  "spec": policy_spec(i, port)}, networking_pb2.NetworkPolicy())


def objects(args) -> list[tuple[str, object]]:
    """The objects, decoded beforehand (as informers hand them over), with the handler for each."""
    return ([("namespace", namespace(i)) for i in range(args.namespaces)]
            + [("pod", pod(i, args.namespaces)) for i in range(args.pods)]
            + [("policy", policy(i, args.namespaces)) for i in range(args.policies)])


def load(enforcer: PolicyEnforcer, objs) -> None:
    handlers = {"namespace": enforcer.on_namespace, "pod": enforcer.on_pod, "policy": enforcer.on_policy}
    for kind, obj in objs:
        handlers[kind](obj)


async def initial_sync(netns: str, args) -> tuple[Clock, PolicyEnforcer]:
    enforcer = PolicyEnforcer(LibNft(netns) if args.nft == "lib" else Nft(netns), NODE)
    objs = objects(args)
    with Clock() as clock:
        load(enforcer, objs)
        await enforcer.sync()
    return clock, enforcer


async def nft_baseline(enforcer: PolicyEnforcer) -> Clock:
    ns = Netns()
    try:
        text = full_transaction(enforcer.state)
        with Clock() as clock:
            await Nft(ns.name).apply(text)
        return clock
    finally:
        ns.delete()


async def change_latencies(enforcer: PolicyEnforcer, args) -> tuple[list[float], list[float]]:
    etcd = start_etcd()
    api = start_apiserver(etcd)
    try:
        async with Client(api.target) as client:
            await client.create(namespace(0))
            watched = [policy(i * args.namespaces, args.namespaces) for i in range(args.watched)]  # in ns-0
            for np in watched:
                enforcer.on_policy_deleted(np)  # from now on they come from the apiserver
                await client.create(np)
            informer = Informer(client, "NetworkPolicy", namespace="ns-0")
            informer.add_handler(enforcer.on_policy, enforcer.on_policy, enforcer.on_policy_deleted)
            task = asyncio.create_task(informer.run())
            runner = asyncio.create_task(enforcer.run())
            try:
                await informer.wait_synced()
                await asyncio.wait_for(enforcer.synced.wait(), 60)
                return await _measure(client, enforcer, informer, args)
            finally:
                for t in (task, runner):
                    t.cancel()
                await asyncio.gather(task, runner, return_exceptions=True)
    finally:
        api.stop()
        etcd.stop()


OPS = ("update", "update", "delete", "create")  # each watched policy in turn goes through these


async def _change(client: Client, op: str, i: int, n: int, args) -> Callable[[PolicyEnforcer, Informer], bool]:
    """Makes one change; returns the condition under which the enforcer has it."""
    name, key = f"np-{i}", f"ns-0/np-{i}"
    if op == "delete":
        await client.delete("NetworkPolicy", name, "ns-0")
        return lambda enforcer, _informer: key not in enforcer.state.policies
    desired = policy(i + n + 1, args.namespaces, port=81 + n % 1000)
    desired.metadata.name, desired.metadata.namespace = name, "ns-0"
    if op == "create":
        await client.create(desired)
        return lambda enforcer, _informer: key in enforcer.state.policies
    current = await client.get("NetworkPolicy", name, "ns-0")
    desired.metadata.resource_version = current.metadata.resource_version
    rv = int((await client.update(desired)).metadata.resource_version)
    return lambda _enforcer, informer: int(informer.resource_version or 0) >= rv


async def _measure(client: Client, enforcer: PolicyEnforcer, informer: Informer,
                   args) -> tuple[list[float], list[float]]:
    """Change -> enforced, and the enforcer's own part: its handler called -> enforced."""
    committed = asyncio.Event()
    enforcer.on_synced = lambda _t: committed.set()
    seen: list[float] = []  # when the enforcer's handler got the change in flight
    note = lambda *_: seen.append(time.perf_counter())  # noqa: E731
    informer.add_handler(note, note, note)
    latencies, own = [], []
    for n in range(args.changes):
        op, i = OPS[n % len(OPS)], (n // len(OPS) % args.watched) * args.namespaces
        seen.clear()
        start = time.perf_counter()
        arrived = await _change(client, op, i, n, args)
        while not arrived(enforcer, informer) or enforcer.applied_generation < enforcer.generation:
            committed.clear()
            await committed.wait()
        done = time.perf_counter()
        latencies.append(done - start)
        own.append(done - seen[0])
    enforcer.on_synced = None
    return latencies, own


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--policies", type=int, default=1000)
    p.add_argument("--pods", type=int, default=2000)
    p.add_argument("--namespaces", type=int, default=20)
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--watched", type=int, default=10, help="NetworkPolicies updated through the apiserver")
    p.add_argument("--nft", choices=("lib", "command"), default="lib",
                   help="the enforcer's nft: libnftables in-process (as the agent) or the nft command")
    args = p.parse_args()
    use_session_admin()
    load_before = os.getloadavg()[0]
    ns = Netns()
    try:
        sync, enforcer = await initial_sync(ns.name, args)
        baseline = await nft_baseline(enforcer)
        lat, own = await change_latencies(enforcer, args)
    finally:
        ns.delete()
    state = enforcer.state
    result = {
        "policies": args.policies, "pods": args.pods, "chains": len(state.chains), "sets": len(state.sets),
        "set_elements": sum(len(e) for e in state.elements.values()), "changes": len(lat),
        "initial_sync_s": round(sync.wall, 3), "nft_baseline_s": round(baseline.wall, 3),
        "initial_sync_vs_baseline": round(sync.wall / baseline.wall, 2),
        "initial_sync_cpu_s": round(sync.cpu, 3), "nft_baseline_cpu_s": round(baseline.cpu, 3),
        "change_p50_ms": round(pct(lat, 50) * 1000, 1), "change_p99_ms": round(pct(lat, 99) * 1000, 1),
        "change_mean_ms": round(statistics.mean(lat) * 1000, 1),
        "enforcer_p50_ms": round(pct(own, 50) * 1000, 1), "enforcer_p99_ms": round(pct(own, 99) * 1000, 1),
        "machine": machine(),
        "loadavg_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    print(f"netpol benchmark on {result['machine']} (1-min load average before/after: "
          f"{result['loadavg_1m'][0]}/{result['loadavg_1m'][1]})")
    print(f"{'figure':<38}{'value':>14}")
    rows = [("policies x pods (one node)", f"{args.policies} x {args.pods}"),
            ("chains / sets / set elements", f"{result['chains']}/{result['sets']}/{result['set_elements']}"),
            ("initial sync (enforcer), s", result["initial_sync_s"]),
            ("same ruleset, one raw nft -f, s", result["nft_baseline_s"]),
            ("ratio enforcer / raw nft", result["initial_sync_vs_baseline"]),
            ("initial sync CPU (incl. nft), s", result["initial_sync_cpu_s"]),
            ("raw nft -f CPU, s", result["nft_baseline_cpu_s"]),
            ("policy change -> enforced, p50 ms", result["change_p50_ms"]),
            ("policy change -> enforced, p99 ms", result["change_p99_ms"]),
            ("of which enforcer (event -> nft), p50 ms", result["enforcer_p50_ms"]),
            ("of which enforcer (event -> nft), p99 ms", result["enforcer_p99_ms"])]
    for name, value in rows:
        print(f"{name:<38}{value!s:>14}")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
