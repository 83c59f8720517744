"""`skiffctl create -f FILE | namespace | deployment | job | cronjob | configmap |
secret generic|tls|docker-registry | service clusterip|nodeport|loadbalancer|externalname | role | clusterrole |
rolebinding | clusterrolebinding | serviceaccount | token`, and `replace -f`."""

from __future__ import annotations

import argparse
import json

import grpc

from control.cli import generators
from control.cli.commands import create_batch, create_ingress, create_quota, create_rbac, create_token
from control.cli.commands.apply import ApplyError, prepare
from control.cli.commands.get import add_output_flag
from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error
from control.cli.manifests import Document, load_paths
from control.cli.printers import format_dicts, format_objects
from control.client.convert import ManifestError, from_dict
from control.client.kinds import Kind
from control.client.kinds import for_object as kind_for


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("create", parents=parents, help="Create a resource from a file or from arguments")
    p.add_argument("-f", "--filename", action="append", default=[])
    p.add_argument("-R", "--recursive", action="store_true")
    p.add_argument("--dry-run", choices=["none", "server"], default="none")
    p.set_defaults(run=create_from_files)
    kinds = p.add_subparsers(dest="create_kind", metavar="KIND")
    ns = kinds.add_parser("namespace", aliases=["ns"], parents=parents, help="Create a namespace")
    ns.add_argument("name")
    output_flags(ns)
    ns.set_defaults(run=create_namespace)
    d = kinds.add_parser("deployment", aliases=["deploy"], parents=parents, help="Create a deployment")
    d.add_argument("name")
    d.add_argument("--image", action="append", required=True)
    d.add_argument("--replicas", type=int, default=1)
    d.add_argument("--port", type=int, default=0)
    output_flags(d)
    d.set_defaults(run=create_deployment)
    cm = kinds.add_parser("configmap", aliases=["cm"], parents=parents, help="Create a configmap")
    _data_flags(cm)
    cm.set_defaults(run=create_configmap)
    _register_secrets(kinds, parents)
    _register_services(kinds, parents)
    create_batch.register(kinds, parents, _create)
    create_rbac.register(kinds, parents, create_built)
    for name in ("role", "clusterrole", "rolebinding", "clusterrolebinding"):
        output_flags(kinds.choices[name])
    create_quota.register(kinds, parents, create_built)
    output_flags(kinds.choices["quota"])
    create_ingress.register(kinds, parents, create_built)
    output_flags(kinds.choices["ingress"])
    create_token.register(kinds, parents, create_built)
    output_flags(kinds.choices["serviceaccount"])
    r = sub.add_parser("replace", parents=parents, help="Replace a resource by file name or stdin")
    r.add_argument("-f", "--filename", action="append", required=True)
    r.add_argument("-R", "--recursive", action="store_true")
    r.set_defaults(run=replace_from_files)


def output_flags(p: argparse.ArgumentParser) -> None:
    """kubectl's --dry-run and -o on the commands that make an object from flags."""
    p.add_argument("--dry-run", choices=["none", "server", "client"], default="none", nargs="?", const="client")
    add_output_flag(p)


def _register_secrets(kinds: argparse._SubParsersAction, parents: list) -> None:
    secret = kinds.add_parser("secret", parents=parents, help="Create a secret")
    secret_kinds = secret.add_subparsers(dest="secret_type", required=True)
    generic = secret_kinds.add_parser("generic", parents=parents, help="Create a secret from files or literals")
    _data_flags(generic)
    generic.add_argument("--type", default="")
    generic.set_defaults(run=create_secret)
    tls = secret_kinds.add_parser("tls", parents=parents, help="Create a TLS secret")
    tls.add_argument("name")
    tls.add_argument("--cert", default="")
    tls.add_argument("--key", default="")
    output_flags(tls)
    tls.set_defaults(run=create_tls_secret)
    reg = secret_kinds.add_parser("docker-registry", parents=parents, help="Create a secret for a registry")
    reg.add_argument("name")
    reg.add_argument("--docker-server", default=generators.DOCKER_HUB)
    reg.add_argument("--docker-username", default="")
    reg.add_argument("--docker-password", default="")
    reg.add_argument("--docker-email", default="")
    reg.add_argument("--from-file", action="append", default=[], metavar="[KEY=]PATH")
    output_flags(reg)
    reg.set_defaults(run=create_registry_secret)


