"""`skiffctl version [--client] [-o json|yaml]` and `skiffctl cluster-info`, as kubectl's."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import grpc
from google.protobuf import json_format

from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error
from control.cli.printers import to_json, to_yaml
from control.client.version import version_info

CLUSTER_SERVICE_LABEL = "kubernetes.io/cluster-service"
_GREEN, _YELLOW, _RESET = "\x1b[0;32m", "\x1b[0;33m", "\x1b[0m"


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    v = sub.add_parser("version", parents=parents, help="Print the client and server version information")
    v.add_argument("--client", action="store_true", help="client version only (no server required)")
    v.add_argument("-o", "--output", default="", help="one of 'yaml' or 'json'")
    v.set_defaults(run=version)
    c = sub.add_parser("cluster-info", parents=parents, help="Display cluster information")
    c.set_defaults(run=cluster_info)


async def version(args, ctx: Context) -> None:
    if args.output not in ("", "json", "yaml"):
        raise CommandError("--output must be 'yaml' or 'json'")
    report: dict[str, Any] = {"clientVersion": version_info()}
    failure = ""
    if not args.client:
        try:
            info = await ctx.client.server_version()
            report["serverVersion"] = json_format.MessageToDict(info, always_print_fields_with_no_presence=True)
        except grpc.RpcError as e:
            failure = describe_rpc_error(e, ctx.client.target)
    if args.output == "json":
        ctx.stdout.write(to_json(report))
    elif args.output == "yaml":
        ctx.stdout.write(to_yaml(report))
    else:
        ctx.out(f"Client Version: {report['clientVersion']['gitVersion']}")
        if "serverVersion" in report:
            ctx.out(f"Server Version: {report['serverVersion']['gitVersion']}")
    skew = _skew_warning(report)
    if skew:
        ctx.stderr.write(skew)
    if failure:
        ctx.err(failure)


def _skew_warning(report: dict[str, Any]) -> str:
    server = report.get("serverVersion")
    if not server:
        return ""
    try:
        client_minor, server_minor = (int(v["minor"].rstrip("+")) for v in (report["clientVersion"], server))
    except ValueError:
        return ""
    if abs(client_minor - server_minor) <= 1:
        return ""
    return (f"WARNING: version difference between client ({report['clientVersion']['major']}.{client_minor}) "
            f"and server ({server['major']}.{server_minor}) exceeds the supported minor version skew of +/-1\n")


def _color(text: str, code: str, tty: bool) -> str:
    return f"{code}{text}{_RESET}" if tty else text


def server_url(ctx: Context) -> str:
    scheme = "http" if ctx.config.insecure else "https"
    return ",".join(f"{scheme}://{s.strip().split('://', 1)[-1]}" for s in ctx.config.server.split(","))


async def cluster_info(args, ctx: Context) -> None:
    """The control plane's address, then every kube-system Service labelled as a cluster service."""
    tty = ctx.stdout is sys.stdout and sys.stdout.isatty()
    url = server_url(ctx)
    await ctx.client.server_version()  # kubectl reaches the server first; an unreachable one is an error
    lines = [_service_line("Kubernetes control plane", url, tty)]
    services, _ = await ctx.client.list_all("Service", "kube-system", label_selector=f"{CLUSTER_SERVICE_LABEL}=true")
    for svc in services:
        name = svc.metadata.labels.get("kubernetes.io/name") or svc.metadata.name
        lines.append(_service_line(name, f"{url.split(',')[0]}{_proxy_path(svc)}", tty))
    ctx.out("\n".join(lines))
    ctx.out("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.")


def _proxy_path(svc) -> str:
    """The apiserver's service proxy path kubectl prints: [https:]NAME[:PORT-NAME]."""
    name = svc.metadata.name
    if svc.spec.ports:
        port = svc.spec.ports[0]
        if port.port == 443 or port.name == "https":
            name = f"https:{name}"
        if port.name:
            name = f"{name}:{port.name}"
    return f"/api/v1/namespaces/kube-system/services/{name}/proxy"


def _service_line(name: str, link: str, tty: bool) -> str:
    return f"{_color(name, _GREEN, tty)} is running at {_color(link, _YELLOW, tty)}"
