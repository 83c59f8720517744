"""The host side of the lab: the bridge, node namespaces and veths, the nftables guard, mounts."""

from __future__ import annotations

import os
import subprocess

from lablib.config import (
    BRIDGE,
    HOST_IP,
    LAB_RANGES,
    LB_ROUTE,
    NFT_TABLE,
    NODE_SUBNET,
    REGISTRY_PORT,
    SERVICE_CIDR,
    Node,
)


def run(*argv: str, check: bool = True, netns: str | None = None) -> subprocess.CompletedProcess:
    prefix = ["nsenter", f"--net=/var/run/netns/{netns}", "--"] if netns else []
    result = subprocess.run([*prefix, *argv], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip() or result.stdout.strip()}")
    return result


def link_exists(name: str, netns: str | None = None) -> bool:
    return run("ip", "link", "show", "dev", name, check=False, netns=netns).returncode == 0


def netns_exists(name: str) -> bool:
    return os.path.exists(f"/var/run/netns/{name}")


def ensure_bridge() -> None:
    if not link_exists(BRIDGE):
        run("ip", "link", "add", BRIDGE, "type", "bridge")
    run("ip", "addr", "replace", f"{HOST_IP}/{NODE_SUBNET.prefixlen}", "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")


def remove_bridge() -> None:
    if link_exists(BRIDGE):
        run("ip", "link", "del", BRIDGE)


def ensure_node_network(node: Node) -> None:
    """The node's namespace with eth0 (its address) on the lab bridge; forwarding on for pods."""
    if not netns_exists(node.netns):
        run("ip", "netns", "add", node.netns)
    run("ip", "link", "set", "lo", "up", netns=node.netns)
    if not link_exists(node.veth):
        if link_exists("eth0", netns=node.netns):
            run("ip", "link", "del", "eth0", netns=node.netns)
        run("ip", "link", "add", node.veth, "type", "veth", "peer", "name", "eth0", "netns", node.netns)
    run("ip", "link", "set", node.veth, "master", BRIDGE, "up")
    run("ip", "addr", "replace", f"{node.ip}/{NODE_SUBNET.prefixlen}", "dev", "eth0", netns=node.netns)
    run("ip", "link", "set", "eth0", "up", netns=node.netns)
    # Nodes have no default route (nothing may leave the lab), but a Service VIP needs a route for
    # the routing decision that comes before the proxy's DNAT.
    run("ip", "route", "replace", SERVICE_CIDR, "dev", "eth0", netns=node.netns)
    run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", netns=node.netns)


def set_node_link(node: Node, up: bool) -> None:
    if link_exists(node.veth):
        run("ip", "link", "set", node.veth, "up" if up else "down")


def remove_node_network(node: Node) -> None:
    if link_exists(node.veth):
        run("ip", "link", "del", node.veth)
    if netns_exists(node.netns):
        run("ip", "netns", "delete", node.netns)


def route_load_balancers(nodes: list[Node]) -> None:
    """The LoadBalancer pool is routed to every node (one path per flow), as ServiceLB answers on any node."""
    if not nodes:
        return
    hops = [a for n in nodes for a in ("nexthop", "via", n.ip, "dev", BRIDGE)]
    run("ip", "route", "replace", LB_ROUTE, *hops)


def guard_ruleset() -> str:
    """Lab ranges stay on the lab bridge; the registry and the host's lab address serve only the lab.
    Where bridged frames pass the host's forward hook (br_netfilter), traffic between machines on one
    of libvirt's bridges (the Vagrant lab uses the same pod and service ranges) stays on the host and
    passes."""
    ranges = ", ".join(LAB_RANGES)
    return f"""table inet {NFT_TABLE} {{}}
delete table inet {NFT_TABLE}
table inet {NFT_TABLE} {{
  set lab_ranges {{ type ipv4_addr; flags interval; elements = {{ {ranges} }} }}
  chain output {{
    type filter hook output priority 0; policy accept;
    oifname {{ "lo", "{BRIDGE}" }} accept
    ip daddr @lab_ranges drop
    ip saddr @lab_ranges drop
  }}
  chain forward {{
    type filter hook forward priority 0; policy accept;
    iifname "{BRIDGE}" oifname "{BRIDGE}" accept
    iifname "virbr*" oifname "virbr*" accept
    ip daddr @lab_ranges drop
    ip saddr @lab_ranges drop
  }}
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname {{ "lo", "{BRIDGE}" }} accept
    tcp dport {REGISTRY_PORT} drop
    ip daddr {HOST_IP} drop
  }}
}}
"""


def apply_guard() -> None:
    subprocess.run(["nft", "-f", "-"], input=guard_ruleset(), text=True, check=True, capture_output=True)


def guard_present() -> bool:
    return run("nft", "list", "table", "inet", NFT_TABLE, check=False).returncode == 0


def remove_guard() -> None:
    if guard_present():
        run("nft", "delete", "table", "inet", NFT_TABLE)


def mounts_under(path: str) -> list[str]:
    prefix = os.path.realpath(path).rstrip("/") + "/"
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if (point + "/").startswith(prefix):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_under(path: str) -> None:
    for point in mounts_under(path):
        run("umount", "-l", point, check=False)
