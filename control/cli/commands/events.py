"""`skiffctl events [--for TYPE/NAME] [--types Normal,Warning] [-w] [-A] [-o FORMAT]`, as kubectl events:
oldest first, columns LAST SEEN, TYPE, REASON, OBJECT (Kind/name), MESSAGE; `-w` prints new events as
they come and never their deletion (events expire)."""

from __future__ import annotations

import argparse
import time

from google.protobuf.message import Message

from control.cli.commands.get import add_output_flag
from control.cli.context import Context, one_resource
from control.cli.errors import CommandError
from control.cli.printers import format_objects, is_structured, object_dict, to_json, to_yaml
from control.cli.tables import render
from control.client.humanize import age, is_set

HEADERS = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
TYPES = ("Normal", "Warning")


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("events", parents=parents, help="List events",
                       usage="skiffctl events [-o FORMAT] [--for TYPE/NAME] [--watch] [--types=Normal,Warning]")
    p.add_argument("-w", "--watch", action="store_true", help="after listing the requested events, watch for more")
    p.add_argument("--for", dest="for_object", default="", help="only events about this TYPE/NAME")
    p.add_argument("--types", action="append", default=[], help="only events of these types (Normal, Warning)")
    p.add_argument("--no-headers", action="store_true")
    add_output_flag(p)
    p.set_defaults(run=run)


def parse_types(values: list[str]) -> list[str]:
    types = sorted({t for v in values for t in v.split(",") if t})
    if any(t.lower() not in ("normal", "warning") for t in types):
        raise CommandError("valid --types are Normal or Warning")
    return types


def for_selector(arg: str) -> str:
    if not arg:
        return ""
    if "/" not in arg:
        raise CommandError("--for must be in resource/name form")
    if arg.count("/") > 1:
        raise CommandError("arguments in resource/name form may not have more than one slash")
    kind, name = one_resource(arg)
    return f"involvedObject.kind={kind.kind},involvedObject.apiVersion={kind.api_version},involvedObject.name={name}"


def wanted(ev: Message, types: list[str]) -> bool:
    return not types or any(t.lower() == ev.type.lower() for t in types)


def event_time(ev: Message) -> float:
    """What kubectl sorts events by: the last time seen, else the event time."""
    for ts in (ev.last_timestamp, ev.first_timestamp, ev.metadata.creation_timestamp):
        if is_set(ts):
            return ts.seconds + ts.nanos / 1e9
    return 0.0


def interval(ev: Message, now: float) -> str:
    """LAST SEEN: `5m`, or `30s (x3 over 5m)` for an event seen several times."""
    first = age(ev.first_timestamp, now) if is_set(ev.first_timestamp) else age(ev.metadata.creation_timestamp, now)
    if ev.count > 1:
        return f"{age(ev.last_timestamp, now)} (x{ev.count} over {first})"
    return first


def row(ev: Message, now: float, all_namespaces: bool) -> list[str]:
    ref = ev.involved_object
    cells = [interval(ev, now), ev.type, ev.reason, f"{ref.kind}/{ref.name}", ev.message.strip()]
    return ([ev.metadata.namespace] if all_namespaces else []) + cells


def table(events: list[Message], now: float, all_namespaces: bool, headers: bool) -> str:
    rows = [(["NAMESPACE"] if all_namespaces else []) + HEADERS] if headers else []
    return render(rows + [row(ev, now, all_namespaces) for ev in events])


async def run(args, ctx: Context) -> None:
    types = parse_types(args.types)
    selector = for_selector(args.for_object)
    namespace = "" if args.all_namespaces else ctx.namespace
    if args.watch:
        await _watch(ctx, args, namespace, selector, types)
        return
    items, _ = await ctx.client.list_all("Event", namespace, field_selector=selector)
    events = sorted((e for e in items if wanted(e, types)), key=event_time)
    if not events:
        ctx.stderr.write("No events found.\n" if args.all_namespaces else
                         f"No events found in {namespace} namespace.\n")
        return
    if args.output in ("json", "yaml"):  # kubectl prints the EventList it read
        data = {"apiVersion": "v1", "items": [object_dict(e) for e in events], "kind": "EventList",
                "metadata": {}}
        ctx.stdout.write(to_json(data) if args.output == "json" else to_yaml(data))
    elif is_structured(args.output):
        ctx.stdout.write(format_objects(events, args.output, as_list=True))
    else:
        ctx.stdout.write(table(events, time.time(), args.all_namespaces, not args.no_headers))


async def _watch(ctx: Context, args, namespace: str, selector: str, types: list[str]) -> None:
    headers = not args.no_headers
    async for event in ctx.client.watch("Event", namespace, field_selector=selector, allow_bookmarks=False):
        if event.type in ("DELETED", "BOOKMARK") or not wanted(event.object, types):
            continue
        if is_structured(args.output):
            ctx.stdout.write(format_objects([event.object], args.output, as_list=False))
        else:
            ctx.stdout.write(table([event.object], time.time(), args.all_namespaces, headers))
            headers = False
        ctx.stdout.flush()
