"""skiff-agent: the node agent (kubelet + service proxy + node DNS) for one node."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

import psutil

from control.client.client import Client
from control.client.component import add_client_flags, client_config, client_from_flags
from control.client.kubeconfig import ClientConfig
from control.client.metrics import add_metrics_flag, serve_metrics
from node.agent import Agent
from node.config import AgentConfig
from node.cri import CRI, CRIError
from node.registration import NodeConfig, NodeRegistration, capacity, default_hostname, default_node_ip
from node.runtime.security import SECCOMP_DIR, NodeSecurity, host_apparmor_enabled
from node.server import NodeAgentServicer, serve
from node.serverauth import server_credentials
from node.stats import StatsProvider

log = logging.getLogger("skiff-agent")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-agent", description=__doc__)
    add_client_flags(p)
    p.add_argument("--tls-cert-file", default="",
                   help="serving certificate of the NodeAgent port (default: the kubeconfig's client certificate)")
    p.add_argument("--tls-private-key-file", default="", help="its key (default: the kubeconfig's client key)")
    p.add_argument("--client-ca-file", default="",
                   help="CA of the callers' client certificates (default: the kubeconfig's certificate-authority)")
    p.add_argument("--node-name", default="", help="the Node's name (default: the hostname)")
    p.add_argument("--container-runtime-endpoint", default="unix:///run/containerd/containerd.sock")
    p.add_argument("--root-dir", default="/var/lib/skiff-agent", help="pod volumes, logs and state")
    p.add_argument("--node-ip", default="", help="the node's InternalIP (default: first address that is up)")
    p.add_argument("--listen", default="0.0.0.0:10250", help="HOST:PORT of the NodeAgent (logs/exec/stats)")
    p.add_argument("--cluster-dns", default="10.96.0.10", help="comma-separated DNS servers for pods")
    p.add_argument("--cluster-domain", default="cluster.local")
    p.add_argument("--resolv-conf", default="/etc/resolv.conf", help="the node's resolver (dnsPolicy Default)")
    p.add_argument("--restart-backoff-base", type=float, default=10.0, help="seconds; doubles up to 300")
    p.add_argument("--node-status-update", type=float, default=10.0, help="seconds between node status updates")
    p.add_argument("--node-lease-duration", type=int, default=40)
    p.add_argument("--enable-network", action=argparse.BooleanOptionalAction, default=True,
                   help="run the pod network, service proxy and node DNS (node.network)")
    p.add_argument("--enable-network-policy", action=argparse.BooleanOptionalAction, default=True,
                   help="enforce NetworkPolicies for this node's pods (with --enable-network)")
    p.add_argument("--cni-conf-dir", default="/etc/cni/net.d")
    p.add_argument("--cluster-cidr", default="10.244.0.0/16")
    p.add_argument("--service-cidr", default="10.96.0.0/12")
    p.add_argument("--node-labels", default="", help="k=v,k2=v2 added to the Node")
    add_metrics_flag(p, "127.0.0.1:10255")
    p.add_argument("--allowed-unsafe-sysctls", default="",
                   help="comma-separated unsafe sysctls or patterns (ending in *) pods may set")
    p.add_argument("--log-level", default="INFO")
    return p.parse_args(argv)


def _labels(text: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    bad = [p[0] for p in pairs if len(p) != 2]
    if bad:
        raise SystemExit(f"--node-labels: Invalid value: {bad[0]!r}: must be key=value")
    return {k.strip(): v.strip() for k, v in pairs}


async def runtime_health(cri: CRI) -> tuple[bool, str]:
    try:
        conditions = {c.type: c for c in (await cri.status()).conditions}
    except CRIError as e:
        return False, f"container runtime is down: {e.details}"
    runtime, network = conditions.get("RuntimeReady"), conditions.get("NetworkReady")
    if runtime is None or not runtime.status:
        return False, "container runtime is down"
    if network is None or not network.status:
        reason, message = (network.reason, network.message) if network else ("", "")
        return False, (f"container runtime network not ready: NetworkReady=false reason:{reason} "
                       f"message:{message}")
    return True, ""


async def wait_for_runtime(cri: CRI) -> str:
    while True:
        try:
            v = await cri.version()
            return f"{v.runtime_name}://{v.runtime_version}"
        except CRIError as e:
            log.warning("waiting for the container runtime at %s: %s", cri.endpoint, e)
            await asyncio.sleep(1.0)


def serving_tls(args: argparse.Namespace, config: ClientConfig) -> tuple[str, str, str] | None:
    """(cert, key, client CA) of the NodeAgent port: the flags, else the node's one certificate from its
    kubeconfig; None (plaintext) when neither names a certificate."""
    flags = (args.tls_cert_file, args.tls_private_key_file, args.client_ca_file)
    from_config = not config.insecure and bool(config.client_certificate)
    if not any(flags) and not from_config:
        return None
    defaults = (config.client_certificate, config.client_key, config.certificate_authority) if from_config \
        else ("", "", "" if config.insecure else config.certificate_authority)
    cert, key, ca = (flag or default for flag, default in zip(flags, defaults, strict=True))
    if not (cert and key and ca):
        raise SystemExit("the NodeAgent's TLS needs --tls-cert-file, --tls-private-key-file and --client-ca-file "
                         "(or a kubeconfig with client-certificate, client-key and certificate-authority)")
    return cert, key, ca


async def start_node_server(listen: str, cri: CRI, node_name: str, tls: tuple[str, str, str] | None = None):
    """The NodeAgent gRPC server (logs/exec/stats), TLS with tls=(cert, key, client CA); returns (server, port)."""
    servicer = NodeAgentServicer(cri, StatsProvider(cri, node_name))
    try:
        credentials = server_credentials(*tls) if tls else None
    except OSError as e:
        raise SystemExit(f"the NodeAgent's TLS: {e}") from None
    return await serve(listen, servicer, credentials)


async def network_task(args: argparse.Namespace, client: Client, node_name: str, node_ip: str) -> None:
    """The node's network (CNI config, routes, service proxy, DNS); restarted if it fails, pods go on."""
    from node.network import NetworkOptions, run_node_network
    # Each node keeps its own host-local leases (nodes sharing a host must not share them).
    options = NetworkOptions(cni_conf_dir=args.cni_conf_dir, cni_data_dir=os.path.join(args.root_dir, "cni-networks"),
                             cluster_cidr=args.cluster_cidr,
                             service_cidr=args.service_cidr, cluster_dns=args.cluster_dns.split(",")[0],
                             cluster_domain=args.cluster_domain, node_ip=node_ip,
                             enable_network_policy=args.enable_network_policy)
    while True:
        try:
            await run_node_network(client, node_name, options)
        except Exception:  # noqa: BLE001 - logged; the pod sync loop must keep running
            log.exception("node network failed; restarting it in 5s")
        await asyncio.sleep(5.0)


