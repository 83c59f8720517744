"""`skiffctl scale KIND/NAME --replicas N` for the kinds with a scale subresource."""

from __future__ import annotations

import argparse

import grpc

from control.cli.context import Context, one_resource, parse_resources
from control.cli.errors import CommandError, describe_rpc_error, is_code
from control.client.kinds import KINDS, Kind

_RETRIES = 5


def scalable() -> list[Kind]:
    """The kinds with a scale subresource, by name."""
    return sorted((k for k in KINDS.values() if k.scale), key=lambda k: k.kind)


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    kinds = " or ".join(k.kind for k in scalable())
    p = sub.add_parser("scale", parents=parents, help=f"Set a new size for a {kinds}")
    p.add_argument("resources", nargs="+", metavar="KIND/NAME | KIND NAME")
    p.add_argument("--replicas", type=int, required=True)
    p.add_argument("--current-replicas", type=int, default=-1,
                   help="precondition: only scale if the current size is this")
    p.set_defaults(run=run)


async def run(args, ctx: Context) -> None:
    if args.replicas < 0:
        raise CommandError("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
    targets = [one_resource(args.resources[0])] if len(args.resources) == 1 else \
        [(k, n) for k, n in parse_resources(args.resources) if n]
    for kind, name in targets:
        if not kind.scale:
            plurals = [k.plural for k in scalable()]
            only = " and ".join(filter(None, (", ".join(plurals[:-1]), plurals[-1])))
            ctx.err(f'error: cannot scale {kind.plural} "{name}": only {only} scale')
            continue
        try:
            await _scale(ctx, kind, name, args.replicas, args.current_replicas)
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
            continue
        ctx.out(f"{kind.qualified}/{name} scaled")


async def _scale(ctx: Context, kind, name: str, replicas: int, current: int) -> None:
    # Through the scale subresource, as kubectl: `update` on `<plural>/scale` is all it needs.
    for attempt in range(_RETRIES):
        scale = await ctx.client.get_scale(kind, name, ctx.namespace_for(kind))
        if current >= 0 and scale.spec.replicas != current:
            raise CommandError(f"Expected replicas to be {current}, was {scale.spec.replicas}")
        scale.spec.replicas = replicas
        try:
            await ctx.client.update_scale(kind, scale)
            return
        except grpc.RpcError as e:
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == _RETRIES - 1:
                raise
