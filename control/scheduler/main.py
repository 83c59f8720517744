"""skiff-scheduler: binds pending pods to nodes; leader-elected like kube-scheduler."""

from __future__ import annotations

import argparse
import logging

from control.client.component import (
    add_client_flags,
    add_leader_election_flags,
    check_leader_election_flags,
    client_from_flags,
    component_main,
    run_elected,
)
from control.client.metrics import add_metrics_flag
from control.scheduler.scheduler import DEFAULT_SCHEDULER_NAME, Scheduler

log = logging.getLogger("skiff-scheduler")


def _percentage(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 0 and 100")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-scheduler", description=__doc__)
    add_client_flags(p)
    p.add_argument("--scheduler-name", default=DEFAULT_SCHEDULER_NAME,
                   help="schedule pods whose spec.schedulerName is this (empty counts as default-scheduler)")
    p.add_argument("--percentage-of-nodes-to-score", type=_percentage, default=0,
                   help="share of nodes to find feasible before scoring; "
                        "0 = adaptive (50%% - nodes/125, at least 5%%)")
    p.add_argument("--parallel-binds", type=int, default=64, help="bindings in flight at once")
    add_metrics_flag(p, "127.0.0.1:10251")
    add_leader_election_flags(p, "kube-scheduler")
    args = p.parse_args(argv)
    check_leader_election_flags(p, args)
    return args


async def run(args: argparse.Namespace) -> int:
    client = client_from_flags(args)
    scheduler = Scheduler(client, args.scheduler_name, args.percentage_of_nodes_to_score, args.parallel_binds)
    return await run_elected(client, args, scheduler.run)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    component_main(args, lambda: run(args))


if __name__ == "__main__":
    main()
