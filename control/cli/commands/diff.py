"""`skiffctl diff -f FILE`: what `apply` would change, as a unified diff of live vs. server dry run."""

from __future__ import annotations

import argparse
import difflib

import grpc

from control.cli.commands.apply import ApplyError, live_and_desired, prepare
from control.cli.context import Context
from control.cli.errors import describe_rpc_error
from control.cli.manifests import load_paths
from control.cli.printers import object_dict, to_yaml

# Fields every write changes; showing them would make every diff noisy.
_VOLATILE = ("resourceVersion", "generation")


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("diff", parents=parents, help="Diff the live objects against what apply would make")
    p.add_argument("-f", "--filename", action="append", required=True)
    p.add_argument("-R", "--recursive", action="store_true")
    p.set_defaults(run=run)


async def run(args, ctx: Context) -> None:
    changed = False
    for doc in load_paths(args.filename, args.recursive):
        try:
            kind, manifest = prepare(ctx, doc)
            live, merged = await live_and_desired(ctx, kind, manifest)
            if merged == live:  # apply would say "unchanged"
                continue
            result = await (ctx.client.create(merged, dry_run=True) if live is None
                            else ctx.client.update(merged, dry_run=True))
        except ApplyError as e:
            ctx.err(str(e))
            ctx.exit_code = 2
            continue
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, manifest["metadata"]["name"]))
            ctx.exit_code = 2
            continue
        name = f"{kind.qualified}/{manifest['metadata']['name']}"
        text = _diff(name, live, result)
        if text:
            changed = True
            ctx.stdout.write(text)
    # Like diff(1) and kubectl diff: 1 means "there are differences", above 1 an error.
    if changed and not ctx.exit_code:
        ctx.exit_code = 1


def _yaml(obj) -> list[str]:
    if obj is None:
        return []
    data = object_dict(obj)
    for key in _VOLATILE:
        data.get("metadata", {}).pop(key, None)
    if not data.get("status", True):
        del data["status"]
    return to_yaml(data).splitlines(keepends=True)


def _diff(name: str, live, planned) -> str:
    return "".join(difflib.unified_diff(_yaml(live), _yaml(planned), f"live/{name}", f"merged/{name}"))
