"""`skiffctl taint nodes NAME key=value:Effect | key:Effect- | key-`, with kubectl's rules and messages
(kubectl's pkg/cmd/taint): a taint is matched by key and effect; adding one a node already has needs
--overwrite; removing one the node lacks is an error."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import grpc

from control.cli import errors
from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error, is_code
from control.client.convert import from_dict, to_dict
from control.client.kinds import lookup
from control.client.selectors import label_value_errors, qualified_name_errors

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TAINTED, UNTAINTED, MODIFIED = "tainted", "untainted", "modified"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str = ""
    effect: str = ""

    def text(self) -> str:
        """Kubernetes' Taint.ToString."""
        if not self.effect:
            return f"{self.key}={self.value}:" if self.value else self.key
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"

    def matches(self, other: dict) -> bool:
        return self.key == other.get("key", "") and self.effect == other.get("effect", "")


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("taint", parents=parents, help="Update the taints on one or more nodes",
                       usage="skiffctl taint NODE NAME KEY_1=VAL_1:TAINT_EFFECT_1 ... KEY_N=VAL_N:TAINT_EFFECT_N")
    p.add_argument("args", nargs="+")
    p.add_argument("--overwrite", action="store_true",
                   help="allow taints to be overwritten, otherwise reject updates that overwrite existing taints")
    p.add_argument("-l", "--selector", default="")
    p.add_argument("--all", action="store_true", help="select all nodes in the cluster")
    p.set_defaults(run=taint, intermixed="args")


def UsageError(message: str) -> errors.UsageError:  # noqa: N802 - raised like the class it makes
    return errors.UsageError(message, "taint")


def parse_taint(spec: str) -> Taint:
    """`key=value:effect`, `key:effect` or `key`."""
    parts = spec.split(":")
    value = effect = ""
    if len(parts) == 1:
        key = parts[0]
    elif len(parts) == 2:
        effect = parts[1]
        if effect not in EFFECTS:
            raise UsageError(f"invalid taint effect: {effect}, unsupported taint effect")
        kv = parts[0].split("=")
        if len(kv) > 2:
            raise UsageError(f"invalid taint spec: {spec}")
        key = kv[0]
        if len(kv) == 2:
            value = kv[1]
            if errs := label_value_errors(value):
                raise UsageError(f"invalid taint spec: {spec}, {'; '.join(errs)}")
    else:
        raise UsageError(f"invalid taint spec: {spec}")
    if errs := qualified_name_errors(key):
        raise UsageError(f"invalid taint spec: {spec}, {'; '.join(errs)}")
    return Taint(key, value, effect)


def parse_taints(specs: list[str]) -> tuple[list[Taint], list[Taint]]:
    """(taints to add, taints to remove); a removal may omit the effect (every taint with the key)."""
    add: list[Taint] = []
    remove: list[Taint] = []
    for spec in specs:
        if spec.endswith("-"):
            t = parse_taint(spec[:-1])
            remove.append(Taint(t.key, "", t.effect))
            continue
        t = parse_taint(spec)
        if not t.effect:
            raise UsageError(f"invalid taint spec: {spec}")
        if any(a.key == t.key and a.effect == t.effect for a in add):
            raise UsageError(f"duplicated taints with the same key and effect: {{{t.key} {t.value} {t.effect} <nil>}}")
        add.append(t)
    return add, remove


def split_args(words: list[str]) -> tuple[list[str], list[str]]:
    """Resources first, then taint changes (anything with `=`, `:` or a trailing `-`)."""
    resources: list[str] = []
    changes: list[str] = []
    for word in words:
        is_taint = "=" in word or ":" in word or word.endswith("-")
        if is_taint:
            changes.append(word)
        elif changes:
            raise CommandError(f"all resources must be specified before taint changes: {word}")
        else:
            resources.append(word)
    if not resources:
        raise CommandError("one or more resources must be specified as <resource> <name>")
    if not changes:
        raise CommandError("at least one taint update is required")
    return resources, changes


def check_conflicts(add: list[Taint], remove: list[Taint]) -> None:
    conflicts = [f"{r.key}={r.effect}" for a in add for r in remove
                 if a.key == r.key and (not r.effect or a.effect == r.effect)]
    if conflicts:
        raise CommandError("can not both modify and remove the following taint(s) in the same command: "
                           + ", ".join(conflicts))


def reorganize(node_name: str, current: list[dict], add: list[Taint], remove: list[Taint],
               overwrite: bool) -> tuple[str, list[dict]]:
    """The node's new taints and kubectl's word for the change (tainted, untainted, modified)."""
    if not overwrite:
        existing = [t.key for t in add for old in current if t.matches(old)]
        if existing:
            raise CommandError(f"node {node_name} already has {','.join(existing)} taint(s) with same effect(s) "
                               "and --overwrite is false")
    new = [_as_dict(t) for t in add]
    kept = [old for old in current if not any(t.matches(old) for t in add)]
    added = len(kept) + len(new) != len(current)
    new += kept
    missing: list[str] = []
    deleted = False
    for r in remove:
        before = len(new)
        new = [t for t in new if not (t.get("key", "") == r.key and (not r.effect or t.get("effect", "") == r.effect))]
        deleted = len(new) != before
        if not deleted:
            missing.append(f'taint "{r.text()}" not found')
    if missing:
        raise CommandError(missing[0] if len(missing) == 1 else "[" + ", ".join(missing) + "]")
    if (added and deleted) or overwrite:
        return MODIFIED, new
    return (TAINTED if added else UNTAINTED), new


def _as_dict(t: Taint) -> dict:
    return {k: v for k, v in (("key", t.key), ("value", t.value), ("effect", t.effect)) if v}


async def taint(args, ctx: Context) -> None:
    resources, changes = split_args(args.args)
    add, remove = parse_taints(changes)
    kind = lookup(resources[0])
    if kind.kind != "Node":
        raise CommandError(f"invalid resource type {resources[0].lower()}, only node types are supported")
    check_conflicts(add, remove)
    if args.all and args.selector:
        raise CommandError("setting 'all' parameter with a non empty selector is prohibited")
    names = resources[1:]
    if not args.all and not args.selector:
        if not names:
            raise CommandError("at least one resource name must be specified since 'all' parameter is not set")
    else:
        nodes, _ = await ctx.client.list_all("Node", label_selector=args.selector)
        names = [n.metadata.name for n in nodes]
    for name in names:
        try:
            operation = await _taint_node(ctx, name, add, remove, args.overwrite)
        except grpc.RpcError as e:
            ctx.err(describe_rpc_error(e, ctx.client.target, "Node", name))
            continue
        ctx.out(f"node/{name} {operation}")


async def _taint_node(ctx: Context, name: str, add: list[Taint], remove: list[Taint], overwrite: bool) -> str:
    for attempt in range(5):
        node = to_dict(await ctx.client.get("Node", name))
        spec = node.setdefault("spec", {})
        operation, spec["taints"] = reorganize(name, spec.get("taints", []), add, remove, overwrite)
        try:
            await ctx.client.update(from_dict(node))
            return operation
        except grpc.RpcError as e:
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == 4:
                raise
    return ""
