"""`skiffctl rollout status|history|undo|restart|pause|resume deploy/NAME` (status, history, undo and
restart also for daemonsets and statefulsets, whose history is in ControllerRevisions)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

import grpc

from control.cli.commands import rollout_revisions as revs
from control.cli.commands.delete import parse_duration
from control.cli.context import Context, one_resource
from control.cli.errors import CommandError, is_code
from control.cli.printers import to_yaml
from control.cli.tables import render
from control.client.convert import to_dict
from control.client.kinds import KINDS, Kind
from control.client.wellknown import (
    ANNOTATION_CHANGE_CAUSE,
    ANNOTATION_DESIRED_REPLICAS,
    ANNOTATION_LAST_APPLIED,
    ANNOTATION_MAX_REPLICAS,
    ANNOTATION_RESTARTED_AT,
    ANNOTATION_REVISION,
    ANNOTATION_REVISION_HISTORY,
    LABEL_POD_TEMPLATE_HASH,
)

# Annotations a rollback does not copy from the ReplicaSet to the Deployment.
_NOT_COPIED = {ANNOTATION_REVISION, ANNOTATION_REVISION_HISTORY, ANNOTATION_DESIRED_REPLICAS, ANNOTATION_MAX_REPLICAS,
               ANNOTATION_LAST_APPLIED}


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("rollout", help="Manage the rollout of a Deployment, DaemonSet or StatefulSet")
    verbs = p.add_subparsers(dest="rollout_verb", required=True)
    s = verbs.add_parser("status", parents=parents, help="Watch the rollout until it completes")
    s.add_argument("resource")
    s.add_argument("--timeout", type=parse_duration, default=0.0, help="give up after this long, e.g. 60s")
    s.add_argument("-w", "--watch", type=lambda v: v.lower() != "false", default=True)
    s.set_defaults(run=status)
    h = verbs.add_parser("history", parents=parents, help="Show the rollout history")
    h.add_argument("resource")
    h.add_argument("--revision", type=int, default=0)
    h.set_defaults(run=history)
    u = verbs.add_parser("undo", parents=parents, help="Roll back to a previous revision")
    u.add_argument("resource")
    u.add_argument("--to-revision", type=int, default=0)
    u.set_defaults(run=undo)
    for verb, fn, text in (("restart", restart, "Restart the pods"), ("pause", pause, "Pause the rollout"),
                           ("resume", resume, "Resume a paused rollout")):
        r = verbs.add_parser(verb, parents=parents, help=text)
        r.add_argument("resource")
        r.set_defaults(run=fn)


def _target(arg: str) -> tuple[Kind, str]:
    return one_resource(arg, allowed=tuple(k.kind for k in KINDS.values() if k.rollout))


def _progress_of(obj) -> tuple[str, bool]:
    return status_message(obj) if obj.kind == "Deployment" else revs.status_message(obj)


# --- status -----------------------------------------------------------------------------------------

def status_message(d) -> tuple[str, bool]:
    """kubectl's rollout progress line for the current state, and whether the rollout is done."""
    name, s = d.metadata.name, d.status
    if d.metadata.generation > s.observed_generation:
        return "Waiting for deployment spec update to be observed...", False
    progressing = next((c for c in s.conditions if c.type == "Progressing"), None)
    if progressing is not None and progressing.reason == "ProgressDeadlineExceeded":
        raise CommandError(f'deployment "{name}" exceeded its progress deadline')
    replicas = d.spec.replicas if d.spec.HasField("replicas") else 1
    prefix = f'Waiting for deployment "{name}" rollout to finish: '
    if s.updated_replicas < replicas:
        return prefix + f"{s.updated_replicas} out of {replicas} new replicas have been updated...", False
    if s.replicas > s.updated_replicas:
        return prefix + f"{s.replicas - s.updated_replicas} old replicas are pending termination...", False
    if s.available_replicas < s.updated_replicas:
        return prefix + f"{s.available_replicas} of {s.updated_replicas} updated replicas are available...", False
    return f'deployment "{name}" successfully rolled out', True


