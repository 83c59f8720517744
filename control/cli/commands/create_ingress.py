"""`skiffctl create ingress NAME --rule=host/path=svc:port[,tls[=secret]] ...`, as kubectl's.

A path ending in `*` is a Prefix path (without the `*`), any other an Exact one; rules of one host
share its rule, and hosts whose rules ask for TLS are grouped by their Secret.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

from control.cli.errors import CommandError

_RULE = re.compile(r"^(?P<host>[\w*.\-]*)(?P<path>/[^=]*)=(?P<service>[\w\-]+):(?P<port>[\w\-]+)$")
_TLS = re.compile(r"^tls=?(?P<secret>[\w\-]+)?$")
RULE_FORMAT = "host/path=svcname:svcport[,tls[=secret]]"


def _port(text: str) -> dict:
    return {"number": int(text)} if text.isdigit() else {"name": text}


def _backend(service: str, port: str) -> dict:
    return {"service": {"name": service, "port": _port(port)}}


def _parse_rule(text: str) -> tuple[dict, str | None]:
    """(the rule's host, path and backend; its TLS secret, "" for TLS without one, None for none)."""
    main, _, tls = text.partition(",")
    m = _RULE.match(main)
    t = _TLS.match(tls) if tls else None
    if m is None or (tls and t is None):
        raise CommandError(f"rule {text} is invalid and should be in format {RULE_FORMAT}")
    path = m["path"]
    path_type = "Prefix" if path.endswith("*") else "Exact"
    rule = {"host": m["host"], "path": path.rstrip("*") or "/", "pathType": path_type,
            "backend": _backend(m["service"], m["port"])}
    return rule, (t["secret"] or "") if t else None


def ingress_manifest(args, namespace: str, warn: Callable[[str], None]) -> dict:
    rules: dict[str, list[dict]] = {}
    tls: dict[str, list[str]] = {}
    for text in args.rule:
        rule, secret = _parse_rule(text)
        rules.setdefault(rule.pop("host"), []).append(rule)
        if secret is not None:
            hosts = tls.setdefault(secret, [])
            host = text.partition("/")[0]
            if host and host not in hosts:
                hosts.append(host)
    spec: dict = {}
    if args.ingress_class:
        spec["ingressClassName"] = args.ingress_class
    if args.default_backend:
        service, sep, port = args.default_backend.partition(":")
        if not sep or not service or not port:
            raise CommandError("default-backend should be in format servicename:serviceport")
        spec["defaultBackend"] = _backend(service, port)
    if rules:
        spec["rules"] = [{**({"host": host} if host else {}), "http": {"paths": paths}}
                         for host, paths in rules.items()]
    if tls:
        spec["tls"] = [{**({"hosts": hosts} if hosts else {}), **({"secretName": secret} if secret else {})}
                       for secret, hosts in tls.items()]
    if not rules and not args.default_backend:
        raise CommandError("not enough information provided: every ingress has to either specify a default-backend "
                           "(which catches all traffic) or a list of rules (which catch specific paths)")
    annotations = dict(a.split("=", 1) for a in args.annotation)
    metadata: dict = {"name": args.name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec}


def register(kinds: argparse._SubParsersAction, parents: list, run: Callable) -> None:
    p = kinds.add_parser("ingress", aliases=["ing"], parents=parents, help="Create an ingress with the specified name")
    p.add_argument("name")
    p.add_argument("--rule", action="append", default=[], help=f"a rule in the format {RULE_FORMAT}")
    p.add_argument("--class", dest="ingress_class", default="", help="the IngressClass to use")
    p.add_argument("--default-backend", default="", help="svcname:port for requests no rule matches")
    p.add_argument("--annotation", action="append", default=[], help="an annotation as key=value")
    p.set_defaults(run=run, build=ingress_manifest)
