"""The node's nftables table (`table ip skiff`): rendering, diffing, applying.

Layout, after kube-proxy's nftables mode:

- `services` verdict map: ClusterIP . protocol . port -> goto `pick-N`, N
  being the number of the port's ready endpoints; `nodeports` verdict map:
  protocol . port -> goto `pick-nodeport-N` (which first marks the packet for
  masquerade; `pick-local-N` for externalTrafficPolicy Local, over this
  node's endpoints only), matched only for addresses local to the node
  (`fib daddr type local`).
- `pick-N` draws the endpoint: `ct mark set numgen random mod N goto
  dnat-stage`, and `dnat-stage` DNATs through the `backends` map
  (ClusterIP . protocol . port . i -> endpoint i); NodePorts likewise through
  `nodeport-backends` (protocol . port . i). The connection's ct mark keeps
  the index drawn.
  Why not kube-proxy's per-service-port chain with `numgen random mod N map
  { ... }`: measured here with 10,000 Services x 10 endpoints, anonymous maps
  take 12 s to load (the kernel names each by scanning the others), named
  per-chain maps 11-30 s, and one rule per endpoint 3 s; worse, any chain per
  Service makes every later change pay for nft fetching all their names
  (~100 ms at 10,000 chains). The pick chains are shared (one per endpoint
  count), so a change is only map elements.
- `sessionAffinity: ClientIP` ports get one `ep-` chain per endpoint that
  records the client in a per-endpoint dynamic set with timeout; the service
  chain first sends known clients back to their endpoint.
- Hairpin traffic (a pod reaching itself through a VIP) is found after DNAT
  by `ip saddr . ip daddr @hairpin` (elements `ip . ip` per endpoint) and
  masqueraded, like everything marked 0x4000 (NodePort traffic).
- `no-endpoint-services` / `no-endpoint-nodeports` reject new connections to
  ports with no ready endpoint, from filter chains before NAT.
- LoadBalancer addresses (status.loadBalancer.ingress) are keys of `services`
  like ClusterIPs, drawn by `pick-external-N` (masquerade, then `dnat-stage`)
  or, for externalTrafficPolicy Local, by an `lb-local-` chain (outside
  clients to this node's endpoints, pods and the node to any); any node
  routed the address answers, as with ServiceLB. Ports with
  loadBalancerSourceRanges have a `fw-` chain, reached through the `firewall`
  map from a filter chain before DNAT, that drops other sources.

Everything below `Ruleset` is pure text; `Nft` runs `nft -f -` so a whole
change is one atomic transaction.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

TABLE = "ip skiff"
MASQ_MARK = "0x4000"
DEFAULT_AFFINITY_TIMEOUT = 10800  # Kubernetes' default for ClientIP affinity
MAX_ENDPOINTS = 4096  # per service port: bounds the number of shared pick chains
PROTOCOLS = ("tcp", "udp", "sctp")

# Maps and sets whose elements the proxy manages; name -> nft declaration.
MAPS = {
    "services": "type ipv4_addr . inet_proto . inet_service : verdict;",
    "nodeports": "type inet_proto . inet_service : verdict;",
    "firewall": "type ipv4_addr . inet_proto . inet_service : verdict;",
    "no-endpoint-services": "type ipv4_addr . inet_proto . inet_service : verdict;",
    "no-endpoint-nodeports": "type inet_proto . inet_service : verdict;",
    "hairpin": "type ipv4_addr . ipv4_addr;",
    "backends": "typeof ip daddr . meta l4proto . th dport . ct mark : ip daddr . th dport;",
    "nodeport-backends": "typeof meta l4proto . th dport . ct mark : ip daddr . th dport;",
}
SETS_WITHOUT_DATA = {"hairpin"}


@dataclass(frozen=True)
class ServicePortRules:
    """What one Service port needs from the proxy, independent of nft syntax."""

    namespace: str
    name: str
    port_name: str
    protocol: str  # tcp | udp | sctp
    cluster_ip: str
    port: int
    node_port: int = 0
    affinity_timeout: int = 0  # seconds; 0 means no ClientIP affinity
    endpoints: tuple[tuple[str, int], ...] = ()
    local_endpoints: tuple[tuple[str, int], ...] = ()  # those of `endpoints` on this node
    # externalTrafficPolicy Local: only local endpoints serve the NodePort, without masquerading (they
    # see the client's address). internalTrafficPolicy Local: only local endpoints serve the ClusterIP.
    external_local: bool = False
    internal_local: bool = False
    load_balancer_ips: tuple[str, ...] = ()  # status.loadBalancer.ingress, answered as NodePorts are
    source_ranges: tuple[str, ...] = ()  # loadBalancerSourceRanges: the only clients of those addresses
    cluster_cidr: str = ""  # pods: with policy Local their traffic to a LB address may go to any endpoint

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}/{self.protocol}/{self.port_name or self.port}"


@dataclass(frozen=True)
class NodeConfig:
    """The static part of the table: addresses that don't come from Services."""

    cluster_cidr: str = "10.244.0.0/16"
    cluster_dns: str = ""  # the DNS VIP DNATed to the node's own resolver
    dns_target: str = ""  # address the node's resolver listens on
    node_name: str = ""  # picks the local endpoints for the Local traffic policies


