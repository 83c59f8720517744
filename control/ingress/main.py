"""skiff-ingress-controller: serves Ingresses through nginx, as ingress-nginx does; one per node."""

from __future__ import annotations

import argparse
import asyncio

from control.client.component import (
    add_client_flags,
    add_leader_election_flags,
    check_leader_election_flags,
    client_from_flags,
    component_main,
    run_elected,
)
from control.client.metrics import add_metrics_flag
from control.ingress.controller import DEFAULT_CONTROLLER_CLASS, IngressController, Options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-ingress-controller", description=__doc__)
    add_client_flags(p)
    p.add_argument("--controller-class", default=DEFAULT_CONTROLLER_CLASS,
                   help="serve Ingresses whose IngressClass has this spec.controller")
    p.add_argument("--http-port", type=int, default=80)
    p.add_argument("--https-port", type=int, default=443)
    p.add_argument("--address", default="0.0.0.0", help="the address nginx listens on")
    p.add_argument("--publish-address", action="append", default=[],
                   help="an address written to status.loadBalancer.ingress (repeatable)")
    p.add_argument("--state-dir", default="/var/lib/skiff/ingress", help="nginx's configuration, certificates, logs")
    p.add_argument("--nginx", default="/usr/sbin/nginx", help="the nginx binary")
    add_metrics_flag(p, "0")
    add_leader_election_flags(p, "ingress-controller-leader")
    args = p.parse_args(argv)
    check_leader_election_flags(p, args)
    return args


async def run(args: argparse.Namespace) -> int:
    client = client_from_flags(args)
    controller = IngressController(client, Options(
        args.controller_class, args.http_port, args.https_port, args.address, tuple(args.publish_address),
        args.state_dir, args.nginx))
    serving = asyncio.create_task(controller.run())
    try:
        # Every instance serves traffic; only the leader writes statuses.
        return await run_elected(client, args, controller.write_statuses)
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    component_main(args, lambda: run(args))


if __name__ == "__main__":
    main()
