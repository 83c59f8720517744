"""`skiffctl describe KIND NAME`: kubectl-like sections, then the object's Events."""

from __future__ import annotations

import argparse
import time

import grpc
from google.protobuf.message import Message

import control.cli.describe_apps  # noqa: F401 - registers the apps describers
import control.cli.describe_quota  # noqa: F401 - registers the LimitRange and ResourceQuota describers
import control.cli.describe_storage  # noqa: F401 - registers the storage describers
from control.cli import (
    describe_batch,  # noqa: F401 - registers the Job and CronJob describers
    describe_hpa,  # noqa: F401 - registers the HorizontalPodAutoscaler describer
    describe_policy,  # noqa: F401 - registers the PodDisruptionBudget and PriorityClass describers
)
from control.cli.context import Context, parse_resources
from control.cli.describe_kinds import describer_for
from control.cli.describe_text import Section, render_section
from control.cli.errors import describe_rpc_error
from control.client.humanize import age, is_set
from control.client.kinds import Kind


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("describe", parents=parents, help="Show details of a resource or group of resources")
    p.add_argument("resources", nargs="+", metavar="KIND [NAME...] | KIND/NAME")
    p.add_argument("-l", "--selector", default="")
    p.add_argument("--show-events", type=lambda v: v.lower() != "false", default=True)
    p.set_defaults(run=run, intermixed="resources")


async def run(args, ctx: Context) -> None:
    texts = []
    for kind, name in parse_resources(args.resources):
        for obj in await _objects(ctx, args, kind, name):
            texts.append(await describe_object(ctx, kind, obj, args.show_events))
    if texts:
        ctx.stdout.write("\n\n".join(t.rstrip("\n") for t in texts) + "\n")


async def _objects(ctx: Context, args, kind: Kind, name: str | None) -> list[Message]:
    namespace = ctx.namespace_for(kind, args.all_namespaces)
    if name is None:
        items, _ = await ctx.client.list_all(kind, namespace, args.selector)
        if not items:
            ctx.stderr.write(f"No resources found in {ctx.namespace} namespace.\n" if namespace
                             else "No resources found\n")
        return list(items)
    try:
        return [await ctx.client.get(kind, name, namespace)]
    except grpc.RpcError as e:
        ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
        return []


async def describe_object(ctx: Context, kind: Kind, obj: Message, show_events: bool) -> str:
    describer, with_events = describer_for(kind)
    section = await describer(ctx, obj)
    if show_events and with_events:
        section.add("Events", events_section(await events_for(ctx, obj)))
    return render_section(section)


async def events_for(ctx: Context, obj: Message) -> list[Message]:
    meta = obj.metadata
    selector = f"involvedObject.name={meta.name},involvedObject.namespace={meta.namespace}"
    if meta.uid:
        selector += f",involvedObject.uid={meta.uid}"
    try:
        items, _ = await ctx.client.list_all("Event", meta.namespace, field_selector=selector)
    except grpc.RpcError as e:
        if e.code() == grpc.StatusCode.PERMISSION_DENIED:
            return []  # a user who may read the object but not list events still gets the rest
        # A server without those field selectors: filter here instead.
        items, _ = await ctx.client.list_all("Event", meta.namespace)
    mine = [e for e in items if e.involved_object.name == meta.name
            and (not e.involved_object.uid or not meta.uid or e.involved_object.uid == meta.uid)]
    return sorted(mine, key=lambda e: _event_time(e))


def _event_time(event) -> float:
    for ts in (event.last_timestamp, event.first_timestamp, event.metadata.creation_timestamp):
        if is_set(ts):
            return ts.seconds + ts.nanos / 1e9
    return 0.0


def events_section(events: list[Message]) -> Section | str:
    if not events:
        return "<none>"
    now = time.time()
    rows = [["Type", "Reason", "Age", "From", "Message"], ["----", "------", "----", "----", "-------"]]
    for e in events:
        rows.append([e.type or "Normal", e.reason, _event_age(e, now),
                     e.source.component or e.reporting_component or "", e.message.strip()])
    return Section.table(rows)


def _event_age(event, now: float) -> str:
    last = event.last_timestamp if is_set(event.last_timestamp) else event.metadata.creation_timestamp
    text = age(last, now)
    if event.count > 1 and is_set(event.first_timestamp):
        text += f" (x{event.count} over {age(event.first_timestamp, now)})"
    return text