@dataclass
class Ruleset:
    """The dynamic part of the table: chains, map elements and affinity sets."""

    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    elements: dict[str, dict[str, str]] = field(default_factory=lambda: {m: {} for m in MAPS})
    affinity_sets: dict[str, int] = field(default_factory=dict)  # name -> timeout
    picks: set[int] = field(default_factory=set)  # endpoint counts whose shared pick chains are used

    def add(self, other: Ruleset) -> None:
        self.chains.update(other.chains)
        for m, elems in other.elements.items():
            self.elements[m].update(elems)
        self.affinity_sets.update(other.affinity_sets)
        self.picks |= other.picks


def render_port(sp: ServicePortRules) -> Ruleset:
    rs = Ruleset()
    proto, key = sp.protocol, f"{sp.cluster_ip} . {sp.protocol} . {sp.port}"
    _render_firewall(sp, rs)
    if not sp.endpoints:
        rs.elements["no-endpoint-services"][key] = "goto reject-chain"
        if sp.node_port:
            rs.elements["no-endpoint-nodeports"][f"{proto} . {sp.node_port}"] = "goto reject-chain"
        for lb in _lb_keys(sp):
            rs.elements["no-endpoint-services"][lb] = "goto reject-chain"
        return rs
    if sp.affinity_timeout:
        _render_affinity(sp, rs, key)
    else:
        _render_cluster_ip(sp, rs, key)
        if sp.node_port:
            _render_node_port(sp, rs)
        _render_load_balancer(sp, rs)
    for ip, _ in sp.endpoints:
        rs.elements["hairpin"][f"{ip} . {ip}"] = ""
    return rs


def _render_cluster_ip(sp: ServicePortRules, rs: Ruleset, key: str) -> None:
    eps = sp.local_endpoints if sp.internal_local else sp.endpoints
    if not eps:  # internalTrafficPolicy Local and no endpoint on this node: dropped, as in kube-proxy
        rs.elements["no-endpoint-services"][key] = "drop"
        return
    rs.picks.add(len(eps))
    rs.elements["services"][key] = f"goto pick-{len(eps)}"
    for i, (ip, port) in enumerate(eps):
        rs.elements["backends"][f"{key} . {i}"] = f"{ip} . {port}"


def _render_node_port(sp: ServicePortRules, rs: Ruleset) -> None:
    port = f"{sp.protocol} . {sp.node_port}"
    local = sp.external_local
    eps = sp.local_endpoints if local else sp.endpoints
    if not eps:  # policy Local and no endpoint here: drop, as kube-proxy does
        rs.elements["no-endpoint-nodeports"][port] = "drop"
        return
    rs.picks.add(len(eps))
    rs.elements["nodeports"][port] = f"goto pick-{'local' if local else 'nodeport'}-{len(eps)}"
    for i, (ip, target) in enumerate(eps):
        rs.elements["nodeport-backends"][f"{port} . {i}"] = f"{ip} . {target}"


def _lb_keys(sp: ServicePortRules) -> list[str]:
    return [f"{ip} . {sp.protocol} . {sp.port}" for ip in sp.load_balancer_ips]


def _render_load_balancer(sp: ServicePortRules, rs: Ruleset) -> None:
    if sp.external_local:
        _render_load_balancer_local(sp, rs)
        return
    n = len(sp.endpoints)
    rs.picks.add(n)
    for key in _lb_keys(sp):
        rs.elements["services"][key] = f"goto pick-external-{n}"
        for i, (ip, port) in enumerate(sp.endpoints):
            rs.elements["backends"][f"{key} . {i}"] = f"{ip} . {port}"


