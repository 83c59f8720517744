"""`skiffctl delete KIND NAME... | -f FILE`: delete objects, by default waiting until they are gone."""

from __future__ import annotations

import argparse
import asyncio
import time

import grpc

from control.cli import gotime
from control.cli.context import Context, parse_resources
from control.cli.errors import CommandError, describe_rpc_error, is_code
from control.cli.manifests import load_paths, mapping_not_found
from control.client.kinds import Kind, UnknownKindError, for_object

_CASCADE = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan",
            "true": "Background", "false": "Orphan"}


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("delete", parents=parents, help="Delete resources by file names, kinds and names")
    p.add_argument("resources", nargs="*", metavar="KIND [NAME...] | KIND/NAME...")
    p.add_argument("-f", "--filename", action="append", default=[])
    p.add_argument("-R", "--recursive", action="store_true")
    p.add_argument("-l", "--selector", default="")
    p.add_argument("--field-selector", default="")
    p.add_argument("--all", action="store_true", help="delete all objects of the kind in the namespace")
    p.add_argument("--cascade", choices=sorted(_CASCADE), default="background")
    p.add_argument("--grace-period", type=int, default=-1)
    p.add_argument("--now", action="store_true", help="grace period 1: signal the pods to stop right away")
    p.add_argument("--force", action="store_true", help="with --grace-period=0: delete without waiting")
    p.add_argument("--wait", type=_bool, nargs="?", const=True, default=True)
    p.add_argument("--timeout", type=parse_duration, default=0.0, help="how long to wait, e.g. 60s; 0: no limit")
    p.add_argument("--ignore-not-found", action="store_true")
    p.add_argument("--dry-run", choices=["none", "server"], default="none")
    p.set_defaults(run=run, intermixed="resources")


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value: {text!r}")


def parse_duration(text: str) -> float:
    """A --timeout as an argparse type: a Go duration (30s, 5m, 1h30m, 500ms); a bare number is seconds."""
    if text.replace(".", "", 1).isdigit():
        return float(text)
    try:
        seconds = gotime.parse_duration(text)
    except CommandError as e:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: {e}") from None
    if text.startswith(("-", "+")):
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}")
    return seconds


async def run(args, ctx: Context) -> None:
    targets = await _targets(ctx, args)
    grace = _grace_period(args)
    deleted: list[tuple[Kind, str, str, str]] = []
    for kind, namespace, name in targets:
        uid = await _delete_one(ctx, args, kind, namespace, name, grace)
        if uid is not None:
            deleted.append((kind, namespace, name, uid))
    if args.wait and args.dry_run == "none" and not (args.force and grace == 0):
        await _wait_all_gone(ctx, deleted, args.timeout)


def _grace_period(args) -> int | None:
    if args.now:
        return 1
    if args.grace_period >= 0:
        return args.grace_period
    return None


async def _targets(ctx: Context, args) -> list[tuple[Kind, str, str]]:
    if args.filename:
        if args.resources:
            raise CommandError("when paths are specified, no resource names may be given")
        return _targets_from_files(ctx, args)
    requests = parse_resources(args.resources)
    named = [(k, ctx.namespace_for(k), n) for k, n in requests if n]
    if named:
        return named
    if not (args.all or args.selector or args.field_selector):
        raise CommandError("resource(s) were provided, but no name was specified")
    found = []
    for kind, _ in requests:
        items, _ = await ctx.client.list_all(kind, ctx.namespace_for(kind), args.selector, args.field_selector)
        found += [(kind, i.metadata.namespace, i.metadata.name) for i in items]
    if not found:
        ctx.stderr.write("No resources found\n")
    return found


def _targets_from_files(ctx: Context, args) -> list[tuple[Kind, str, str]]:
    targets = []
    for doc in load_paths(args.filename, args.recursive):
        data = doc.data if isinstance(doc.data, dict) else {}
        meta = data.get("metadata") or {}
        try:
            kind = for_object(str(data.get("apiVersion", "")), str(data.get("kind", "")))
        except UnknownKindError as e:
            ctx.err(mapping_not_found(doc, e))
            continue
        namespace = (meta.get("namespace") or ctx.namespace) if kind.namespaced else ""
        targets.append((kind, namespace, str(meta.get("name", ""))))
    return targets


async def _delete_one(ctx: Context, args, kind: Kind, namespace: str, name: str,
                      grace: int | None) -> str | None:
    """Deletes one object and prints kubectl's line; returns its uid, None if it failed."""
    try:
        obj = await ctx.client.delete(kind, name, namespace, propagation_policy=_CASCADE[args.cascade],
                                      grace_period_seconds=grace, dry_run=args.dry_run == "server")
    except grpc.RpcError as e:
        if not (args.ignore_not_found and is_code(e, grpc.StatusCode.NOT_FOUND)):
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
        return None
    suffix = " (server dry run)" if args.dry_run == "server" else ""
    if args.force and grace == 0:
        ctx.stderr.write("Warning: Immediate deletion does not wait for confirmation that the running "
                         "resource has been terminated. The resource may continue to run on the cluster "
                         "indefinitely.\n")
        ctx.out(f'{kind.singular} "{name}" force deleted{suffix}')
    else:
        ctx.out(f'{kind.qualified} "{name}" deleted{suffix}')
    return obj.metadata.uid


async def _wait_all_gone(ctx: Context, deleted: list[tuple[Kind, str, str, str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout if timeout > 0 else None
    for kind, namespace, name, uid in deleted:
        if not await wait_gone(ctx, kind, namespace, name, uid, deadline):
            ctx.err(f"error: timed out waiting for the condition on {kind.plural}/{name}")


async def wait_gone(ctx: Context, kind: Kind, namespace: str, name: str, uid: str,
                    deadline: float | None, interval: float = 0.1) -> bool:
    """Waits until the object with this uid no longer exists (finalizers done, pods terminated)."""
    while deadline is None or time.monotonic() < deadline:
        try:
            obj = await ctx.client.get(kind, name, namespace)
        except grpc.RpcError as e:
            if is_code(e, grpc.StatusCode.NOT_FOUND):
                return True
            raise
        if uid and obj.metadata.uid != uid:
            return True
        await asyncio.sleep(interval)
    return False
