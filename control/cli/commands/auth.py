"""`skiffctl auth can-i VERB RESOURCE[/NAME]` and `skiffctl auth whoami`, as kubectl: a
SelfSubjectAccessReview and a SelfSubjectReview for the caller."""

from __future__ import annotations

import argparse

from control.cli.context import Context
from control.cli.errors import CommandError
from control.cli.printers import to_json, to_yaml
from control.cli.tables import render
from control.client.convert import to_dict
from control.client.kinds import UnknownKindError, lookup
from skiff.v1 import authz_pb2, reviews_pb2_grpc


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("auth", parents=parents, help="Inspect authorization")
    verbs = p.add_subparsers(dest="auth_verb", required=True, metavar="COMMAND")
    can_i = verbs.add_parser("can-i", parents=parents, help="Check whether an action is allowed")
    can_i.add_argument("verb")
    can_i.add_argument("resource", help="TYPE, TYPE/NAME or a non-resource URL (/path)")
    can_i.add_argument("name", nargs="?", default="")
    can_i.add_argument("--subresource", default="")
    can_i.add_argument("-q", "--quiet", action="store_true", help="no output, only the exit code")
    can_i.set_defaults(run=can_i_command)
    whoami = verbs.add_parser("whoami", parents=parents, help="Show the attributes of the current user")
    whoami.add_argument("-o", "--output", choices=["json", "yaml"], default="")
    whoami.set_defaults(run=whoami_command)


def resource_attributes(verb: str, resource_arg: str, name: str, subresource: str,
                        namespace: str, warn) -> authz_pb2.ResourceAttributes:
    """kubectl's resolution: a known kind by any spelling (pods, po, deployments.apps); an unknown one
    is warned about and asked for as RESOURCE[.GROUP]. Cluster-scoped kinds are asked without a namespace,
    as the apiserver authorizes their calls."""
    resource, _, slash_name = resource_arg.partition("/")
    name = slash_name or name
    try:
        kind = lookup(resource)
    except UnknownKindError:
        warn(f"Warning: the server doesn't have a resource type '{resource}'\n\n")
        plural, _, group = resource.partition(".")
        return authz_pb2.ResourceAttributes(namespace=namespace, verb=verb, group=group, resource=plural,
                                            subresource=subresource, name=name)
    return authz_pb2.ResourceAttributes(namespace=namespace if kind.namespaced else "", verb=verb,
                                        group=kind.group, version="v1", resource=kind.plural,
                                        subresource=subresource, name=name)


def access_review(args, ctx: Context) -> authz_pb2.SelfSubjectAccessReview:
    spec = authz_pb2.SelfSubjectAccessReviewSpec()
    if args.resource.startswith("/"):
        if args.subresource or args.name:
            raise CommandError("--subresource and a name can not be used with NonResourceURL")
        spec.non_resource_attributes.CopyFrom(authz_pb2.NonResourceAttributes(path=args.resource, verb=args.verb))
    else:
        namespace = "" if args.all_namespaces else ctx.namespace
        spec.resource_attributes.CopyFrom(resource_attributes(
            args.verb, args.resource, args.name, args.subresource, namespace, ctx.stderr.write))
    return authz_pb2.SelfSubjectAccessReview(spec=spec)


def answer_text(status: authz_pb2.SubjectAccessReviewStatus) -> str:
    """kubectl's line: `yes`, or `no` with the reason and the evaluation error when there are any."""
    if status.allowed:
        return "yes"
    return "".join(["no", *(f" - {s}" for s in (status.reason, status.evaluation_error) if s)])


async def can_i_command(args, ctx: Context) -> None:
    stub = reviews_pb2_grpc.SelfSubjectAccessReviewsStub(ctx.client.channel)
    review = await stub.Create(access_review(args, ctx))
    if not args.quiet:
        ctx.out(answer_text(review.status))
    if not review.status.allowed:
        ctx.exit_code = 1


def whoami_text(review: authz_pb2.SelfSubjectReview) -> str:
    info = review.status.user_info
    rows = [["ATTRIBUTE", "VALUE"], ["Username", info.username]]
    if info.uid:
        rows.append(["UID", info.uid])
    if info.groups:
        rows.append(["Groups", "[" + " ".join(info.groups) + "]"])
    return render(rows)


async def whoami_command(args, ctx: Context) -> None:
    stub = reviews_pb2_grpc.SelfSubjectReviewsStub(ctx.client.channel)
    review = await stub.Create(authz_pb2.SelfSubjectReview())
    data = {"kind": review.kind, "apiVersion": review.api_version, "metadata": {"creationTimestamp": None},
            **{k: v for k, v in to_dict(review).items() if k not in ("kind", "apiVersion", "metadata")}}
    if args.output == "json":
        ctx.out(to_json(data))
    elif args.output == "yaml":
        ctx.out(to_yaml(data))
    else:
        ctx.out(whoami_text(review))