def _render_load_balancer_local(sp: ServicePortRules, rs: Ruleset) -> None:
    """Policy Local, as kube-proxy: clients outside the cluster reach only this node's endpoints and
    are seen unmasqueraded (none here: dropped); pods and the node itself reach any endpoint.
    Backends 0..N-1 are all endpoints, N..N+L-1 the local ones."""
    n, local = len(sp.endpoints), len(sp.local_endpoints)
    draw_any = f"ct mark set numgen random mod {n} goto dnat-stage"
    rules = [f"ip saddr {sp.cluster_cidr} {draw_any}"] if sp.cluster_cidr else []
    rules += ["fib saddr type local jump mark-for-masquerade", f"fib saddr type local {draw_any}"]
    rules.append(f"ct mark set numgen random mod {local} offset {n} goto dnat-stage" if local else "drop")
    chain = f"lb-local-{sp.id}"
    rs.chains[chain] = tuple(rules)
    for key in _lb_keys(sp):
        rs.elements["services"][key] = f"goto {chain}"
        for i, (ip, port) in enumerate(sp.endpoints + sp.local_endpoints):
            rs.elements["backends"][f"{key} . {i}"] = f"{ip} . {port}"


def _render_firewall(sp: ServicePortRules, rs: Ruleset) -> None:
    if not (sp.source_ranges and sp.load_balancer_ips):
        return
    chain = f"fw-{sp.id}"
    rs.chains[chain] = (f"ip saddr {{ {', '.join(sp.source_ranges)} }} return", "drop")
    for key in _lb_keys(sp):
        rs.elements["firewall"][key] = f"goto {chain}"


def pick_chains(n: int) -> dict[str, tuple[str, ...]]:
    """The shared chains that draw one of n endpoints."""
    draw = f"ct mark set numgen random mod {n}"
    return {f"pick-{n}": (f"{draw} goto dnat-stage",),
            f"pick-nodeport-{n}": ("jump mark-for-masquerade", f"{draw} goto dnat-nodeport"),
            f"pick-local-{n}": (f"{draw} goto dnat-nodeport",),
            f"pick-external-{n}": ("jump mark-for-masquerade", f"{draw} goto dnat-stage")}


def _render_affinity(sp: ServicePortRules, rs: Ruleset, key: str) -> None:
    chain = f"svc-{sp.id}"
    rs.chains[chain] = _affinity_chains(sp, rs)
    rs.elements["services"][key] = f"goto {chain}"
    if sp.node_port or sp.load_balancer_ips:
        ext = f"ext-{sp.id}"
        rs.chains[ext] = ("jump mark-for-masquerade", f"goto {chain}")
        if sp.node_port:
            rs.elements["nodeports"][f"{sp.protocol} . {sp.node_port}"] = f"goto {ext}"
        for lb in _lb_keys(sp):
            rs.elements["services"][lb] = f"goto {ext}"


def _pick(n: int, i: int) -> str:
    """Condition that selects the i-th of n choices with probability 1/(n-i) of what's left."""
    return f"numgen random mod {n - i} 0 " if i < n - 1 else ""


def _affinity_chains(sp: ServicePortRules, rs: Ruleset) -> tuple[str, ...]:
    sticky, spread = [], []
    n = len(sp.endpoints)
    for i, (ip, port) in enumerate(sp.endpoints):
        suffix = f"{sp.id}__{ip}/{port}"
        ep, aff = f"ep-{suffix}", f"aff-{suffix}"
        rs.affinity_sets[aff] = sp.affinity_timeout
        rs.chains[ep] = (f"update @{aff} {{ ip saddr }}", f"meta l4proto {sp.protocol} dnat to {ip}:{port}")
        sticky.append(f"ip saddr @{aff} goto {ep}")
        spread.append(f"{_pick(n, i)}goto {ep}")
    return tuple(sticky + spread)


def render(ports: list[ServicePortRules]) -> Ruleset:
    rs = Ruleset()
    for sp in ports:
        rs.add(render_port(sp))
    return rs


def _q(chain: str) -> str:
    return f"{TABLE} {chain}"


