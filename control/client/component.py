"""What every leader-elected component's command shares: flag types, leader election flags, signals.

skiff-scheduler and skiff-controller-manager run the same way as their
Kubernetes counterparts: `--leader-elect` (default true) with a Lease in
kube-system; SIGTERM releases the lease and exits 0; losing it exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable

from control.client.client import Client
from control.client.kubeconfig import ClientConfig, ConfigError, load_client_config
from control.client.leaderelection import LeaderElector
from control.client.metrics import serve_metrics
from control.client.wellknown import NAMESPACE_SYSTEM

log = logging.getLogger(__name__)

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "t"):
        return True
    if value in ("false", "0", "no", "f"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def duration(text: str) -> float:
    """Seconds from a Go duration ("40s", "1m30s", "500ms") or a plain number of seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    total, number, i = 0.0, "", 0
    while i < len(text):
        if text[i].isdigit() or text[i] == ".":
            number += text[i]
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else text[i]
        if unit not in _UNITS or not number:
            raise argparse.ArgumentTypeError(f"invalid duration {text!r}")
        total += float(number) * _UNITS[unit]
        number, i = "", i + len(unit)
    if number or not text:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: missing unit")
    return total


def add_client_flags(p: argparse.ArgumentParser) -> None:
    """--kubeconfig (who we are, where the apiserver is) and --apiserver (overrides the file's server)."""
    p.add_argument("--kubeconfig", default=None,
                   help="the client config file (default: $SKIFFCONFIG, else ~/.skiff/config)")
    p.add_argument("--apiserver", default=os.environ.get("SKIFF_APISERVER") or None,
                   help="the apiserver's HOST:PORT (default: the kubeconfig's server)")


def client_config(args: argparse.Namespace) -> ClientConfig:
    """The config named by --kubeconfig with --apiserver applied; exits with a clear message if it is bad."""
    try:
        config = load_client_config(args.kubeconfig)
    except ConfigError as e:
        raise SystemExit(f"--kubeconfig: {e}") from None
    return dataclasses.replace(config, server=args.apiserver) if args.apiserver else config


def client_from_flags(args: argparse.Namespace, config: ClientConfig | None = None) -> Client:
    config = config or client_config(args)
    try:
        return Client(config.target, config=config)
    except ConfigError as e:
        raise SystemExit(f"--kubeconfig: {e}") from None


def add_leader_election_flags(p: argparse.ArgumentParser, resource_name: str) -> None:
    p.add_argument("--leader-elect", type=parse_bool, nargs="?", const=True, default=True)
    p.add_argument("--leader-elect-lease-duration", type=duration, default=15.0)
    p.add_argument("--leader-elect-renew-deadline", type=duration, default=10.0)
    p.add_argument("--leader-elect-retry-period", type=duration, default=2.0)
    p.add_argument("--leader-elect-resource-name", default=resource_name)
    p.add_argument("--leader-elect-resource-namespace", default=NAMESPACE_SYSTEM)
    p.add_argument("-v", "--v", type=int, default=1, help="log verbosity (0 warnings, 1 info, 2+ debug)")


def check_leader_election_flags(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.leader_elect and not (args.leader_elect_lease_duration > args.leader_elect_renew_deadline
                                  > args.leader_elect_retry_period > 0):
        p.error("need --leader-elect-lease-duration > --leader-elect-renew-deadline > "
                "--leader-elect-retry-period > 0")


async def run_elected(client: Client, args: argparse.Namespace, lead: Callable[[], Awaitable[None]],
                      host: str | None = None) -> int:
    """Runs lead() directly, or while holding the lease; 1 when the lease is lost."""
    try:
        if not args.leader_elect:
            await lead()
            return 0
        identity = f"{host or socket.gethostname()}_{uuid.uuid4()}"
        elector = LeaderElector(client, args.leader_elect_resource_name, identity,
                                args.leader_elect_resource_namespace, args.leader_elect_lease_duration,
                                args.leader_elect_renew_deadline, args.leader_elect_retry_period)
        await elector.run(lead)
        log.error("leaderelection lost")
        return 1
    finally:
        await client.close()


async def _until_signalled(run: Callable[[], Awaitable[int]]) -> int:
    task = asyncio.ensure_future(run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        return 0


def component_main(args: argparse.Namespace, run: Callable[[], Awaitable[int]]) -> None:
    """Runs the component; a standby serves its metrics too (--metrics-bind-address), as in Kubernetes."""
    level = logging.WARNING if args.v <= 0 else logging.INFO if args.v == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    metrics = serve_metrics(getattr(args, "metrics_bind_address", "0"))
    try:
        code = asyncio.run(_until_signalled(run))
    finally:
        if metrics is not None:
            metrics.close()
    sys.exit(code)
