"""`skiffctl create -f FILE | namespace | deployment | job | cronjob | configmap | secret generic | role |
clusterrole | rolebinding | clusterrolebinding`, and `replace -f`."""

from __future__ import annotations

import argparse
import base64
import os

import grpc

from control.cli.commands import create_batch, create_rbac
from control.cli.commands.apply import ApplyError, prepare
from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error
from control.cli.manifests import Document, load_paths
from control.client.convert import ManifestError, from_dict
from control.client.kinds import Kind, kind_of


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("create", parents=parents, help="Create a resource from a file or from arguments")
    p.add_argument("-f", "--filename", action="append", default=[])
    p.add_argument("-R", "--recursive", action="store_true")
    p.add_argument("--dry-run", choices=["none", "server"], default="none")
    p.set_defaults(run=create_from_files)
    kinds = p.add_subparsers(dest="create_kind", metavar="KIND")
    ns = kinds.add_parser("namespace", aliases=["ns"], parents=parents, help="Create a namespace")
    ns.add_argument("name")
    ns.set_defaults(run=create_namespace)
    d = kinds.add_parser("deployment", aliases=["deploy"], parents=parents, help="Create a deployment")
    d.add_argument("name")
    d.add_argument("--image", action="append", required=True)
    d.add_argument("--replicas", type=int, default=1)
    d.add_argument("--port", type=int, default=0)
    d.set_defaults(run=create_deployment)
    cm = kinds.add_parser("configmap", aliases=["cm"], parents=parents, help="Create a configmap")
    _data_flags(cm)
    cm.set_defaults(run=create_configmap)
    secret = kinds.add_parser("secret", parents=parents, help="Create a secret")
    secret_kinds = secret.add_subparsers(dest="secret_type", required=True)
    generic = secret_kinds.add_parser("generic", parents=parents, help="Create an Opaque secret")
    _data_flags(generic)
    generic.add_argument("--type", default="Opaque")
    generic.set_defaults(run=create_secret)
    create_batch.register(kinds, parents, _create)
    create_rbac.register(kinds, parents, create_built)
    r = sub.add_parser("replace", parents=parents, help="Replace a resource by file name or stdin")
    r.add_argument("-f", "--filename", action="append", required=True)
    r.add_argument("-R", "--recursive", action="store_true")
    r.set_defaults(run=replace_from_files)


def _data_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("--from-literal", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--from-file", action="append", default=[], metavar="[KEY=]PATH")


async def create_from_files(args, ctx: Context) -> None:
    if not args.filename:
        raise CommandError("must specify one of -f and -k, or a kind: namespace, deployment, configmap, secret")
    for doc in load_paths(args.filename, args.recursive):
        await _send(ctx, doc, "created", args.dry_run == "server")


async def replace_from_files(args, ctx: Context) -> None:
    for doc in load_paths(args.filename, args.recursive):
        await _send(ctx, doc, "replaced", False)


async def _send(ctx: Context, doc: Document, verb: str, dry_run: bool) -> None:
    try:
        kind, manifest = prepare(ctx, doc)
    except ApplyError as e:
        ctx.err(str(e))
        return
    name = manifest["metadata"]["name"]
    try:
        obj = from_dict(manifest, kind)
        if verb == "created":
            await ctx.client.create(obj, dry_run=dry_run)
        else:
            await _replace(ctx, kind, obj)
    except grpc.RpcError as e:
        ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
        return
    ctx.out(f"{kind.qualified}/{name} {verb}{' (server dry run)' if dry_run else ''}")


async def _replace(ctx: Context, kind: Kind, obj) -> None:
    if not obj.metadata.resource_version:  # like kubectl: replace the current version
        live = await ctx.client.get(kind, obj.metadata.name, obj.metadata.namespace)
        obj.metadata.resource_version = live.metadata.resource_version
    await ctx.client.update(obj)


async def _create(ctx: Context, data: dict) -> None:
    try:
        obj = from_dict(data)
    except ManifestError as e:
        raise CommandError(str(e)) from None
    kind_name, name = data["kind"], data["metadata"]["name"]
    try:
        created = await ctx.client.create(obj)
    except grpc.RpcError as e:
        ctx.err(describe_rpc_error(e, ctx.client.target, kind_name, name))
        return
    ctx.out(f"{kind_of(created).qualified}/{created.metadata.name} created")


async def create_built(args, ctx: Context) -> None:
    """A kind whose manifest args.build makes from the flags (create_rbac's)."""
    await _create(ctx, args.build(args, ctx.namespace, lambda text: ctx.stderr.write(text + "\n")))


async def create_namespace(args, ctx: Context) -> None:
    await _create(ctx, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.name}})


def _container_name(image: str) -> str:
    base = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return base or "container"


async def create_deployment(args, ctx: Context) -> None:
    labels = {"app": args.name}
    containers = [{"name": _container_name(image), "image": image} for image in args.image]
    if args.port:
        containers[0]["ports"] = [{"containerPort": args.port}]
    await _create(ctx, {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": args.name, "namespace": ctx.namespace, "labels": labels},
        "spec": {"replicas": args.replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}}})


def _data(args) -> dict[str, bytes]:
    data: dict[str, bytes] = {}
    for literal in args.from_literal:
        key, sep, value = literal.partition("=")
        if not sep or not key:
            raise CommandError(f"invalid literal source {literal}, expected key=value")
        data[key] = value.encode()
    for source in args.from_file:
        key, sep, path = source.partition("=")
        if not sep:
            key, path = os.path.basename(source), source
        try:
            with open(path, "rb") as f:
                data[key] = f.read()
        except OSError as e:
            raise CommandError(f"error reading {path}: {e.strerror}") from None
    return data


async def create_configmap(args, ctx: Context) -> None:
    data = _data(args)
    try:
        text = {k: v.decode() for k, v in data.items()}
    except UnicodeDecodeError:
        raise CommandError("binary file contents are not supported in configmaps here; use a secret") from None
    await _create(ctx, {"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": args.name, "namespace": ctx.namespace}, "data": text})


async def create_secret(args, ctx: Context) -> None:
    data = {k: base64.b64encode(v).decode() for k, v in _data(args).items()}
    await _create(ctx, {"apiVersion": "v1", "kind": "Secret", "type": args.type,
                        "metadata": {"name": args.name, "namespace": ctx.namespace}, "data": data})
