"""`skiffctl top nodes|pods`: resource usage from the resource metrics API (metrics.k8s.io), as kubectl.

CPU is shown in millicores (rounded up, as Quantity.MilliValue), memory in Mi; a node's percentages
are of its allocatable (or capacity with --show-capacity). Nodes without metrics yet get a row of
<unknown>; pods without metrics are left out, and when none have any the answer is
`error: metrics not available yet`.
"""

from __future__ import annotations

import argparse
import math

from control.cli.context import Context
from control.cli.errors import CommandError
from control.cli.tables import render
from control.client.quantity import parse_quantity

UNKNOWN = "<unknown>"


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    t = sub.add_parser("top", parents=parents, help="Display resource (CPU/memory) usage")
    t.add_argument("what", choices=["nodes", "node", "no", "pods", "pod", "po"])
    t.add_argument("name", nargs="?")
    t.add_argument("-l", "--selector", default="")
    t.add_argument("--sort-by", default="", choices=["", "cpu", "memory"],
                   help="sort by cpu or memory, largest first")
    t.add_argument("--containers", action="store_true", help="pods: show each container's usage")
    t.add_argument("--show-capacity", action="store_true", help="nodes: percentages of capacity, not allocatable")
    t.add_argument("--no-headers", action="store_true")
    t.set_defaults(run=top)


async def top(args, ctx: Context) -> None:
    if args.sort_by and args.sort_by not in ("cpu", "memory"):
        raise CommandError(f"--sort-by accepts only cpu or memory, got {args.sort_by!r}")
    if args.what in ("nodes", "node", "no"):
        await _top_nodes(ctx, args)
    else:
        await _top_pods(ctx, args)


def milli_cpu(text: str) -> int:
    return math.ceil(parse_quantity(text or "0") * 1000)


def memory_bytes(text: str) -> int:
    return math.ceil(parse_quantity(text or "0"))


def _cpu_cell(millis: int) -> str:
    return f"{millis}m"


def _memory_cell(num_bytes: int) -> str:
    return f"{num_bytes // (1024 * 1024)}Mi"


def _sorted(items: list, key_cpu, key_memory, sort_by: str) -> list:
    if sort_by == "cpu":
        return sorted(items, key=key_cpu, reverse=True)
    if sort_by == "memory":
        return sorted(items, key=key_memory, reverse=True)
    return items


# --- nodes ------------------------------------------------------------------------------------------

def _percent(used: float, total: float) -> str:
    return f"{int(used / total * 100)}%" if total > 0 else UNKNOWN


def _node_total(node, resource: str, capacity: bool) -> float:
    source = node.status.capacity if capacity else node.status.allocatable
    text = source.get(resource, "")
    return float(parse_quantity(text)) if text else 0.0


async def _top_nodes(ctx: Context, args) -> None:
    if args.name:
        metrics = [await ctx.client.get_node_metrics(args.name)]
        nodes = [await ctx.client.get("Node", args.name)]
    else:
        metrics = await ctx.client.list_node_metrics(args.selector)
        nodes, _ = await ctx.client.list_all("Node", label_selector=args.selector)
    if not metrics:
        raise CommandError("metrics not available yet")
    by_name = {n.metadata.name: n for n in nodes}
    rows = [] if args.no_headers else [["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]]
    metrics = _sorted([m for m in metrics if m.metadata.name in by_name], lambda m: milli_cpu(m.usage["cpu"]),
                      lambda m: memory_bytes(m.usage["memory"]), args.sort_by)
    for m in metrics:
        node = by_name[m.metadata.name]
        cpu, memory = milli_cpu(m.usage["cpu"]), memory_bytes(m.usage["memory"])
        cpu_total = _node_total(node, "cpu", args.show_capacity) * 1000
        rows.append([m.metadata.name, _cpu_cell(cpu), _percent(cpu, cpu_total),
                     _memory_cell(memory), _percent(memory, _node_total(node, "memory", args.show_capacity))])
    measured = {m.metadata.name for m in metrics}
    rows += [[n.metadata.name, *[UNKNOWN] * 4] for n in nodes if n.metadata.name not in measured]
    ctx.stdout.write(render(rows))


# --- pods -------------------------------------------------------------------------------------------

def _pod_usage(m) -> tuple[int, int]:
    return (sum(milli_cpu(c.usage["cpu"]) for c in m.containers),
            sum(memory_bytes(c.usage["memory"]) for c in m.containers))


async def _top_pods(ctx: Context, args) -> None:
    namespace = "" if args.all_namespaces else ctx.namespace
    if args.name:
        metrics = [await ctx.client.get_pod_metrics(namespace or ctx.namespace, args.name)]
    else:
        metrics = await ctx.client.list_pod_metrics(namespace, args.selector)
    if not metrics:
        pods, _ = await ctx.client.list_all("Pod", namespace, label_selector=args.selector)
        if pods:
            raise CommandError("metrics not available yet")
        ctx.stderr.write(f"No resources found in {namespace} namespace.\n" if namespace else "No resources found\n")
        return
    metrics = _sorted(metrics, lambda m: _pod_usage(m)[0], lambda m: _pod_usage(m)[1], args.sort_by)
    prefix = ["NAMESPACE"] if args.all_namespaces else []
    header = prefix + (["POD", "NAME"] if args.containers else ["NAME"]) + ["CPU(cores)", "MEMORY(bytes)"]
    rows = [] if args.no_headers else [header]
    for m in metrics:
        ns = [m.metadata.namespace] if args.all_namespaces else []
        if args.containers:
            for c in m.containers:
                rows.append(ns + [m.metadata.name, c.name, _cpu_cell(milli_cpu(c.usage["cpu"])),
                                  _memory_cell(memory_bytes(c.usage["memory"]))])
        else:
            cpu, memory = _pod_usage(m)
            rows.append(ns + [m.metadata.name, _cpu_cell(cpu), _memory_cell(memory)])
    ctx.stdout.write(render(rows))
