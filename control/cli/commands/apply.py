"""`skiffctl apply -f FILE|DIR|-`: create or update objects from manifests."""

from __future__ import annotations

import argparse

import grpc
from google.protobuf.message import Message

from control.cli.context import Context
from control.cli.errors import describe_rpc_error, is_code
from control.cli.manifests import Document, load_paths, mapping_not_found
from control.cli.merge import normalize_secret, previous_applied, three_way, with_last_applied
from control.cli.schema import shape_errors
from control.client.conversion import to_served_version
from control.client.convert import ManifestError, from_dict, to_dict
from control.client.kinds import Kind, UnknownKindError, for_object
from control.client.wellknown import ANNOTATION_LAST_APPLIED

_CONFLICT_RETRIES = 5
SERVER_SIDE_MANAGER = "skiffctl"
CONFLICT_ADVICE = ("These fields have other managers: re-run with --force-conflicts to take them, leave them out "
                   "of the manifest to keep their managers, or apply their current values to share them.")


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("apply", parents=parents, help="Apply a configuration to a resource by file or stdin")
    p.add_argument("-f", "--filename", action="append", required=True, help="file, directory or - for stdin")
    p.add_argument("-R", "--recursive", action="store_true", help="process directories recursively")
    p.add_argument("--dry-run", choices=["none", "server", "client"], default="none", nargs="?", const="client")
    p.add_argument("--server-side", action="store_true",
                   help="apply on the server, which tracks who owns each field (metadata.managedFields)")
    p.add_argument("--force-conflicts", action="store_true",
                   help="with --server-side, take the fields other managers own instead of failing")
    p.add_argument("--field-manager", default=SERVER_SIDE_MANAGER, help="with --server-side, the manager's name")
    p.set_defaults(run=run)


async def run(args, ctx: Context) -> None:
    documents = load_paths(args.filename, args.recursive)
    if args.force_conflicts and not args.server_side:
        ctx.err("error: --force-conflicts only works with --server-side")
        return
    for doc in documents:
        if args.server_side:
            await apply_server_side(ctx, doc, args)
        else:
            await apply_document(ctx, doc, args.dry_run)


async def apply_server_side(ctx: Context, doc: Document, args) -> None:
    """`--server-side`: the manifest goes to the server's Apply as it is; conflicts come back as
    kubectl prints them."""
    if args.dry_run == "client":
        ctx.err("error: --dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)")
        return
    try:
        kind, manifest = prepare(ctx, doc)
    except ApplyError as e:
        ctx.err(str(e))
        return
    name = manifest["metadata"]["name"]
    try:
        await ctx.client.apply(kind, manifest, args.field_manager, args.force_conflicts, args.dry_run == "server")
    except grpc.RpcError as e:
        if is_code(e, grpc.StatusCode.ABORTED) and (e.details() or "").startswith("Apply failed"):
            ctx.err(f"error: {e.details()}\n{CONFLICT_ADVICE}")
        else:
            ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
        return
    suffix = " (server dry run)" if args.dry_run == "server" else ""
    ctx.out(f"{kind.qualified}/{name} serverside-applied{suffix}")


class ApplyError(Exception):
    pass


async def apply_document(ctx: Context, doc: Document, dry_run: str) -> None:
    try:
        kind, manifest = prepare(ctx, doc)
    except ApplyError as e:
        ctx.err(str(e))
        return
    name = manifest["metadata"]["name"]
    try:
        result = await _apply_with_retries(ctx, kind, manifest, dry_run)
    except grpc.RpcError as e:
        ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
        return
    except ManifestError as e:
        ctx.err(f'error: error validating "{doc.source}": {e}')
        return
    suffix = {"server": " (server dry run)", "client": " (dry run)"}.get(dry_run, "")
    ctx.out(f"{kind.qualified}/{name} {result}{suffix}")


