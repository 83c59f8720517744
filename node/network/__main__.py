"""`python -m node.network`: node networking on its own, without the kubelet.

Runs what `skiff-agent --enable-network` runs (CNI config, host-gw routes,
service proxy, NetworkPolicy, cluster DNS) for one node; useful to test the network layer
and on nodes where something else runs the pods. Run it inside the node's
network namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from control.client.component import add_client_flags, client_from_flags
from control.client.metrics import add_metrics_flag, serve_metrics
from node.network import NetworkOptions, run_node_network


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, NetworkOptions]:
    p = argparse.ArgumentParser(prog="python -m node.network", description=__doc__.splitlines()[0])
    d = NetworkOptions()
    add_client_flags(p)
    p.add_argument("--node-name", required=True)
    p.add_argument("--node-ip", default=d.node_ip, help="default: the Node's InternalIP")
    p.add_argument("--cni-conf-dir", default=d.cni_conf_dir)
    p.add_argument("--cni-data-dir", default=d.cni_data_dir, help="host-local IPAM state directory")
    p.add_argument("--cluster-cidr", default=d.cluster_cidr)
    p.add_argument("--service-cidr", default=d.service_cidr)
    p.add_argument("--cluster-dns", default=d.cluster_dns, help="default: 10th address of --service-cidr")
    p.add_argument("--cluster-domain", default=d.cluster_domain)
    p.add_argument("--dns-port", type=int, default=d.dns_port)
    p.add_argument("--no-dns", action="store_true", help="don't serve cluster DNS on this node")
    p.add_argument("--no-network-policy", action="store_true", help="don't enforce NetworkPolicies")
    add_metrics_flag(p, "127.0.0.1:10249")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    opts = NetworkOptions(cni_conf_dir=a.cni_conf_dir, cni_data_dir=a.cni_data_dir, cluster_cidr=a.cluster_cidr,
                          service_cidr=a.service_cidr, cluster_dns=a.cluster_dns,
                          cluster_domain=a.cluster_domain, node_ip=a.node_ip, dns_port=a.dns_port,
                          enable_dns=not a.no_dns, enable_network_policy=not a.no_network_policy)
    return a, opts


async def _main(args: argparse.Namespace, opts: NetworkOptions) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    async with client_from_flags(args) as client:
        with contextlib.suppress(asyncio.CancelledError):
            await run_node_network(client, args.node_name, opts)


def main(argv: list[str] | None = None) -> None:
    args, opts = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyroute2").setLevel(logging.WARNING)  # it logs every netlink message at DEBUG
    metrics = serve_metrics(args.metrics_bind_address)
    try:
        asyncio.run(_main(args, opts))
    finally:
        if metrics is not None:
            metrics.close()


if __name__ == "__main__":
    main()