def skeleton(cfg: NodeConfig) -> list[str]:
    """Base chains, maps and static rules of a freshly created table."""
    lines = [f"add table {TABLE}"]
    lines += [f"add map {TABLE} {m} {{ {decl} }}" if m not in SETS_WITHOUT_DATA
              else f"add set {TABLE} {m} {{ {decl} }}" for m, decl in MAPS.items()]
    base = {
        "prerouting": "type nat hook prerouting priority dstnat; policy accept;",
        "output": "type nat hook output priority -100; policy accept;",  # dstnat: nft names it for prerouting only
        "postrouting": "type nat hook postrouting priority srcnat; policy accept;",
        "filter-prerouting": "type filter hook prerouting priority -110; policy accept;",
        "filter-input": "type filter hook input priority -110; policy accept;",
        "filter-forward": "type filter hook forward priority -110; policy accept;",
        "filter-output": "type filter hook output priority -110; policy accept;",
    }
    for chain in ("services-dispatch", "dnat-stage", "dnat-nodeport", "mark-for-masquerade", "masquerading",
                  "endpoints-check", "reject-chain"):
        lines.append(f"add chain {_q(chain)}")
    for chain, spec in base.items():
        lines.append(f"add chain {_q(chain)} {{ {spec} }}")
    return lines + _static_rules(cfg)


def _static_rules(cfg: NodeConfig) -> list[str]:
    rules = {
        "prerouting": ["jump services-dispatch"],
        "output": ["jump services-dispatch"],
        "services-dispatch": _dns_rules(cfg) + [
            "ip daddr . meta l4proto . th dport vmap @services",
            "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @nodeports",
        ],
        "dnat-stage": [f"meta l4proto {p} dnat to ip daddr . meta l4proto . th dport . ct mark map @backends"
                       for p in PROTOCOLS],
        "dnat-nodeport": [f"meta l4proto {p} dnat to meta l4proto . th dport . ct mark map @nodeport-backends"
                          for p in PROTOCOLS],
        "mark-for-masquerade": [f"meta mark set meta mark | {MASQ_MARK}"],
        "postrouting": ["jump masquerading"],
        "masquerading": [
            f"meta mark & {MASQ_MARK} == {MASQ_MARK} meta mark set meta mark xor {MASQ_MARK} masquerade",
            "ct status dnat ip saddr . ip daddr @hairpin masquerade",
        ] + _cluster_masquerade(cfg),
        "filter-prerouting": ["ip daddr . meta l4proto . th dport vmap @firewall"],
        "filter-input": ["ct state new jump endpoints-check"],
        "filter-forward": ["ct state new jump endpoints-check"],
        "filter-output": ["ip daddr . meta l4proto . th dport vmap @firewall",
                          "ct state new jump endpoints-check"],
        "endpoints-check": [
            "ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
            "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports",
        ],
        "reject-chain": ["reject with icmp type host-unreachable"],
    }
    return [f"add rule {_q(chain)} {rule}" for chain, rs in rules.items() for rule in rs]


def _dns_rules(cfg: NodeConfig) -> list[str]:
    if not (cfg.cluster_dns and cfg.dns_target):
        return []
    return [f"ip daddr {cfg.cluster_dns} meta l4proto {p} th dport 53 dnat to {cfg.dns_target}:53"
            for p in ("udp", "tcp")]


def _cluster_masquerade(cfg: NodeConfig) -> list[str]:
    if not cfg.cluster_cidr:
        return []
    cidr = ipaddress.ip_network(cfg.cluster_cidr)
    # Pod traffic leaving the cluster network is masqueraded; pod-to-pod is not.
    return [f"ip saddr {cidr} ip daddr != {cidr} masquerade"]


def _element(m: str, key: str, value: str) -> str:
    return key if m in SETS_WITHOUT_DATA else f"{key} : {value}"


def _set_decl(name: str, timeout: int) -> str:
    return f"add set {TABLE} {name} {{ type ipv4_addr; flags dynamic,timeout; timeout {timeout}s; }}"