async def status(args, ctx: Context) -> None:
    kind, name = _target(args.resource)
    try:
        await asyncio.wait_for(_follow(ctx, kind, name, args.watch), args.timeout or None)
    except TimeoutError:
        raise CommandError("timed out waiting for the condition") from None


class _Progress:
    """Prints each new progress line once."""

    def __init__(self, ctx: Context) -> None:
        self.ctx, self.last = ctx, ""

    def show(self, obj) -> bool:
        message, done = _progress_of(obj)
        if message != self.last:
            self.ctx.out(message)
            self.last = message
        return done


async def _follow(ctx: Context, kind: Kind, name: str, watch: bool) -> None:
    progress = _Progress(ctx)
    while True:
        obj = await ctx.client.get(kind, name, ctx.namespace)
        if progress.show(obj) or not watch:
            return
        try:
            if await _watch_until_done(ctx, kind, name, obj.metadata.resource_version, progress):
                return
        except grpc.RpcError as e:
            # The watch fell too far behind (compacted) or the server went away: start over from a get.
            if not is_code(e, grpc.StatusCode.OUT_OF_RANGE) and not is_code(e, grpc.StatusCode.UNAVAILABLE):
                raise
            await asyncio.sleep(1)


async def _watch_until_done(ctx: Context, kind: Kind, name: str, resource_version: str,
                            progress: _Progress) -> bool:
    async for event in ctx.client.watch(kind, ctx.namespace, field_selector=f"metadata.name={name}",
                                        resource_version=resource_version):
        if event.type == "DELETED":
            raise CommandError(f'{kind.singular} "{name}" was deleted')
        if event.type != "BOOKMARK" and progress.show(event.object):
            return True
    return False


# --- history and undo -------------------------------------------------------------------------------

async def owned_replicasets(ctx: Context, deployment) -> list:
    items, _ = await ctx.client.list_all("ReplicaSet", deployment.metadata.namespace)
    uid = deployment.metadata.uid
    return [rs for rs in items if any(o.uid == uid and o.controller for o in rs.metadata.owner_references)]


def revision_of(rs) -> int:
    try:
        return int(rs.metadata.annotations.get(ANNOTATION_REVISION, "0"))
    except ValueError:
        return 0


async def _revisions_of(ctx: Context, owner) -> dict:
    items, _ = await ctx.client.list_all("ControllerRevision", owner.metadata.namespace)
    return revs.owned_revisions(owner, items)


async def history(args, ctx: Context) -> None:
    kind, name = _target(args.resource)
    if kind.kind in revs.REVISION_KINDS:
        owner = await ctx.client.get(kind, name, ctx.namespace)
        ctx.stdout.write(revs.history_text(kind, owner, await _revisions_of(ctx, owner), args.revision))
        return
    d = await ctx.client.get("Deployment", name, ctx.namespace)
    by_revision = {revision_of(rs): rs for rs in await owned_replicasets(ctx, d) if revision_of(rs) > 0}
    if args.revision:
        rs = by_revision.get(args.revision)
        if rs is None:
            raise CommandError(f"unable to find the specified revision {args.revision}")
        ctx.out(f"deployment.apps/{name} with revision #{args.revision}")
        ctx.stdout.write(_template_text(rs))
        return
    rows = [["REVISION", "CHANGE-CAUSE"]]
    rows += [[str(r), by_revision[r].metadata.annotations.get(ANNOTATION_CHANGE_CAUSE, "<none>")]
             for r in sorted(by_revision)]
    ctx.out(f"deployment.apps/{name} ")
    ctx.stdout.write(render(rows, gap=2) + "\n")


def _template_text(rs) -> str:
    template = to_dict(rs.spec.template)
    template.get("metadata", {}).get("labels", {}).pop(LABEL_POD_TEMPLATE_HASH, None)
    return "Pod Template:\n" + "".join(f"  {line}\n" for line in to_yaml(template).splitlines())


