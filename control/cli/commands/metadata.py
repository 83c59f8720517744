"""`skiffctl label`, `annotate`, `set image`, and `api-resources`."""

from __future__ import annotations

import argparse

import grpc
from google.protobuf.message import Message

from control.cli.context import Context, parse_resources
from control.cli.errors import CommandError, describe_rpc_error, is_code
from control.cli.tables import render
from control.client.kinds import KINDS, Kind


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    for verb, text in (("label", "Update the labels on a resource"),
                       ("annotate", "Update the annotations on a resource")):
        p = sub.add_parser(verb, parents=parents, help=text)
        p.add_argument("args", nargs="+", metavar="KIND NAME KEY=VAL... | KIND/NAME KEY=VAL | KEY-")
        p.add_argument("--overwrite", action="store_true")
        p.add_argument("-l", "--selector", default="")
        p.add_argument("--all", action="store_true")
        p.set_defaults(run=label if verb == "label" else annotate, intermixed="args")
    s = sub.add_parser("set", help="Set specific features on objects")
    features = s.add_subparsers(dest="feature", required=True)
    image = features.add_parser("image", parents=parents, help="Update the image of a pod template")
    image.add_argument("args", nargs="+", metavar="KIND/NAME CONTAINER=IMAGE...")
    image.set_defaults(run=set_image)
    r = sub.add_parser("api-resources", parents=parents, help="Print the supported API resources")
    r.add_argument("--namespaced", choices=["true", "false"])
    r.add_argument("-o", "--output", choices=["wide", "name"], default="")
    r.add_argument("--api-group", help="Limit to resources in the specified API group")
    r.add_argument("--verbs", action="append", default=[], help="Limit to resources that support these verbs")
    r.add_argument("--categories", action="append", default=[], help="Limit to resources in these categories")
    r.add_argument("--no-headers", action="store_true")
    r.add_argument("--sort-by", choices=["name", "kind"], default="", help="Sort by the resource's name or kind")
    r.set_defaults(run=api_resources)


def _split_changes(words: list[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """Resource words, then KEY=VALUE settings and KEY- removals (kubectl's argument order)."""
    first = next((i for i, w in enumerate(words) if "=" in w or (w.endswith("-") and "/" not in w and i > 0)),
                 len(words))
    resources, changes = words[:first], words[first:]
    if not changes:
        raise CommandError("at least one label update is required")
    settings, removals = {}, []
    for change in changes:
        if "=" in change:
            key, _, value = change.partition("=")
            settings[key] = value
        elif change.endswith("-"):
            removals.append(change[:-1])
        else:
            raise CommandError(f"invalid label spec: {change}")
    return resources, settings, removals


async def label(args, ctx: Context) -> None:
    await _update_map(args, ctx, "labels", "labeled")


async def annotate(args, ctx: Context) -> None:
    await _update_map(args, ctx, "annotations", "annotated")


async def _targets(ctx: Context, args, resources: list[str]) -> list[tuple[Kind, str]]:
    requests = parse_resources(resources)
    named = [(k, n) for k, n in requests if n]
    if named:
        return named
    if not (args.all or args.selector):
        raise CommandError("resource(s) were provided, but no name was specified")
    found = []
    for kind, _ in requests:
        items, _ = await ctx.client.list_all(kind, ctx.namespace_for(kind), args.selector)
        found += [(kind, i.metadata.name) for i in items]
    return found


async def _update_map(args, ctx: Context, field: str, verb: str) -> None:
    resources, settings, removals = _split_changes(args.args)
    for kind, name in await _targets(ctx, args, resources):
        try:
            changed = await _apply_map_change(ctx, kind, name, field, settings, removals, args.overwrite)
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
            continue
        done = f"un{verb}" if removals and not settings else verb
        ctx.out(f"{kind.qualified}/{name} {done if changed else 'not ' + verb}")


async def _apply_map_change(ctx: Context, kind: Kind, name: str, field: str, settings: dict[str, str],
                            removals: list[str], overwrite: bool) -> bool:
    for attempt in range(5):
        obj = await ctx.client.get(kind, name, ctx.namespace_for(kind))
        values = getattr(obj.metadata, field)
        before = dict(values)
        for key, value in settings.items():
            if key in values and values[key] != value and not overwrite:
                raise CommandError(f"'{key}' already has a value ({values[key]}), and --overwrite is false")
            values[key] = value
        for key in removals:
            values.pop(key, None)
        if dict(values) == before:
            return False
        try:
            await ctx.client.update(obj)
            return True
        except grpc.RpcError as e:
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == 4:
                raise
    return False


async def set_image(args, ctx: Context) -> None:
    resources = [w for w in args.args if "=" not in w]
    images = dict(w.split("=", 1) for w in args.args if "=" in w)
    if not images:
        raise CommandError("at least one image update is required")
    for kind, name in parse_resources(resources):
        if not kind.pod_spec_path or not name:
            raise CommandError(f"cannot set images on {kind.plural} {name or ''}".rstrip())
        try:
            await _set_images(ctx, kind, name, images)
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
            continue
        ctx.out(f"{kind.qualified}/{name} image updated")


async def _set_images(ctx: Context, kind: Kind, name: str, images: dict[str, str]) -> None:
    for attempt in range(5):
        obj = await ctx.client.get(kind, name, ctx.namespace)
        spec = pod_spec(kind, obj)
        containers = list(spec.init_containers) + list(spec.containers)
        unknown = [c for c in images if c != "*" and c not in {x.name for x in containers}]
        if unknown:
            raise CommandError(f'unable to find container named "{unknown[0]}"')
        for container in containers:
            if container.name in images or "*" in images:
                container.image = images.get(container.name, images.get("*", container.image))
        try:
            await ctx.client.update(obj)
            return
        except grpc.RpcError as e:
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == 4:
                raise


def pod_spec(kind: Kind, obj: Message) -> Message:
    """The object's PodSpec: a Pod's own, or its pod template's."""
    spec = obj
    for name in kind.pod_spec_path:
        spec = getattr(spec, name)
    return spec


# kubectl's api-resources order: by group (or by --sort-by), then by name.
_SORT_KEYS = {"": lambda k: (k.group, k.plural), "name": lambda k: (k.plural,),
              "kind": lambda k: (k.kind, k.plural)}


def _api_resource_kinds(args) -> list[Kind]:
    kinds = sorted(KINDS.values(), key=_SORT_KEYS[args.sort_by])
    if args.namespaced:
        kinds = [k for k in kinds if k.namespaced == (args.namespaced == "true")]
    if args.api_group is not None:
        kinds = [k for k in kinds if k.group == args.api_group]
    verbs = {v for arg in args.verbs for v in arg.split(",") if v}
    categories = {c for arg in args.categories for c in arg.split(",") if c}
    return [k for k in kinds if verbs <= set(k.verbs) and categories <= set(k.categories)]


async def api_resources(args, ctx: Context) -> None:
    kinds = _api_resource_kinds(args)
    if args.output == "name":
        ctx.stdout.write("".join(f"{k.resource}\n" for k in kinds))
        return
    wide = args.output == "wide"
    rows = [] if args.no_headers else \
        [["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", *(["VERBS", "CATEGORIES"] if wide else [])]]
    for k in kinds:
        row = [k.plural, ",".join(k.short_names), k.api_version, str(k.namespaced).lower(), k.kind]
        rows.append(row + ([",".join(k.verbs), ",".join(k.categories)] if wide else []))
    ctx.stdout.write(render(rows))
