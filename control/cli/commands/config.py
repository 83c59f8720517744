"""`skiffctl config view|get-contexts|get-clusters|get-users|current-context|use-context|set-context|
set-cluster|set-credentials|delete-context|delete-cluster|delete-user|rename-context`, as kubectl config:
they read and edit the client config file (--kubeconfig, else $SKIFFCONFIG, else ~/.skiff/config) and
never call the server. A file in Skiff's flat format is edited as the kubeconfig it stands for (one
cluster, user and context named `default`)."""

from __future__ import annotations

import argparse
import base64
import os
import sys
from typing import TextIO

import yaml

from control.cli.errors import CommandError
from control.cli.jsonpath import JSONPathError
from control.cli.jsonpath import render as render_jsonpath
from control.cli.printers import to_json, to_yaml
from control.cli.tables import render
from control.client import kubeconfig_doc as kd
from control.client.kubeconfig import ConfigError, config_path, read_config_file


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    c = sub.add_parser("config", parents=parents, help="Modify the client config file")
    verbs = c.add_subparsers(dest="config_verb", required=True, metavar="SUBCOMMAND")
    v = verbs.add_parser("view", parents=parents, help="Display merged kubeconfig settings")
    v.add_argument("--minify", action="store_true", help="only the current context's information")
    v.add_argument("--raw", action="store_true", help="show embedded data and secrets")
    v.add_argument("--flatten", action="store_true", help="embed the files the config names")
    v.add_argument("-o", "--output", default="yaml", help="yaml, json or jsonpath=TEMPLATE")
    v.set_defaults(offline=view)
    g = verbs.add_parser("get-contexts", parents=parents, help="Describe one or many contexts")
    g.add_argument("names", nargs="*")
    g.add_argument("-o", "--output", choices=["", "name"], default="")
    g.add_argument("--no-headers", action="store_true")
    g.set_defaults(offline=get_contexts)
    for verb, section in (("get-clusters", "clusters"), ("get-users", "users")):
        p = verbs.add_parser(verb, parents=parents, help=f"Display {section} defined in the kubeconfig")
        p.set_defaults(offline=get_names, section=section)
    verbs.add_parser("current-context", parents=parents, help="Display the current-context").set_defaults(
        offline=current_context)
    u = verbs.add_parser("use-context", aliases=["use"], parents=parents, help="Set the current-context")
    u.add_argument("name")
    u.set_defaults(offline=use_context)
    _register_setters(verbs, parents)
    for verb, section in (("delete-context", "contexts"), ("delete-cluster", "clusters"), ("delete-user", "users")):
        p = verbs.add_parser(verb, parents=parents, help=f"Delete one of {section} from the kubeconfig")
        p.add_argument("name")
        p.set_defaults(offline=delete_entry, section=section)
    r = verbs.add_parser("rename-context", parents=parents, help="Rename a context")
    r.add_argument("name")
    r.add_argument("new_name")
    r.set_defaults(offline=rename_context)


def _register_setters(verbs: argparse._SubParsersAction, parents: list) -> None:
    s = verbs.add_parser("set-context", parents=parents, help="Set a context entry in kubeconfig")
    s.add_argument("name", nargs="?", default="")
    s.add_argument("--current", action="store_true", help="modify the current context")
    s.add_argument("--cluster")
    s.add_argument("--user")
    s.set_defaults(offline=set_context)  # --namespace is the global -n/--namespace flag
    cl = verbs.add_parser("set-cluster", parents=parents, help="Set a cluster entry in kubeconfig")
    cl.add_argument("name")
    cl.add_argument("--tls-server-name")
    cl.add_argument("--embed-certs", action="store_true")
    cl.set_defaults(offline=set_cluster)  # --server and --certificate-authority are the global flags
    cr = verbs.add_parser("set-credentials", parents=parents, help="Set a user entry in kubeconfig")
    cr.add_argument("name")
    cr.add_argument("--username")
    cr.add_argument("--password")
    cr.add_argument("--embed-certs", action="store_true")
    cr.set_defaults(offline=set_credentials)  # --token, --client-certificate, --client-key: global flags


class ConfigFile:
    """The config file as a kubeconfig document, and where to write it back."""

    def __init__(self, path: str | None) -> None:
        self.path = path or config_path()
        data = read_config_file(self.path)
        self.doc = kd.normalized(data) if data is None or kd.is_document(data) else kd.from_flat(data)

    def save(self) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        text = yaml.safe_dump(kd.for_printing(self.doc, json_order=False), sort_keys=True, default_flow_style=False)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)


