"""skiff-controller-manager: runs the controllers; leader-elected like kube-controller-manager.

Besides the client and leader election flags, its flags are the controllers' options: each
field of a controller's Options is a flag (`concurrent_gc_syncs` → `--concurrent-gc-syncs`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import socket

from control.client.component import (
    add_client_flags,
    add_leader_election_flags,
    check_leader_election_flags,
    client_from_flags,
    component_main,
    duration,
    parse_bool,
    run_elected,
)
from control.client.metrics import add_metrics_flag
from control.controllers.manager import CONTROLLERS, ControllerManager, enabled_controllers, option_fields

log = logging.getLogger("skiff-controller-manager")

__all__ = ["duration", "main", "parse_args"]


def _controllers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        enabled_controllers(names)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return names


def _add_option_flag(p: argparse.ArgumentParser, f: dataclasses.Field) -> None:
    flag = "--" + f.name.replace("_", "-")
    parse = f.metadata.get("parse") or type(f.default)
    help_text = f"{f.metadata.get('help', '')} (default {f.default})"
    if parse is bool or parse is parse_bool:
        p.add_argument(flag, type=parse_bool, nargs="?", const=True, default=f.default, help=help_text)
    else:
        p.add_argument(flag, type=parse, default=f.default, help=help_text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-controller-manager", description=__doc__)
    add_client_flags(p)
    p.add_argument("--controllers", type=_controllers, default=["*"],
                   help=f"comma-separated: '*' for all, 'foo' enables, '-foo' disables "
                        f"(known: {', '.join(CONTROLLERS)})")
    for f in option_fields().values():
        _add_option_flag(p, f)
    add_metrics_flag(p, "127.0.0.1:10252")
    add_leader_election_flags(p, "kube-controller-manager")
    args = p.parse_args(argv)
    check_leader_election_flags(p, args)
    return args


def options(args: argparse.Namespace) -> dict:
    """The controllers' options from the parsed flags."""
    return {name: getattr(args, name) for name in option_fields()}


async def run(args: argparse.Namespace) -> int:
    client = client_from_flags(args)
    host = socket.gethostname()
    manager = ControllerManager(client, args.controllers, options=options(args), host=host)
    return await run_elected(client, args, manager.run, host)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    component_main(args, lambda: run(args))


if __name__ == "__main__":
    main()
