"""`skiffctl cordon|uncordon|drain NODE`."""

from __future__ import annotations

import argparse
import asyncio
import time

import grpc

from control.cli.commands.delete import parse_duration, wait_gone
from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error, is_code
from control.client.kinds import lookup
from control.client.wellknown import is_terminal


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    for verb, fn, text in (("cordon", cordon, "Mark a node as unschedulable"),
                           ("uncordon", uncordon, "Mark a node as schedulable")):
        p = sub.add_parser(verb, parents=parents, help=text)
        p.add_argument("nodes", nargs="+")
        p.set_defaults(run=fn)
    p = sub.add_parser("drain", parents=parents, help="Cordon a node and evict its pods")
    p.add_argument("nodes", nargs="+")
    p.add_argument("--ignore-daemonsets", action="store_true")
    p.add_argument("--force", action="store_true", help="also delete pods no controller manages")
    p.add_argument("--delete-emptydir-data", action="store_true")
    p.add_argument("--grace-period", type=int, default=-1)
    p.add_argument("--timeout", type=parse_duration, default=0.0, help="give up after this long; 0: no limit")
    p.add_argument("--disable-eviction", action="store_true",
                   help="delete pods instead of evicting them, bypassing PodDisruptionBudgets")
    p.set_defaults(run=drain)


async def set_unschedulable(ctx: Context, name: str, value: bool) -> bool:
    """Sets spec.unschedulable; False when it already had that value."""
    for attempt in range(5):
        node = await ctx.client.get("Node", name)
        if node.spec.unschedulable == value:
            return False
        node.spec.unschedulable = value
        try:
            await ctx.client.update(node)
            return True
        except grpc.RpcError as e:
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == 4:
                raise
    return False


async def _mark(ctx: Context, names: list[str], value: bool, verb: str) -> None:
    for name in names:
        try:
            changed = await set_unschedulable(ctx, name, value)
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, "Node", name))
            continue
        ctx.out(f"node/{name} {verb}" if changed else f"node/{name} already {verb}")


EVICTION_RETRY = 5.0  # kubectl drain's fixed wait after a 429


async def cordon(args, ctx: Context) -> None:
    await _mark(ctx, args.nodes, True, "cordoned")


async def uncordon(args, ctx: Context) -> None:
    await _mark(ctx, args.nodes, False, "uncordoned")


async def drain(args, ctx: Context) -> None:
    for name in args.nodes:
        try:
            await _drain_node(ctx, args, name)
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, "Node", name))


async def _drain_node(ctx: Context, args, name: str) -> None:
    changed = await set_unschedulable(ctx, name, True)
    ctx.out(f"node/{name} cordoned" if changed else f"node/{name} already cordoned")
    pods, _ = await ctx.client.list_all("Pod", "", field_selector=f"spec.nodeName={name}")
    to_delete = _pods_to_delete(ctx, args, pods)
    grace = args.grace_period if args.grace_period >= 0 else None
    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
    await asyncio.gather(*(_evict_and_wait(ctx, pod, grace, deadline, args.disable_eviction) for pod in to_delete))
    ctx.out(f"node/{name} drained")


async def _evict_and_wait(ctx: Context, pod, grace: int | None, deadline: float | None, delete: bool) -> None:
    """kubectl's drain: evict (a budget answering 429 is asked again every 5 s), then wait until gone."""
    namespace, name = pod.metadata.namespace, pod.metadata.name
    ctx.out(f"evicting pod {namespace}/{name}")
    while True:
        try:
            if delete:
                await ctx.client.delete("Pod", name, namespace, grace_period_seconds=grace)
            else:
                await ctx.client.evict(namespace, name, grace)
            break
        except grpc.RpcError as e:
            if is_code(e, grpc.StatusCode.NOT_FOUND):
                break
            if not is_code(e, grpc.StatusCode.RESOURCE_EXHAUSTED):
                raise
            if deadline is not None and time.monotonic() + EVICTION_RETRY > deadline:
                raise CommandError(f'error when evicting pods/"{name}" -n "{namespace}": global timeout reached: '
                                   f"{e.details()}") from None
            ctx.warn(f'error when evicting pods/"{name}" -n "{namespace}" (will retry after 5s): {e.details()}')
            await asyncio.sleep(EVICTION_RETRY)
    gone = await wait_gone(ctx, lookup("Pod"), namespace, name, pod.metadata.uid, deadline)
    if not gone:
        raise CommandError(f'error when waiting for pod "{name}" in namespace "{namespace}" to terminate: '
                           "global timeout reached")
    ctx.out(f"pod/{name} evicted")


def _controller(pod):
    return next((o for o in pod.metadata.owner_references if o.controller), None)


def _pods_to_delete(ctx: Context, args, pods: list) -> list:
    """Kubernetes' drain filters: DaemonSet pods stay, unmanaged pods need --force, done pods just go."""
    problems: dict[str, list[str]] = {}
    ignored: list[str] = []
    chosen = []
    for pod in pods:
        ref = f"{pod.metadata.namespace}/{pod.metadata.name}"
        owner = _controller(pod)
        finished = is_terminal(pod)
        if owner is not None and owner.kind == "DaemonSet" and not finished:
            (ignored if args.ignore_daemonsets else problems.setdefault(
                "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)", [])).append(ref)
            continue
        if owner is None and not finished and not args.force:
            problems.setdefault("cannot delete Pods that declare no controller (use --force to override)",
                                []).append(ref)
            continue
        if any(v.HasField("empty_dir") for v in pod.spec.volumes) and not args.delete_emptydir_data \
                and not finished:
            problems.setdefault("cannot delete Pods with local storage (use --delete-emptydir-data to override)",
                                []).append(ref)
            continue
        chosen.append(pod)
    if problems:
        text = ", ".join(f"{why}: {', '.join(refs)}" for why, refs in problems.items())
        raise CommandError(f"unable to drain node {_node(pods)} due to error: {text}")
    if ignored:
        ctx.stderr.write(f"Warning: ignoring DaemonSet-managed Pods: {', '.join(ignored)}\n")
    if args.force:
        unmanaged = [f"{p.metadata.namespace}/{p.metadata.name}" for p in chosen if _controller(p) is None]
        if unmanaged:
            ctx.stderr.write("Warning: deleting Pods that declare no controller: " + ", ".join(unmanaged) + "\n")
    return chosen


def _node(pods: list) -> str:
    return f'"{pods[0].spec.node_name}"' if pods else ""