def run_offline(args, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        cfg = ConfigFile(args.kubeconfig)
        args.offline(args, cfg, out, err)
    except (CommandError, ConfigError, kd.DocumentError, JSONPathError) as e:
        err.write(f"error: {e}\n")
        return 1
    return 0


def view(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    doc = cfg.doc
    if args.minify:
        doc = kd.minified(doc)
    if args.flatten:
        doc = kd.flattened(doc, os.path.dirname(os.path.abspath(cfg.path)))
    if not args.raw and not args.flatten:
        doc = kd.redacted(doc)
    if args.output == "json":
        out.write(to_json(kd.for_printing(doc, json_order=True)))
    elif args.output.startswith("jsonpath="):
        out.write(render_jsonpath(args.output.split("=", 1)[1], kd.for_printing(doc, json_order=True)))
    elif args.output == "yaml":
        out.write(to_yaml(kd.for_printing(doc, json_order=False)))
    else:
        raise CommandError(f'unable to match a printer suitable for the output format "{args.output}", allowed '
                           "formats are: json,jsonpath,yaml")


def get_contexts(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    doc = cfg.doc
    entries = [e for e in doc["contexts"] if isinstance(e, dict)]
    missing = [n for n in args.names if not any(e.get("name") == n for e in entries)]
    if args.names:
        entries = [e for e in entries if e.get("name") in args.names]
    if args.output == "name":
        out.write("".join(f"{e.get('name')}\n" for e in entries))
    else:
        rows = [] if args.no_headers else [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
        for e in sorted(entries, key=lambda e: e.get("name", "")):
            body = e.get("context") or {}
            current = "*" if e.get("name") == doc["current-context"] else ""
            rows.append([current, e.get("name", ""), body.get("cluster", ""), body.get("user", ""),
                         body.get("namespace", "")])
        out.write(render(rows))
    if missing:
        raise CommandError(f"context {missing[0]} not found")


def get_names(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    names = sorted(e.get("name", "") for e in cfg.doc[args.section] if isinstance(e, dict))
    out.write("".join(f"{n}\n" for n in ["NAME", *names]))


def current_context(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    if not cfg.doc["current-context"]:
        raise CommandError("current-context is not set")
    out.write(f"{cfg.doc['current-context']}\n")


def use_context(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    if kd.find(cfg.doc, "contexts", args.name) is None:
        raise CommandError(f'no context exists with the name: "{args.name}"')
    cfg.doc["current-context"] = args.name
    cfg.save()
    out.write(f'Switched to context "{args.name}".\n')


def set_context(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    if args.current and args.name:
        raise CommandError("you cannot specify both a context name and --current")
    name = cfg.doc["current-context"] if args.current else args.name
    if args.current and not name:
        raise CommandError("no current context is set")
    if not name:
        raise CommandError("you must specify a non-empty context name or --current")
    body, made = kd.ensure(cfg.doc, "contexts", name)
    for key, value in (("cluster", args.cluster), ("user", args.user), ("namespace", args.namespace)):
        if value is not None:
            _set(body, key, value)
    cfg.save()
    out.write(f'Context "{name}" {"created" if made else "modified"}.\n')


def _set(body: dict, key: str, value: str) -> None:
    """kubectl's setters: an empty value removes the field."""
    if value:
        body[key] = value
    else:
        body.pop(key, None)


def _embed(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return base64.b64encode(f.read()).decode()
    except OSError as e:
        raise CommandError(f"error reading {path}: {(e.strerror or str(e)).lower()}") from None


def _file_field(body: dict, key: str, path: str | None, embed: bool) -> None:
    if path is None:
        return
    if embed:
        body.pop(key, None)
        body[f"{key}-data"] = _embed(path)
    else:
        body.pop(f"{key}-data", None)
        _set(body, key, os.path.abspath(path) if path else "")


def set_cluster(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    body, _ = kd.ensure(cfg.doc, "clusters", args.name)
    if args.embed_certs and not args.certificate_authority:
        raise CommandError("you must specify a --certificate-authority to embed")
    if args.server is not None:
        _set(body, "server", args.server)
    if args.tls_server_name is not None:
        _set(body, "tls-server-name", args.tls_server_name)
    _file_field(body, "certificate-authority", args.certificate_authority, args.embed_certs)
    cfg.save()
    out.write(f'Cluster "{args.name}" set.\n')


def set_credentials(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    body, _ = kd.ensure(cfg.doc, "users", args.name)
    if args.token is not None:
        _set(body, "token", args.token)
    for key in ("username", "password"):
        if getattr(args, key) is not None:
            _set(body, key, getattr(args, key))
    _file_field(body, "client-certificate", args.client_certificate, args.embed_certs)
    _file_field(body, "client-key", args.client_key, args.embed_certs)
    cfg.save()
    out.write(f'User "{args.name}" set.\n')


def delete_entry(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    singular = args.section[:-1]
    if not kd.remove(cfg.doc, args.section, args.name):
        raise CommandError(f"cannot delete {singular} {args.name}, not in {cfg.path}")
    if args.section == "contexts" and cfg.doc["current-context"] == args.name:
        err.write('warning: this removed your active context, use "skiffctl config use-context" to select a '
                  "different one\n")
    cfg.save()
    out.write(f"deleted {singular} {args.name} from {cfg.path}\n")


def rename_context(args, cfg: ConfigFile, out: TextIO, err: TextIO) -> None:
    if kd.find(cfg.doc, "contexts", args.name) is None:
        raise CommandError(f"cannot rename the context {args.name!r}, it's not in {cfg.path}")
    if kd.find(cfg.doc, "contexts", args.new_name) is not None:
        raise CommandError(f"cannot rename the context {args.name!r}, the context {args.new_name!r} already "
                           f"exists in {cfg.path}")
    for entry in cfg.doc["contexts"]:
        if entry.get("name") == args.name:
            entry["name"] = args.new_name
    if cfg.doc["current-context"] == args.name:
        cfg.doc["current-context"] = args.new_name
    cfg.save()
    out.write(f'Context "{args.name}" renamed to "{args.new_name}".\n')