async def _undo_revision(args, ctx: Context, kind: Kind, name: str) -> None:
    for attempt in range(5):
        owner = await ctx.client.get(kind, name, ctx.namespace)
        target = revs.rollback_target(await _revisions_of(ctx, owner), args.to_revision)
        template = revs.template_of(target)
        if template == owner.spec.template:
            ctx.out(f"{kind.qualified}/{name} skipped rollback (current template already matches revision "
                    f"{target.revision})")
            return
        owner.spec.template.CopyFrom(template)
        try:
            await ctx.client.update(owner)
            break
        except grpc.RpcError as e:
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == 4:
                raise
    ctx.out(f"{kind.qualified}/{name} rolled back")


async def undo(args, ctx: Context) -> None:
    kind, name = _target(args.resource)
    if kind.kind in revs.REVISION_KINDS:
        await _undo_revision(args, ctx, kind, name)
        return
    for attempt in range(5):
        d = await ctx.client.get("Deployment", name, ctx.namespace)
        rs = _rollback_target(d, await owned_replicasets(ctx, d), args.to_revision)
        template = type(rs.spec.template)()
        template.CopyFrom(rs.spec.template)
        template.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
        if template == d.spec.template:
            ctx.out(f"deployment.apps/{name} skipped rollback (current template already matches "
                    f"revision {revision_of(rs)})")
            return
        d.spec.template.CopyFrom(template)
        _copy_annotations(rs, d)
        try:
            await ctx.client.update(d)
            break
        except grpc.RpcError as e:
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == 4:
                raise
    ctx.out(f"deployment.apps/{name} rolled back")


def _rollback_target(d, replicasets: list, to_revision: int):
    if d.spec.paused:
        raise CommandError(f'you cannot rollback a paused deployment; resume it first with '
                           f'\'skiffctl rollout resume deployment/{d.metadata.name}\' and try again')
    by_revision = {revision_of(rs): rs for rs in replicasets if revision_of(rs) > 0}
    if to_revision:
        if to_revision not in by_revision:
            raise CommandError(f"unable to find specified revision {to_revision} in history")
        return by_revision[to_revision]
    revisions = sorted(by_revision)
    if not revisions:
        raise CommandError(f'no rollout history found for deployment "{d.metadata.name}"')
    if len(revisions) < 2:
        raise CommandError("no previous revision to roll back to")
    return by_revision[revisions[-2]]


def _copy_annotations(rs, d) -> None:
    for key in [k for k in d.metadata.annotations if k not in _NOT_COPIED]:
        if key not in rs.metadata.annotations:
            del d.metadata.annotations[key]
    for key, value in rs.metadata.annotations.items():
        if key not in _NOT_COPIED:
            d.metadata.annotations[key] = value


# --- restart, pause, resume -------------------------------------------------------------------------

async def _modify(ctx: Context, arg: str, change, verb: str = "") -> tuple[str, bool]:
    kind, name = _target(arg)
    if verb and kind.kind != "Deployment":
        raise CommandError(f'{kind.resource} "{name}" {verb} is not supported')
    for attempt in range(5):
        d = await ctx.client.get(kind, name, ctx.namespace)
        if not change(d):
            return name, False
        try:
            await ctx.client.update(d)
            return name, True
        except grpc.RpcError as e:
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == 4:
                raise
    return name, False


async def restart(args, ctx: Context) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def change(d) -> bool:
        d.spec.template.metadata.annotations[ANNOTATION_RESTARTED_AT] = stamp
        return True
    name, _ = await _modify(ctx, args.resource, change)
    ctx.out(f"{_target(args.resource)[0].qualified}/{name} restarted")


async def _set_paused(args, ctx: Context, paused: bool, verb: str) -> None:
    def change(d) -> bool:
        if d.spec.paused == paused:
            return False
        d.spec.paused = paused
        return True
    name, changed = await _modify(ctx, args.resource, change, "pausing" if paused else "resuming")
    ctx.out(f"deployment.apps/{name} {verb}" if changed else f"deployment.apps/{name} already {verb}")


async def pause(args, ctx: Context) -> None:
    await _set_paused(args, ctx, True, "paused")


async def resume(args, ctx: Context) -> None:
    await _set_paused(args, ctx, False, "resumed")

