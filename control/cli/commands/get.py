"""`skiffctl get`: list or fetch objects, print them as a table or json/yaml/name; -w watches."""

from __future__ import annotations

import argparse

import grpc
from google.protobuf.message import Message

from control.cli.context import Context, parse_resources
from control.cli.errors import CommandError, describe_rpc_error, is_code
from control.cli.jsonpath import JSONPathError, evaluate
from control.cli.printers import (
    format_objects,
    format_table,
    is_structured,
    object_dict,
    output_format,
    table_header,
    table_rows,
)
from control.cli.tables import render
from control.client.kinds import Kind, kind_of


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("get", parents=parents, help="Display one or many resources")
    p.add_argument("resources", nargs="+", metavar="KIND [NAME...] | KIND/NAME...")
    add_output_flag(p)
    p.add_argument("-l", "--selector", default="", help="label selector, e.g. app=web,tier!=db")
    p.add_argument("--field-selector", default="", help="field selector, e.g. status.phase=Running")
    p.add_argument("-w", "--watch", action="store_true", help="after listing, watch for changes")
    p.add_argument("--watch-only", action="store_true", help="watch for changes without listing first")
    p.add_argument("--no-headers", action="store_true")
    p.add_argument("--show-kind", action="store_true")
    p.add_argument("--show-managed-fields", action="store_true",
                   help="keep metadata.managedFields in json and yaml output")
    p.add_argument("--show-labels", action="store_true", help="add a LABELS column")
    p.add_argument("-L", "--label-columns", action="append", default=[], help="a column per label key (a,b)")
    p.add_argument("--sort-by", default="", help="a JSONPath to sort by, e.g. .metadata.creationTimestamp")
    p.set_defaults(run=run, intermixed="resources")


def add_output_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=output_format, default="",
                   help="wide|json|yaml|name|jsonpath=TEMPLATE|custom-columns=NAME:EXPR,...")


async def run(args, ctx: Context) -> None:
    requests = parse_resources(args.resources)
    if args.watch or args.watch_only:
        if len({k.kind for k, _ in requests}) > 1:
            ctx.err("error: you may only specify a single resource type when watching")
            return
        await watch(ctx, args, requests[0][0], [n for _, n in requests if n])
        return
    named = any(name for _, name in requests)
    if named:
        objects = await _get_named(ctx, args, requests)
        _print_named(ctx, args, objects)
    else:
        await _list_kinds(ctx, args, [k for k, _ in requests])


async def _get_named(ctx: Context, args, requests: list[tuple[Kind, str | None]]) -> list[Message]:
    objects = []
    for kind, name in requests:
        try:
            objects.append(await ctx.client.get(kind, name, ctx.namespace_for(kind)))
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
    return objects


def _print_named(ctx: Context, args, objects: list[Message]) -> None:
    if not objects:
        return
    if args.sort_by:
        objects = sort_objects(objects, args.sort_by)
    if is_structured(args.output):
        ctx.stdout.write(format_objects(objects, args.output, as_list=len(objects) > 1,
                                        managed_fields=args.show_managed_fields))
        return
    _print_tables(ctx, args, objects)


def _label_columns(args) -> tuple[str, ...]:
    return tuple(key for keys in args.label_columns for key in keys.split(",") if key)


def sort_objects(objects: list[Message], path: str) -> list[Message]:
    """kubectl's --sort-by: numbers as numbers, everything else as text, missing values first."""
    expr = path.strip()
    expr = expr[1:-1] if expr.startswith("{") and expr.endswith("}") else expr
    expr = expr if expr.startswith((".", "$")) else "." + expr
    try:
        evaluate(expr, {})
    except JSONPathError as e:
        raise CommandError(f"couldn't parse --sort-by {path!r}: {e}") from None

    def key(obj: Message):
        values = evaluate(expr, object_dict(obj))
        if not values:
            return (0, 0, "")
        value = values[0]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (1, value, "")
        return (2, 0, str(value))
    return sorted(objects, key=key)


def _print_tables(ctx: Context, args, objects: list[Message]) -> None:
    groups: dict[str, list[Message]] = {}
    for obj in objects:
        groups.setdefault(type(obj).__name__, []).append(obj)
    with_kind = args.show_kind or len(groups) > 1
    tables = [format_table(kind_of(objs[0]), objs, args.output == "wide",
                           args.all_namespaces and kind_of(objs[0]).namespaced,
                           with_kind, headers=not args.no_headers, label_columns=_label_columns(args),
                           show_labels=args.show_labels) for objs in groups.values()]
    ctx.stdout.write("\n".join(tables))
    ctx.stdout.flush()


