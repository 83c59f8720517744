"""`skiffctl explain TYPE[.field.path] [--recursive] [--api-version GROUP/VERSION]`: the fields of a kind,
read from its message (control/cli/explain.py); no server call."""

from __future__ import annotations

import argparse

from control.cli.context import Context
from control.cli.errors import CommandError
from control.cli.explain import ExplainError, explain
from control.client.kinds import lookup


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("explain", parents=parents, help="Get documentation for a resource",
                       usage="skiffctl explain TYPE [--recursive=FALSE|TRUE] [--api-version=api-version-group]")
    p.add_argument("resource", nargs="?", default="", metavar="TYPE[.FIELD...]")
    p.add_argument("--recursive", action="store_true", help="print the fields of fields")
    p.add_argument("--api-version", default="", help="the API version of the resource, e.g. apps/v1")
    p.add_argument("--output", default="plaintext", choices=["plaintext"])
    p.set_defaults(run=run)


async def run(args, ctx: Context) -> None:
    if not args.resource:
        raise CommandError('You must specify the type of resource to explain. Use "skiffctl api-resources" for a '
                           "complete list of supported resources.")
    resource, *path = args.resource.split(".")
    kind = lookup(resource)
    if args.api_version and args.api_version != kind.api_version:
        raise CommandError(f"couldn't find resource for \"{args.api_version.rsplit('/', 1)[0]}/{resource}\"")
    try:
        ctx.stdout.write(explain(kind, path, args.recursive))
    except ExplainError as e:
        ctx.stdout.write(e.printed)
        raise CommandError(str(e)) from None
