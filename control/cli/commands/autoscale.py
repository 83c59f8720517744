"""`skiffctl autoscale KIND NAME|KIND/NAME --max N [--min N] [--cpu-percent P] [--name NAME]`: creates an
autoscaling/v2 HorizontalPodAutoscaler for a kind with the scale subresource, as kubectl does."""

from __future__ import annotations

import argparse

import grpc

from control.cli.context import Context, one_resource, parse_resources
from control.cli.errors import CommandError, describe_rpc_error
from control.client.kinds import KINDS


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("autoscale", parents=parents, help="Auto-scale a deployment or replica set")
    p.add_argument("resources", nargs="+", metavar="KIND NAME | KIND/NAME")
    p.add_argument("--min", type=int, default=-1, help="the lower limit (default: the server's, 1)")
    p.add_argument("--max", type=int, default=-1, help="the upper limit; required")
    p.add_argument("--cpu-percent", type=int, default=-1,
                   help="the target average CPU utilization over all the pods (default: the server's, 80)")
    p.add_argument("--name", default="", help="the autoscaler's name (default: the resource's)")
    p.add_argument("--dry-run", choices=["none", "server"], default="none")
    p.set_defaults(run=run)


def build(kind, name: str, namespace: str, args) -> object:
    hpa = KINDS["HorizontalPodAutoscaler"].new()
    hpa.metadata.name, hpa.metadata.namespace = args.name or name, namespace
    ref = hpa.spec.scale_target_ref
    ref.api_version, ref.kind, ref.name = kind.api_version, kind.kind, name
    hpa.spec.max_replicas = args.max
    if args.min >= 0:
        hpa.spec.min_replicas = args.min
    if args.cpu_percent >= 0:
        metric = hpa.spec.metrics.add(type="Resource")
        metric.resource.name = "cpu"
        metric.resource.target.type = "Utilization"
        metric.resource.target.average_utilization = args.cpu_percent
    return hpa


async def run(args, ctx: Context) -> None:
    if args.max < 1:
        raise CommandError(f"--max=MAXPODS is required and must be at least 1, max: {args.max}")
    if args.min > args.max:
        raise CommandError(f"--max=MAXPODS must be larger or equal to --min=MINPODS, max: {args.max}, min: {args.min}")
    targets = [one_resource(args.resources[0])] if len(args.resources) == 1 else \
        [(k, n) for k, n in parse_resources(args.resources) if n]
    for kind, name in targets:
        if not kind.scale:
            ctx.err(f"error: cannot autoscale a {kind.kind}")
            continue
        namespace = ctx.namespace_for(kind)
        try:
            await ctx.client.get(kind, name, namespace)
            hpa = await ctx.client.create(build(kind, name, namespace, args), dry_run=args.dry_run == "server")
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
            continue
        suffix = " (server dry run)" if args.dry_run == "server" else ""
        ctx.out(f"horizontalpodautoscaler.autoscaling/{hpa.metadata.name} autoscaled{suffix}")