async def _list_kinds(ctx: Context, args, kinds: list[Kind]) -> None:
    objects: list[Message] = []
    for kind in kinds:
        items, _ = await ctx.client.list_all(kind, ctx.namespace_for(kind, args.all_namespaces),
                                             args.selector, args.field_selector)
        objects.extend(_with_kind(kind, items))
    if args.sort_by:
        objects = sort_objects(objects, args.sort_by)
    if args.output in ("json", "yaml") or args.output.startswith("jsonpath="):
        ctx.stdout.write(format_objects(objects, args.output, as_list=True, managed_fields=args.show_managed_fields))
        return
    if not objects:
        ctx.stderr.write(_no_resources(ctx, kinds[0], args.all_namespaces))
        return
    if is_structured(args.output):
        ctx.stdout.write(format_objects(objects, args.output, as_list=True, managed_fields=args.show_managed_fields))
        return
    _print_tables(ctx, args, objects)


def _with_kind(kind: Kind, items) -> list[Message]:
    for item in items:
        if not item.kind:
            item.api_version, item.kind = kind.api_version, kind.kind
    return list(items)


def _no_resources(ctx: Context, kind: Kind, all_namespaces: bool) -> str:
    if kind.namespaced and not all_namespaces:
        return f"No resources found in {ctx.namespace} namespace.\n"
    return "No resources found\n"


async def watch(ctx: Context, args, kind: Kind, names: list[str]) -> None:
    """Prints the current state (unless --watch-only), then one row per change until interrupted."""
    namespace = ctx.namespace_for(kind, args.all_namespaces)
    field_selector = _field_selector(args.field_selector, names)
    items, list_version = await ctx.client.list_all(kind, namespace, args.selector, field_selector)
    items = _with_kind(kind, items)
    if not args.watch_only:
        _print_watch(ctx, args, kind, items, header=True)
        if not items and not is_structured(args.output):
            ctx.stderr.write(_no_resources(ctx, kind, args.all_namespaces))
    seen = {_key(o) for o in items}
    newest = max((int(o.metadata.resource_version or 0) for o in items), default=0)
    # Some servers can't resume a watch at a List's revision until this kind changes again; the newest
    # listed object's revision (or the current state, for an empty list) shows the same changes.
    fallback = str(newest) if newest else ""
    header = args.watch_only
    for attempt, version in enumerate((list_version, fallback)):
        try:
            async for event in ctx.client.watch(kind, namespace, args.selector, field_selector, version,
                                                allow_bookmarks=False):
                attempt = -1  # events arrived: a later failure is real
                if not _new_change(event, seen):
                    continue
                _print_watch(ctx, args, kind, _with_kind(kind, [event.object]), header=header)
                header = False
            return
        except grpc.RpcError as e:
            if attempt != 0 or not is_code(e, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise


def _key(obj: Message) -> tuple[str, str]:
    return obj.metadata.namespace, obj.metadata.name


def _new_change(event, seen: set[tuple[str, str]]) -> bool:
    """Whether to print a watch event: not bookmarks, and no deletions of objects never shown."""
    if event.type == "BOOKMARK":
        return False
    key = _key(event.object)
    if event.type == "DELETED":
        if key not in seen:
            return False
        seen.discard(key)
        return True
    seen.add(key)
    return True


def _field_selector(selector: str, names: list[str]) -> str:
    if len(names) == 1:
        by_name = f"metadata.name={names[0]}"
        return f"{selector},{by_name}" if selector else by_name
    return selector


def _print_watch(ctx: Context, args, kind: Kind, objects: list[Message], header: bool) -> None:
    if not objects:
        return
    if is_structured(args.output):
        for obj in objects:
            text = format_objects([obj], args.output, as_list=False, managed_fields=args.show_managed_fields)
            ctx.stdout.write(text if args.output != "yaml" else "---\n" + text)
    else:
        wide, labels = args.output == "wide", _label_columns(args)
        with_namespace = args.all_namespaces and kind.namespaced
        rows = table_rows(objects, wide, with_namespace, label_columns=labels, show_labels=args.show_labels)
        if header and not args.no_headers:
            rows.insert(0, table_header(kind, wide, with_namespace, labels, args.show_labels))
        ctx.stdout.write(render(rows))
    ctx.stdout.flush()
