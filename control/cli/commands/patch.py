"""`skiffctl patch TYPE NAME | TYPE/NAME -p PATCH [--type strategic|merge|json]`, as kubectl patch: the
patch is applied to the live object and written back with its resourceVersion (a conflict with
another writer is retried on the newer object)."""

from __future__ import annotations

import argparse
from typing import Any

import grpc
import yaml

from control.cli.commands.get import add_output_flag
from control.cli.context import Context, parse_resources
from control.cli.errors import CommandError, describe_rpc_error, is_code
from control.cli.printers import format_objects
from control.client.convert import ManifestError, from_dict, to_dict
from control.client.kinds import Kind
from control.client.patches import PatchError, apply_patch

PATCH_TYPES = ("json", "merge", "strategic")
_RETRIES = 5


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("patch", parents=parents, help="Update fields of a resource",
                       usage="skiffctl patch (TYPE NAME | TYPE/NAME) [-p PATCH|--patch-file FILE]")
    p.add_argument("resources", nargs="+", metavar="TYPE NAME | TYPE/NAME")
    p.add_argument("-p", "--patch", default="", help="the patch to be applied to the resource JSON file")
    p.add_argument("--patch-file", default="", help="a file containing a patch to be applied to the resource")
    p.add_argument("--type", default="strategic", help="the type of patch: json, merge or strategic")
    p.add_argument("--dry-run", choices=["none", "server", "client"], default="none", nargs="?", const="client")
    p.add_argument("--subresource", choices=["status"], default="")
    add_output_flag(p)
    p.set_defaults(run=run, intermixed="resources")


def read_patch(args) -> Any:
    if args.type not in PATCH_TYPES:
        raise CommandError(f'--type must be one of [{" ".join(PATCH_TYPES)}], not "{args.type}"')
    if args.patch and args.patch_file:
        raise CommandError("--patch and --patch-file are mutually exclusive")
    text = args.patch
    if args.patch_file:
        try:
            with open(args.patch_file, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise CommandError(f"unable to read patch file: {e}") from None
    if not text:
        raise CommandError("must specify --patch or --patch-file containing the contents of the patch")
    try:
        return yaml.safe_load(text)  # JSON is YAML; kubectl takes either
    except yaml.YAMLError as e:
        raise CommandError(f"unable to parse {text!r}: {e}") from None


async def run(args, ctx: Context) -> None:
    patch = read_patch(args)
    targets = [(k, n) for k, n in parse_resources(args.resources) if n]
    if not targets:
        raise CommandError("resource(s) were provided, but no name was specified")
    for kind, name in targets:
        try:
            obj, changed = await _patch(ctx, kind, name, patch, args)
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
            continue
        if args.output:
            ctx.stdout.write(format_objects([obj], args.output, as_list=False))
            continue
        suffix = {"server": " (server dry run)", "client": " (dry run)"}.get(args.dry_run, "")
        ctx.out(f"{kind.qualified}/{name} patched{'' if changed else ' (no change)'}{suffix}")


async def _patch(ctx: Context, kind: Kind, name: str, patch: Any, args) -> tuple[Any, bool]:
    for attempt in range(_RETRIES):
        live = await ctx.client.get(kind, name, ctx.namespace_for(kind))
        before = to_dict(live)
        try:
            after = apply_patch(before, patch, args.type, kind.message.DESCRIPTOR)
            obj = from_dict(after, kind)
        except (PatchError, ManifestError) as e:
            raise CommandError(f"{kind.qualified}/{name}: {e}") from None
        if obj == live or args.dry_run == "client":
            return obj, obj != live
        try:
            if args.subresource == "status":
                written = await ctx.client.update_status(obj)
            else:
                written = await ctx.client.update(obj, dry_run=args.dry_run == "server")
            return written, written.metadata.resource_version != live.metadata.resource_version or \
                args.dry_run == "server"
        except grpc.RpcError as e:
            own_version = before.get("metadata", {}).get("resourceVersion") != \
                after.get("metadata", {}).get("resourceVersion")
            if not is_code(e, grpc.StatusCode.ABORTED) or own_version or attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")
