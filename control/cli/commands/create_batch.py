"""`skiffctl create job NAME --image IMAGE [-- COMMAND...] | --from=cronjob/NAME` and
`create cronjob NAME --image IMAGE --schedule SCHEDULE [--restart POLICY] [-- COMMAND...]`,
building the objects kubectl builds."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

import grpc

from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error
from control.client.convert import to_dict
from control.client.kinds import UnknownKindError, lookup

Create = Callable[[Context, dict], Awaitable[None]]
INSTANTIATE_ANNOTATION = "cronjob.kubernetes.io/instantiate"


def register(kinds: argparse._SubParsersAction, parents: list, create: Create) -> None:
    job = kinds.add_parser("job", parents=parents, help="Create a job with the specified name")
    job.add_argument("name")
    job.add_argument("--image", default="")
    job.add_argument("--from", dest="from_", default="", metavar="cronjob/NAME")
    job.add_argument("command", nargs="*", metavar="-- COMMAND [args...]")
    job.set_defaults(run=lambda args, ctx: create_job(args, ctx, create))
    cj = kinds.add_parser("cronjob", aliases=["cj"], parents=parents,
                          help="Create a cron job with the specified name")
    cj.add_argument("name")
    cj.add_argument("--image", required=True)
    cj.add_argument("--schedule", required=True)
    cj.add_argument("--restart", default="OnFailure", help="job's restart policy: OnFailure or Never")
    cj.add_argument("command", nargs="*", metavar="-- COMMAND [args...]")
    cj.set_defaults(run=lambda args, ctx: create_cronjob(args, ctx, create))


def _pod_spec(name: str, image: str, command: list[str], restart: str) -> dict:
    container: dict = {"name": name, "image": image}
    if command:
        container["command"] = command
    return {"containers": [container], "restartPolicy": restart}


async def create_job(args, ctx: Context, create: Create) -> None:
    if bool(args.image) == bool(args.from_):
        raise CommandError("either --image or --from must be specified")
    if args.from_ and args.command:
        raise CommandError("cannot specify --from and command")
    if args.from_:
        await create(ctx, await _job_from_cronjob(args, ctx))
        return
    await create(ctx, {"apiVersion": "batch/v1", "kind": "Job",
                       "metadata": {"name": args.name, "namespace": ctx.namespace},
                       "spec": {"template": {"spec": _pod_spec(args.name, args.image, args.command, "Never")}}})


async def _job_from_cronjob(args, ctx: Context) -> dict:
    kind_name, _, source = args.from_.partition("/")
    try:
        kind = lookup(kind_name) if source else None
    except UnknownKindError:
        kind = None
    if kind is None or kind.kind != "CronJob":
        raise CommandError(f"from must be an existing cronjob: {args.from_}")
    try:
        cj = await ctx.client.get(kind, source, ctx.namespace)
    except grpc.RpcError as e:
        raise CommandError(describe_rpc_error(e, ctx.client.target, kind.kind, source)) from None
    template = to_dict(cj.spec.job_template)
    meta = template.get("metadata", {})
    annotations = {INSTANTIATE_ANNOTATION: "manual", **meta.get("annotations", {})}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": args.name, "namespace": ctx.namespace, "labels": meta.get("labels", {}),
                         "annotations": annotations,
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": cj.metadata.name,
                                              "uid": cj.metadata.uid, "controller": True}]},
            "spec": template.get("spec", {})}


async def create_cronjob(args, ctx: Context, create: Create) -> None:
    if args.restart not in ("OnFailure", "Never"):
        raise CommandError(f"invalid restart policy: {args.restart}")
    pod = _pod_spec(args.name, args.image, args.command, args.restart)
    await create(ctx, {"apiVersion": "batch/v1", "kind": "CronJob",
                       "metadata": {"name": args.name, "namespace": ctx.namespace},
                       "spec": {"schedule": args.schedule,
                                "jobTemplate": {"metadata": {"name": args.name},
                                                "spec": {"template": {"spec": pod}}}}})