def full_transaction(cfg: NodeConfig, rulesets: Ruleset | Iterable[Ruleset]) -> str:
    """Replaces the whole table atomically (used at start and to recover)."""
    parts = [rulesets] if isinstance(rulesets, Ruleset) else list(rulesets)
    lines = [f"add table {TABLE}", f"delete table {TABLE}", *skeleton(cfg)]
    lines += [_set_decl(name, t) for rs in parts for name, t in rs.affinity_sets.items()]
    # Block syntax: nft parses it faster than one `add rule` command per line (~15 % at 100k rules),
    # and declares every chain of the block before adding rules, so references resolve in any order.
    lines.append(f"table {TABLE} {{")
    picks = {n: pick_chains(n) for rs in parts for n in rs.picks}
    for rs in [*(Ruleset(chains=c) for c in picks.values()), *parts]:
        for chain, rules in rs.chains.items():
            lines.append(f"chain {chain} {{")
            lines.extend(rules)
            lines.append("}")
    lines.append("}")
    for m in MAPS:
        merged = {k: v for rs in parts for k, v in rs.elements[m].items()}  # hairpin keys repeat
        body = ", ".join(_element(m, k, v) for k, v in merged.items())
        if body:
            lines.append(f"add element {TABLE} {m} {{ {body} }}")
    return "\n".join(lines) + "\n"


def diff_transaction(old: Ruleset, new: Ruleset, existing_picks: Iterable[int] = ()) -> str:
    """Only what changed, ordered so every reference exists when it is made.

    Pick chains are shared, so they are created when first needed (`existing_picks`
    lists those the table has) and left in place.
    """
    lines: list[str] = []
    for n in sorted(new.picks - set(existing_picks)):
        for chain, rules in pick_chains(n).items():
            lines.append(f"add chain {_q(chain)}")
            lines += [f"add rule {_q(chain)} {r}" for r in rules]
    added_sets = {n: t for n, t in new.affinity_sets.items() if old.affinity_sets.get(n) != t}
    for name in added_sets:
        if name in old.affinity_sets:  # timeout changed: the set is recreated below
            lines.append(f"delete set {TABLE} {name}")
    lines += [_set_decl(n, t) for n, t in added_sets.items()]
    lines += [f"add chain {_q(c)}" for c in new.chains if c not in old.chains]
    for chain, rules in new.chains.items():
        if old.chains.get(chain) == rules and not _uses_recreated_set(rules, added_sets):
            continue
        if chain in old.chains:
            lines.append(f"flush chain {_q(chain)}")
        lines += [f"add rule {_q(chain)} {r}" for r in rules]
    for m in MAPS:
        lines += _element_changes(m, old.elements[m], new.elements[m])
    gone = [c for c in old.chains if c not in new.chains]
    lines += [f"flush chain {_q(c)}" for c in gone]
    lines += [f"delete chain {_q(c)}" for c in gone]
    lines += [f"delete set {TABLE} {n}" for n in old.affinity_sets if n not in new.affinity_sets]
    return "\n".join(lines) + "\n" if lines else ""


def _uses_recreated_set(rules: tuple[str, ...], recreated: dict[str, int]) -> bool:
    return any(f"@{name} " in r for r in rules for name in recreated)


def _element_changes(m: str, old: dict[str, str], new: dict[str, str]) -> list[str]:
    removed = [k for k, v in old.items() if new.get(k) != v]
    added = [k for k, v in new.items() if old.get(k) != v]
    lines = []
    if removed:
        lines.append(f"delete element {TABLE} {m} {{ {', '.join(removed)} }}")
    if added:
        lines.append(f"add element {TABLE} {m} {{ {', '.join(_element(m, k, new[k]) for k in added)} }}")
    return lines


class NftError(RuntimeError):
    pass


class Nft:
    """Runs nft, optionally inside a named network namespace (for tests and benchmarks)."""

    def __init__(self, netns: str | None = None, binary: str = "nft") -> None:
        self.prefix = ["nsenter", f"--net=/var/run/netns/{netns}"] if netns else []
        self.binary = binary

    async def run(self, *args: str, stdin: str | None = None) -> str:
        proc = await asyncio.create_subprocess_exec(
            *self.prefix, self.binary, *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
        if proc.returncode != 0:
            raise NftError(f"nft {' '.join(args)} failed: {err.decode(errors='replace').strip()[:2000]}")
        return out.decode()

    async def apply(self, transaction: str) -> None:
        if transaction:
            await self.run("-f", "-", stdin=transaction)

    async def list_table(self) -> str:
        return await self.run("list", "table", *TABLE.split())

    async def delete_table(self) -> None:
        await self.apply(f"add table {TABLE}\ndelete table {TABLE}\n")
