"""`skiffctl create quota NAME --hard=pods=2,requests.cpu=1 --scopes=BestEffort`, as kubectl's."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from control.cli.errors import CommandError
from control.client.quantity import parse_quantity


def _hard(spec: str) -> dict[str, str]:
    hard: dict[str, str] = {}
    for statement in spec.split(",") if spec else []:
        parts = statement.split("=")
        if len(parts) != 2:
            raise CommandError(f"Invalid argument syntax {statement}, expected <resource>=<value>")
        try:
            parse_quantity(parts[1])
        except ValueError as e:
            raise CommandError(str(e)) from None
        hard[parts[0]] = parts[1]
    return hard


def _scopes(spec: str) -> list[str]:
    scopes = spec.split(",") if spec else []
    if "" in scopes:
        raise CommandError('invalid resource quota scope ""')
    return scopes  # the apiserver checks them


def quota_manifest(args, namespace: str, warn: Callable[[str], None]) -> dict:
    spec: dict = {}
    if hard := _hard(args.hard):
        spec["hard"] = hard
    if scopes := _scopes(args.scopes):
        spec["scopes"] = scopes
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": args.name, "namespace": namespace},
            "spec": spec}


def register(kinds: argparse._SubParsersAction, parents: list, run: Callable) -> None:
    p = kinds.add_parser("quota", aliases=["resourcequota"], parents=parents,
                         help="Create a quota with the specified name")
    p.add_argument("name")
    p.add_argument("--hard", default="", help="resource=value pairs, comma separated")
    p.add_argument("--scopes", default="", help="quota scopes, comma separated")
    p.set_defaults(run=run, build=quota_manifest)
