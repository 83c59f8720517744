"""skiff-scheduler: binds pending pods to nodes; leader-elected like kube-scheduler."""

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
from control.scheduler.scheduler import DEFAULT_SCHEDULER_NAME, Scheduler

log = logging.getLogger("skiff-scheduler")


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "t"):
        return True
    if value in ("false", "0", "no", "f"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def _seconds(text: str) -> float:
    """Durations as Kubernetes flags take them: "15s", "1m30s", "500ms" or plain seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    try:
        return float(text)
    except ValueError:
        pass
    total, number = 0.0, ""
    i = 0
    while i < len(text):
        if text[i].isdigit() or text[i] == ".":
            number += text[i]
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else text[i]
        if unit not in units or not number:
            raise argparse.ArgumentTypeError(f"invalid duration {text!r}")
        total += float(number) * units[unit]
        number, i = "", i + len(unit)
    if number:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: missing unit")
    return total


def _percentage(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-scheduler", description=__doc__)
    p.add_argument("--apiserver", default=os.environ.get("SKIFF_APISERVER", "127.0.0.1:6443"),
                   help="the apiserver's HOST:PORT")
    p.add_argument("--scheduler-name", default=DEFAULT_SCHEDULER_NAME,
                   help="schedule pods whose spec.schedulerName is this (empty counts as default-scheduler)")
    p.add_argument("--percentage-of-nodes-to-score", type=_percentage, default=0,
                   help="share of nodes to find feasible before scoring; "
                        "0 = adaptive (50%% - nodes/125, at least 5%%)")
    p.add_argument("--parallel-binds", type=int, default=64, help="bindings in flight at once")
    p.add_argument("--leader-elect", type=_bool, nargs="?", const=True, default=True)
    p.add_argument("--leader-elect-lease-duration", type=_seconds, default=15.0)
    p.add_argument("--leader-elect-renew-deadline", type=_seconds, default=10.0)
    p.add_argument("--leader-elect-retry-period", type=_seconds, default=2.0)
    p.add_argument("--leader-elect-resource-name", default="kube-scheduler")
    p.add_argument("--leader-elect-resource-namespace", default="kube-system")
    p.add_argument("-v", "--v", type=int, default=1, help="log verbosity (0 warnings, 1 info, 2+ debug)")
    args = p.parse_args(argv)
    if args.leader_elect and not (args.leader_elect_lease_duration > args.leader_elect_renew_deadline
                                  > args.leader_elect_retry_period > 0):
        p.error("need --leader-elect-lease-duration > --leader-elect-renew-deadline > "
                "--leader-elect-retry-period > 0")
    return args


async def run(args: argparse.Namespace) -> int:
    client = Client(args.apiserver)
    scheduler = Scheduler(client, args.scheduler_name, args.percentage_of_nodes_to_score, args.parallel_binds)
    try:
        if not args.leader_elect:
            await scheduler.run()
            return 0
        identity = f"{socket.gethostname()}_{uuid.uuid4()}"
        elector = LeaderElector(client, args.leader_elect_resource_name, identity,
                                args.leader_elect_resource_namespace, args.leader_elect_lease_duration,
                                args.leader_elect_renew_deadline, args.leader_elect_retry_period)
        await elector.run(scheduler.run)
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