def _register_services(kinds: argparse._SubParsersAction, parents: list) -> None:
    svc = kinds.add_parser("service", aliases=["svc"], parents=parents, help="Create a service")
    types = svc.add_subparsers(dest="service_type", required=True)
    for name, service_type in (("clusterip", "ClusterIP"), ("nodeport", "NodePort"),
                               ("loadbalancer", "LoadBalancer"), ("externalname", "ExternalName")):
        t = types.add_parser(name, parents=parents, help=f"Create a {service_type} service")
        t.add_argument("name")
        t.add_argument("--tcp", action="append", default=[], metavar="PORT:TARGET")
        if name == "clusterip":
            t.add_argument("--clusterip", default="", help='assign your own ClusterIP or "None" for headless')
        if name == "nodeport":
            t.add_argument("--node-port", type=int, default=0)
        if name == "externalname":
            t.add_argument("--external-name", required=True)
        output_flags(t)
        t.set_defaults(run=create_service, kind_type=service_type)


def _data_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("--from-literal", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--from-file", action="append", default=[], metavar="[KEY=]PATH")
    p.add_argument("--from-env-file", action="append", default=[], metavar="PATH")
    output_flags(p)


async def create_from_files(args, ctx: Context) -> None:
    if not args.filename:
        raise CommandError("must specify one of -f and -k, or a kind: namespace, deployment, configmap, secret, "
                           "service")
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


async def create_object(ctx: Context, args, data: dict, verb: str = "created") -> None:
    """kubectl's path for an object made from flags: --dry-run=client prints it (or `KIND/NAME created
    (dry run)`), otherwise the server creates it (--dry-run=server: validates it only); -o prints the result."""
    dry_run, output = getattr(args, "dry_run", "none"), getattr(args, "output", "")
    kind = kind_for(data["apiVersion"], data["kind"])
    name = data["metadata"]["name"]
    if dry_run == "client":
        if output:
            ctx.stdout.write(format_dicts([generators.kubectl_view(data)], output))
        else:
            ctx.out(f"{kind.qualified}/{name} {verb} (dry run)")
        return
    sent = json.loads(json.dumps(data))
    if kind.namespaced and not sent["metadata"].get("namespace"):
        sent["metadata"]["namespace"] = ctx.namespace
    try:
        obj = from_dict(sent, kind)
    except ManifestError as e:
        raise CommandError(str(e)) from None
    try:
        created = await ctx.client.create(obj, dry_run=dry_run == "server")
    except grpc.RpcError as e:
        ctx.err(describe_rpc_error(e, ctx.client.target, kind.kind, name))
        return
    if output:
        ctx.stdout.write(format_objects([created], output, as_list=False))
        return
    ctx.out(f"{kind.qualified}/{created.metadata.name} {verb}{' (server dry run)' if dry_run == 'server' else ''}")


async def _create(ctx: Context, data: dict) -> None:
    """An object made by a verb with no --dry-run or -o of its own (create job|cronjob)."""
    await create_object(ctx, argparse.Namespace(), data)


def given_namespace(ctx: Context) -> str:
    """The namespace kubectl writes into a made object: only one given with -n (else the context's, on send)."""
    return ctx.namespace if ctx.namespace_given else ""


async def create_built(args, ctx: Context) -> None:
    """A kind whose manifest args.build makes from the flags (create_rbac's)."""
    data = args.build(args, given_namespace(ctx), lambda text: ctx.stderr.write(text + "\n"))
    if not data["metadata"].get("namespace"):
        data["metadata"].pop("namespace", None)
    await create_object(ctx, args, data)


async def create_namespace(args, ctx: Context) -> None:
    await create_object(ctx, args, generators.namespace(args.name))


async def create_deployment(args, ctx: Context) -> None:
    await create_object(ctx, args, generators.deployment(args.name, args.image, args.replicas, args.port,
                                                         given_namespace(ctx)))


def _data(args, kind: str) -> dict[str, bytes]:
    return generators.data_sources(args.from_literal, args.from_file, args.from_env_file, kind, args.name)


async def create_configmap(args, ctx: Context) -> None:
    data = _data(args, "ConfigMap")
    await create_object(ctx, args, generators.configmap(args.name, data, given_namespace(ctx)))


async def create_secret(args, ctx: Context) -> None:
    data = _data(args, "Secret")
    await create_object(ctx, args, generators.secret(args.name, data, args.type, given_namespace(ctx)))


async def create_tls_secret(args, ctx: Context) -> None:
    await create_object(ctx, args, generators.tls_secret(args.name, args.cert, args.key, given_namespace(ctx)))


async def create_registry_secret(args, ctx: Context) -> None:
    await create_object(ctx, args, generators.docker_registry_secret(
        args.name, args.docker_server, args.docker_username, args.docker_password, args.docker_email,
        args.from_file, given_namespace(ctx)))


async def create_service(args, ctx: Context) -> None:
    await create_object(ctx, args, generators.service(
        args.name, args.kind_type, args.tcp, getattr(args, "clusterip", ""), getattr(args, "node_port", 0),
        getattr(args, "external_name", ""), given_namespace(ctx)))