def prepare(ctx: Context, doc: Document) -> tuple[Kind, dict]:
    """The document's kind and its canonical form (namespace filled in, stringData folded)."""
    data = to_served_version(doc.data)
    if not isinstance(data, dict):
        raise ApplyError(f'error: error validating "{doc.source}": an object must be a mapping')
    try:
        if not data.get("kind"):
            raise ManifestError("Object 'Kind' is missing")
        kind = for_object(str(data.get("apiVersion", "")), str(data.get("kind", "")))
        problems = shape_errors(data, kind.message.DESCRIPTOR)
        if problems:
            raise ManifestError(f'{kind.kind} "{_name_of(data)}": ' + "; ".join(problems))
        msg = from_dict(normalize_secret(data), kind)
    except UnknownKindError as e:
        raise ApplyError(mapping_not_found(doc, e)) from None
    except ManifestError as e:
        raise ApplyError(f'error: error validating "{doc.source}": {e}') from None
    _fill_namespace(ctx, kind, msg, doc)
    if not msg.metadata.name:
        raise ApplyError(f'error: error validating "{doc.source}": metadata.name: Required value '
                         "(apply needs a name; generateName works only with create)")
    manifest = to_dict(msg)
    manifest.pop("status", None)  # status is the server's to write; apply never sends it
    return kind, manifest


def _name_of(data: dict) -> str:
    meta = data.get("metadata")
    return str(meta.get("name", "")) if isinstance(meta, dict) else ""


def _fill_namespace(ctx: Context, kind: Kind, msg: Message, doc: Document) -> None:
    if not kind.namespaced:
        msg.metadata.ClearField("namespace")
        return
    if msg.metadata.namespace and ctx.namespace_given and msg.metadata.namespace != ctx.namespace:
        raise ApplyError(f'error: the namespace from the provided object "{msg.metadata.namespace}" does not '
                         f'match the namespace "{ctx.namespace}". You must pass '
                         f"'--namespace={msg.metadata.namespace}' to perform this operation.")
    if not msg.metadata.namespace:
        msg.metadata.namespace = ctx.namespace


async def _apply_with_retries(ctx: Context, kind: Kind, manifest: dict, dry_run: str) -> str:
    for attempt in range(_CONFLICT_RETRIES):
        try:
            return await apply_object(ctx, kind, manifest, dry_run)
        except grpc.RpcError as e:
            # Someone changed the object between our get and update: merge again on the new state.
            if not is_code(e, grpc.StatusCode.ABORTED) or attempt == _CONFLICT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


async def live_and_desired(ctx: Context, kind: Kind, manifest: dict) -> tuple[Message | None, Message]:
    """The object as it is (None if absent) and as applying the manifest would leave it."""
    meta = manifest["metadata"]
    desired = with_last_applied(manifest)
    try:
        live = await ctx.client.get(kind, meta["name"], meta.get("namespace", ""))
    except grpc.RpcError as e:
        if not is_code(e, grpc.StatusCode.NOT_FOUND):
            raise
        return None, from_dict(desired, kind)
    live_dict = to_dict(live)
    return live, from_dict(three_way(previous_applied(live_dict), desired, live_dict), kind)


async def apply_object(ctx: Context, kind: Kind, manifest: dict, dry_run: str) -> str:
    """'created', 'configured' or 'unchanged'."""
    live, merged = await live_and_desired(ctx, kind, manifest)
    if live is None:
        if dry_run != "client":
            await ctx.client.create(merged, dry_run=dry_run == "server")
        return "created"
    if ANNOTATION_LAST_APPLIED not in live.metadata.annotations and dry_run == "none":
        ctx.stderr.write(f"Warning: resource {kind.plural}/{live.metadata.name} is missing the "
                         f"{ANNOTATION_LAST_APPLIED} annotation which is required by skiffctl apply. "
                         "skiffctl apply should only be used on resources created declaratively by skiffctl "
                         "apply. The missing annotation will be patched automatically.\n")
    if merged == live:
        return "unchanged"
    if dry_run != "client":
        await ctx.client.update(merged, dry_run=dry_run == "server")
    return "configured"