async def run(args: argparse.Namespace) -> None:
    # Like the kubelet's --hostname-override: the node name is also its hostname label and address.
    node_name = (args.node_name or default_hostname()).lower()
    hostname = node_name
    node_ip = args.node_ip or default_node_ip()
    os.makedirs(args.root_dir, exist_ok=True)
    config = client_config(args)
    tls = serving_tls(args, config)
    client = client_from_flags(args, config)
    cri = CRI(args.container_runtime_endpoint)
    runtime_version = await wait_for_runtime(cri)
    _, allocatable = capacity(args.root_dir)
    agent = Agent(client, cri, AgentConfig(
        node_name=node_name, root_dir=args.root_dir, node_ip=node_ip, hostname=hostname,
        cluster_dns=[s for s in args.cluster_dns.split(",") if s], cluster_domain=args.cluster_domain,
        resolv_conf=args.resolv_conf, restart_backoff_base=args.restart_backoff_base,
        memory_capacity=psutil.virtual_memory().total, allocatable=allocatable,
        security=NodeSecurity(seccomp_root=os.path.join(args.root_dir, SECCOMP_DIR),
                              apparmor_enabled=host_apparmor_enabled(),
                              allowed_unsafe_sysctls=[s for s in args.allowed_unsafe_sysctls.split(",") if s])))
    server, port = await start_node_server(args.listen, cri, node_name, tls)
    registration = NodeRegistration(client, NodeConfig(
        node_name=node_name, node_ip=node_ip, hostname=hostname, root_dir=args.root_dir, agent_port=port,
        lease_duration=args.node_lease_duration, status_update_interval=args.node_status_update,
        labels=_labels(args.node_labels)), lambda: runtime_health(cri), runtime_version)
    log.info("node %s (%s): runtime %s, NodeAgent on port %d", node_name, node_ip, runtime_version, port)
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(registration.run())
            tg.create_task(agent.run())
            if args.enable_network:
                tg.create_task(network_task(args, client, node_name, node_ip))
    finally:
        if server is not None:
            await server.stop(1)
        await cri.close()
        await client.close()


async def _main(args: argparse.Namespace) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await run(args)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    metrics = serve_metrics(args.metrics_bind_address)  # the kubelet's and, with --enable-network, kube-proxy's
    try:
        asyncio.run(_main(args))
    finally:
        if metrics is not None:
            metrics.close()


if __name__ == "__main__":
    main()
