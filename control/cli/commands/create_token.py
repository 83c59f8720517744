"""`skiffctl create serviceaccount NAME` and `skiffctl create token SERVICEACCOUNT [--audience A]...
[--duration 1h] [--bound-object-kind Pod|Secret --bound-object-name N [--bound-object-uid U]]`, as
kubectl's: the token (a TokenRequest's status.token) is printed alone."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import grpc

from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error
from control.client.component import duration
from skiff.v1 import authz_pb2

BOUND_KINDS = ("Pod", "Secret")


def service_account_manifest(args, namespace: str, _warn: Callable[[str], None]) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": args.name, "namespace": namespace}}


def _bound(args) -> object | None:
    if not args.bound_object_kind:
        if args.bound_object_name:
            raise CommandError("--bound-object-name can only be set if --bound-object-kind is provided")
        if args.bound_object_uid:
            raise CommandError("--bound-object-uid can only be set if --bound-object-kind is provided")
        return None
    if args.bound_object_kind not in BOUND_KINDS:
        raise CommandError(f"supported --bound-object-kind values are {', '.join(BOUND_KINDS)}")
    if not args.bound_object_name:
        raise CommandError("--bound-object-name is required if --bound-object-kind is provided")
    return authz_pb2.BoundObjectReference(api_version="v1", kind=args.bound_object_kind,
                                          name=args.bound_object_name, uid=args.bound_object_uid)


async def create_token(args, ctx: Context) -> None:
    seconds = duration(args.duration) if args.duration else 0
    if seconds < 0:
        raise CommandError("--duration must be greater than or equal to 0")
    if seconds and seconds != int(seconds):
        raise CommandError("--duration must be an integer number of seconds")
    try:
        answer = await ctx.client.create_token(ctx.namespace, args.name, args.audience, int(seconds) or None,
                                               _bound(args))
    except grpc.RpcError as e:
        ctx.err(describe_rpc_error(e, ctx.client.target, "ServiceAccount", args.name))
        return
    ctx.out(answer.status.token)


def register(kinds: argparse._SubParsersAction, parents: list, create_built) -> None:
    sa = kinds.add_parser("serviceaccount", aliases=["sa"], parents=parents, help="Create a service account")
    sa.add_argument("name")
    sa.set_defaults(run=create_built, build=service_account_manifest)
    token = kinds.add_parser("token", parents=parents, help="Request a service account token")
    token.add_argument("name", metavar="SERVICE_ACCOUNT_NAME")
    token.add_argument("--audience", action="append", default=[])
    token.add_argument("--duration", default="")
    token.add_argument("--bound-object-kind", default="")
    token.add_argument("--bound-object-name", default="")
    token.add_argument("--bound-object-uid", default="")
    token.set_defaults(run=create_token)
