"""skiff-controller-manager: runs the controllers; leader-elected like kube-controller-manager."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import uuid

from control.client.client import Client
from control.client.leaderelection import LeaderElector
from control.controllers.manager import CONTROLLERS, ControllerManager, enabled_controllers

log = logging.getLogger("skiff-controller-manager")

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _bool(text: str) -> bool:
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


def _controllers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        enabled_controllers(names)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-controller-manager", description=__doc__)
    p.add_argument("--apiserver", default=os.environ.get("SKIFF_APISERVER", "127.0.0.1:6443"),
                   help="the apiserver's HOST:PORT")
    p.add_argument("--controllers", type=_controllers, default=["*"],
                   help=f"comma-separated: '*' for all, 'foo' enables, '-foo' disables "
                        f"(known: {', '.join(CONTROLLERS)})")
    p.add_argument("--concurrent-deployment-syncs", type=int, default=5)
    p.add_argument("--concurrent-replicaset-syncs", type=int, default=5)
    p.add_argument("--concurrent-endpoint-syncs", type=int, default=5)
    p.add_argument("--concurrent-gc-syncs", type=int, default=20)
    p.add_argument("--concurrent-namespace-syncs", type=int, default=10)
    p.add_argument("--node-monitor-period", type=duration, default=5.0)
    p.add_argument("--node-monitor-grace-period", type=duration, default=40.0)
    p.add_argument("--node-startup-grace-period", type=duration, default=60.0)
    p.add_argument("--cluster-cidr", default="10.244.0.0/16")
    p.add_argument("--node-cidr-mask-size", type=int, default=24)
    p.add_argument("--allocate-node-cidrs", type=_bool, nargs="?", const=True, default=True)
    p.add_argument("--leader-elect", type=_bool, nargs="?", const=True, default=True)
    p.add_argument("--leader-elect-lease-duration", type=duration, default=15.0)
    p.add_argument("--leader-elect-renew-deadline", type=duration, default=10.0)
    p.add_argument("--leader-elect-retry-period", type=duration, default=2.0)
    p.add_argument("--leader-elect-resource-name", default="kube-controller-manager")
    p.add_argument("--leader-elect-resource-namespace", default="kube-system")
    p.add_argument("-v", "--v", type=int, default=1, help="log verbosity (0 warnings, 1 info, 2+ debug)")
    args = p.parse_args(argv)
    if args.leader_elect and not (args.leader_elect_lease_duration > args.leader_elect_renew_deadline
                                  > args.leader_elect_retry_period > 0):
        p.error("need --leader-elect-lease-duration > --leader-elect-renew-deadline > "
                "--leader-elect-retry-period > 0")
    return args


def _options(args: argparse.Namespace) -> dict:
    return {
        "concurrent_deployment_syncs": args.concurrent_deployment_syncs,
        "concurrent_replicaset_syncs": args.concurrent_replicaset_syncs,
        "concurrent_endpoint_syncs": args.concurrent_endpoint_syncs,
        "concurrent_gc_syncs": args.concurrent_gc_syncs,
        "concurrent_namespace_syncs": args.concurrent_namespace_syncs,
        "node_monitor_period": args.node_monitor_period,
        "node_monitor_grace_period": args.node_monitor_grace_period,
        "node_startup_grace_period": args.node_startup_grace_period,
        "cluster_cidr": args.cluster_cidr,
        "node_cidr_mask_size": args.node_cidr_mask_size,
        "allocate_node_cidrs": args.allocate_node_cidrs,
    }


async def run(args: argparse.Namespace) -> int:
    client = Client(args.apiserver)
    host = socket.gethostname()
    manager = ControllerManager(client, args.controllers, options=_options(args), host=host)
    try:
        if not args.leader_elect:
            await manager.run()
            return 0
        identity = f"{host}_{uuid.uuid4()}"
        elector = LeaderElector(client, args.leader_elect_resource_name, identity,
                                args.leader_elect_resource_namespace, args.leader_elect_lease_duration,
                                args.leader_elect_renew_deadline, args.leader_elect_retry_period)
        await elector.run(manager.run)
        log.error("leaderelection lost")
        return 1
    finally:
        await client.close()


async def _main(args: argparse.Namespace) -> int:
    task = asyncio.create_task(run(args))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        return 0


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    level = logging.WARNING if args.v <= 0 else logging.INFO if args.v == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(_main(args)))


if __name__ == "__main__":
    main()
