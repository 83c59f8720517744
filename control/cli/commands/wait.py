"""`skiffctl wait --for=condition=C|delete|jsonpath=... KIND/NAME` until the objects get there."""

from __future__ import annotations

import argparse
import asyncio
import time

import grpc
from google.protobuf.message import Message

from control.cli.commands.delete import parse_duration
from control.cli.context import Context, parse_resources
from control.cli.errors import CommandError, is_code
from control.cli.jsonpath import JSONPathError, evaluate
from control.cli.printers import object_dict
from control.client.kinds import Kind
from control.client.wellknown import CONDITION_TRUE

_POLL = 0.2


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("wait", parents=parents, help="Wait for a condition on one or many resources")
    p.add_argument("resources", nargs="+", metavar="KIND/NAME | KIND NAME...")
    p.add_argument("--for", dest="condition", required=True,
                   help="condition=NAME[=VALUE], delete, or jsonpath='{.path}'=VALUE")
    p.add_argument("--timeout", type=parse_duration, default=30.0)
    p.add_argument("-l", "--selector", default="")
    p.add_argument("--all", action="store_true")
    p.set_defaults(run=run, intermixed="resources")


def make_check(spec: str):
    """A predicate on the object's JSON (None when it is gone) for a --for value."""
    if spec == "delete":
        return lambda data: data is None
    if spec.startswith("condition="):
        name, _, want = spec[len("condition="):].partition("=")
        want = want or CONDITION_TRUE
        return lambda data: data is not None and any(
            c.get("type", "").lower() == name.lower() and c.get("status", "").lower() == want.lower()
            for c in data.get("status", {}).get("conditions", []))
    if spec.startswith("jsonpath="):
        return _jsonpath_check(spec[len("jsonpath="):])
    raise CommandError(f"unrecognized condition: {spec!r}")


def _jsonpath_check(text: str):
    for quote in "'\"":  # jsonpath='{.status.phase}'=Running when the shell left the quotes in
        text = text.replace(quote + "{", "{").replace("}" + quote, "}")
    if text.startswith("{"):
        close = text.rfind("}")
        expr, rest = text[1:close], text[close + 1:]
    else:
        expr, sep, value = text.partition("=")
        rest = sep + value
    if rest and not rest.startswith("="):
        raise CommandError(f"invalid jsonpath condition: {text!r}")
    want = rest[1:] if rest else None
    try:
        evaluate(expr, {})
    except JSONPathError as e:
        raise CommandError(f"invalid jsonpath in --for: {e}") from None

    def check(data) -> bool:
        if data is None:
            return False
        values = evaluate(expr, data)
        if want is None:
            return bool(values)
        return any(str(v).lower() == want.lower() if isinstance(v, bool) else str(v) == want for v in values)
    return check


async def run(args, ctx: Context) -> None:
    check = make_check(args.condition)
    deadline = time.monotonic() + args.timeout
    for kind, name in await _targets(ctx, args):
        if await _wait_one(ctx, kind, name, check, deadline):
            ctx.out(f"{kind.qualified}/{name} condition met")
        else:
            ctx.err(f"error: timed out waiting for the condition on {kind.plural}/{name}")


async def _targets(ctx: Context, args) -> list[tuple[Kind, str]]:
    requests = parse_resources(args.resources)
    named = [(k, n) for k, n in requests if n]
    if named:
        return named
    if not (args.all or args.selector):
        raise CommandError("resource(s) were provided, but no name was specified")
    found = []
    for kind, _ in requests:
        items, _ = await ctx.client.list_all(kind, ctx.namespace_for(kind), args.selector)
        found += [(kind, i.metadata.name) for i in items]
    if not found:
        raise CommandError("no matching resources found")
    return found


async def _wait_one(ctx: Context, kind: Kind, name: str, check, deadline: float) -> bool:
    while True:
        obj = await _get(ctx, kind, name)
        if check(object_dict(obj) if obj is not None else None):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL)


async def _get(ctx: Context, kind: Kind, name: str) -> Message | None:
    try:
        return await ctx.client.get(kind, name, ctx.namespace_for(kind))
    except grpc.RpcError as e:
        if is_code(e, grpc.StatusCode.NOT_FOUND):
            return None
        raise
