"""skiff-controller-manager: runs the controllers; leader-elected like kube-controller-manager."""

from __future__ import annotations

import argparse
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
from control.controllers.manager import CONTROLLERS, ControllerManager, enabled_controllers

log = logging.getLogger("skiff-controller-manager")


def _controllers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        enabled_controllers(names)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-controller-manager", description=__doc__)
    add_client_flags(p)
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
    p.add_argument("--allocate-node-cidrs", type=parse_bool, nargs="?", const=True, default=True)
    add_leader_election_flags(p, "kube-controller-manager")
    args = p.parse_args(argv)
    check_leader_election_flags(p, args)
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
    client = client_from_flags(args)
    host = socket.gethostname()
    manager = ControllerManager(client, args.controllers, options=_options(args), host=host)
    return await run_elected(client, args, manager.run, host)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    component_main(args, lambda: run(args))


if __name__ == "__main__":
    main()
