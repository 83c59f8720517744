"""NetworkPolicies as data: what each policy selects and allows, and what each pod adds to the table.

Kubernetes' semantics: a pod selected by a policy whose `policyTypes` has Ingress (Egress) is
isolated for that direction and accepts only what the union of those policies' rules allows;
a rule with no peers admits every peer and one with no ports every port; peers are ORed, so are
ports; a peer's podSelector alone means the policy's namespace, a namespaceSelector alone every
pod of the matching namespaces, both together the pods matching one in the namespaces matching
the other; an ipBlock is its CIDR minus its `except` list; a named port is resolved per pod from
its containers' ports (for ingress the selected pod's, for egress the destination's).

Everything here is pure. A policy's chains and set declarations (`policy_tables`) depend only on
the policy; the elements of its sets come from pods (`contributions`), keyed by pod address, so a
pod appearing, changing labels or address is a change of set elements only.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from control.client.selectors import IN, Requirement, Selector, SelectorError, from_label_selector
from skiff.v1 import networking_pb2, pod_pb2

PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}
ALLOW_MARK = 0x20000  # set by a policy chain that allows the packet; cleared once the check is done
ALLOW = f"meta mark set meta mark | {ALLOW_MARK:#x} return"
INGRESS, EGRESS = "in", "eg"
IPV4 = "ipv4_addr"
PORT_KEY = "ipv4_addr . inet_proto . inet_service"
# Sets shared by all policies: local pods isolated per direction, and the `ip . ip` of each local
# pod, since a pod reaching itself (through a Service VIP) cannot be blocked.
INGRESS_ISOLATED, EGRESS_ISOLATED, SELF = "ingress-isolated", "egress-isolated", "self"
GLOBAL_SETS = {INGRESS_ISOLATED: IPV4, EGRESS_ISOLATED: IPV4, SELF: "ipv4_addr . ipv4_addr"}
NOTHING = Selector((Requirement("", IN, ()),))  # `in ()` of no key: matches no labels
MAX_NAME = 200  # nft names are at most 255 bytes; leaves room for the suffixes


@dataclass(frozen=True)
class PortMatch:
    protocol: str  # tcp | udp | sctp
    port: int = 0  # 0: every port of the protocol
    end_port: int = 0
    name: str = ""  # a named port, resolved per pod


@dataclass(frozen=True)
class Peer:
    pods: Selector | None = None  # None with namespaces set: every pod of those namespaces
    namespaces: Selector | None = None  # None with pods set: the policy's own namespace
    cidr: str = ""
    excepts: tuple[str, ...] = ()

    @property
    def is_pod_peer(self) -> bool:
        return not self.cidr


@dataclass(frozen=True)
class Rule:
    peers: tuple[Peer, ...] = ()  # (): every peer
    ports: tuple[PortMatch, ...] = ()  # (): every port and protocol

    @property
    def named_ports(self) -> tuple[PortMatch, ...]:
        return tuple(p for p in self.ports if p.name)


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    targets: Selector
    ingress: tuple[Rule, ...] | None = None  # None: the policy does not isolate for ingress
    egress: tuple[Rule, ...] | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: str) -> tuple[Rule, ...] | None:
        return self.ingress if direction == INGRESS else self.egress


@dataclass(frozen=True)
class PodView:
    """What policies need of a pod; built only for pods on the pod network with an IPv4 address."""

    namespace: str
    name: str
    ip: str
    node: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=True)
    ports: frozenset[tuple[str, str, int]] = frozenset()  # (name, protocol, number) of named ports

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def port_named(self, name: str, protocol: str) -> int:
        return next((n for pname, proto, n in self.ports if pname == name and proto == protocol), 0)


# -- from API objects ----------------------------------------------------------------------------

def _selector(sel) -> Selector:
    try:
        return from_label_selector(sel)
    except SelectorError:  # the apiserver refuses these; select nothing rather than everything
        return NOTHING


def _port(p: networking_pb2.NetworkPolicyPort) -> PortMatch | None:
    protocol = PROTOCOLS.get(p.protocol if p.HasField("protocol") else "TCP")
    if protocol is None:
        return None
    kind = p.port.WhichOneof("kind") if p.HasField("port") else None
    if kind == "string_value":
        value = p.port.string_value
        return PortMatch(protocol, int(value)) if value.isdigit() else PortMatch(protocol, name=value)
    if kind == "number_value":
        port = int(p.port.number_value)
        return PortMatch(protocol, port, int(p.end_port) if p.HasField("end_port") else 0)
    return PortMatch(protocol)


def _peer(p: networking_pb2.NetworkPolicyPeer) -> Peer:
    if p.HasField("ip_block"):
        return Peer(cidr=p.ip_block.cidr, excepts=tuple(p.ip_block.except_))
    return Peer(pods=_selector(p.pod_selector) if p.HasField("pod_selector") else None,
                namespaces=_selector(p.namespace_selector) if p.HasField("namespace_selector") else None)


def _rule(peers, ports) -> Rule:
    matches = [_port(p) for p in ports]
    return Rule(tuple(_peer(p) for p in peers), tuple(m for m in matches if m is not None))


def compile_policy(np: networking_pb2.NetworkPolicy) -> Policy:
    types = set(np.spec.policy_types) or ({"Ingress", "Egress"} if np.spec.egress else {"Ingress"})
    ingress = tuple(_rule(r.from_, r.ports) for r in np.spec.ingress) if "Ingress" in types else None
    egress = tuple(_rule(r.to, r.ports) for r in np.spec.egress) if "Egress" in types else None
    return Policy(np.metadata.namespace, np.metadata.name, _selector(np.spec.pod_selector), ingress, egress)


def _ipv4(pod: pod_pb2.Pod) -> str:
    for addr in [p.ip for p in pod.status.pod_ips] or [pod.status.pod_ip]:
        try:
            if addr and ipaddress.ip_address(addr).version == 4:
                return addr
        except ValueError:
            continue
    return ""


def pod_view(pod: pod_pb2.Pod) -> PodView | None:
    """None for pods policies ignore: host-network pods, finished pods, pods without an address."""
    ip = _ipv4(pod)
    if not ip or pod.spec.host_network or pod.status.phase in ("Succeeded", "Failed"):
        return None
    ports = frozenset((p.name, PROTOCOLS.get(p.protocol or "TCP", ""), int(p.container_port))
                      for c in [*pod.spec.init_containers, *pod.spec.containers] for p in c.ports if p.name)
    return PodView(pod.metadata.namespace, pod.metadata.name, ip, pod.spec.node_name,
                   dict(pod.metadata.labels), ports)


# -- names ---------------------------------------------------------------------------------------

def policy_id(key: str) -> str:
    if len(key) <= MAX_NAME:
        return key
    return f"{key[:MAX_NAME - 13]}~{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def chain_name(key: str, direction: str) -> str:
    return f"pol-{policy_id(key)}-{direction}"


def targets_set(key: str) -> str:
    return f"pol-{policy_id(key)}-targets"


def peers_set(key: str, direction: str, index: int) -> str:
    return f"pol-{policy_id(key)}-{direction}-{index}-peers"


def ports_set(key: str, direction: str, index: int) -> str:
    return f"pol-{policy_id(key)}-{direction}-{index}-ports"


# -- a policy's chains and sets ------------------------------------------------------------------

@dataclass
class Tables:
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sets: dict[str, str] = field(default_factory=dict)  # name -> element type


def _peer_matches(policy: Policy, direction: str, index: int, rule: Rule) -> list[str]:
    if not rule.peers:
        return [""]
    addr = "saddr" if direction == INGRESS else "daddr"
    out = []
    if any(p.is_pod_peer for p in rule.peers):
        out.append(f"ip {addr} @{peers_set(policy.key, direction, index)}")
    for p in rule.peers:
        if p.is_pod_peer:
            continue
        family = "ip6" if ipaddress.ip_network(p.cidr, strict=False).version == 6 else "ip"
        match = f"{family} {addr} {p.cidr}"
        if p.excepts:
            match += f" {family} {addr} != {{ {', '.join(p.excepts)} }}"
        out.append(match)
    return out


def _port_matches(policy: Policy, direction: str, index: int, rule: Rule) -> list[str]:
    if not rule.ports:
        return [""]
    out = []
    for p in rule.ports:
        if p.name:
            continue
        match = f"meta l4proto {p.protocol}"
        if p.port:
            match += f" th dport {p.port}-{p.end_port}" if p.end_port > p.port else f" th dport {p.port}"
        out.append(match)
    if rule.named_ports:
        out.append(f"ip daddr . meta l4proto . th dport @{ports_set(policy.key, direction, index)}")
    return list(dict.fromkeys(out))


def _direction_tables(policy: Policy, direction: str, tables: Tables) -> None:
    rules = policy.rules(direction)
    if rules is None:
        return
    target = "daddr" if direction == INGRESS else "saddr"
    body = [f"ip {target} != @{targets_set(policy.key)} return"]
    for i, rule in enumerate(rules):
        if any(p.is_pod_peer for p in rule.peers):
            tables.sets[peers_set(policy.key, direction, i)] = IPV4
        if rule.named_ports:
            tables.sets[ports_set(policy.key, direction, i)] = PORT_KEY
        for peer in _peer_matches(policy, direction, i, rule):
            for port in _port_matches(policy, direction, i, rule):
                body.append(" ".join(m for m in (peer, port, ALLOW) if m))
    tables.chains[chain_name(policy.key, direction)] = tuple(dict.fromkeys(body))


def policy_tables(policy: Policy) -> Tables:
    tables = Tables(sets={targets_set(policy.key): IPV4})
    _direction_tables(policy, INGRESS, tables)
    _direction_tables(policy, EGRESS, tables)
    return tables


def check_chain(direction: str, policy_keys: list[str]) -> tuple[str, ...]:
    """Runs every policy chain of a direction; nothing marked the packet allowed: dropped."""
    head = ["fib saddr type local return"] if direction == INGRESS else []  # the node reaches its pods
    jumps = [f"jump {chain_name(k, direction)}" for k in sorted(policy_keys)]
    return (*head, *jumps, f"meta mark & {ALLOW_MARK:#x} == 0 drop",
            f"meta mark set meta mark & {0xffffffff ^ ALLOW_MARK:#x}")


FORWARD = (
    "type filter hook forward priority filter; policy accept;",
    "ct state established,related accept",
    f"ip saddr . ip daddr @{SELF} accept",
    f"ip saddr @{EGRESS_ISOLATED} jump egress-check",
    f"ip daddr @{INGRESS_ISOLATED} jump ingress-check",
)


# -- what one pod adds to the sets ---------------------------------------------------------------

def _peer_selects(peer: Peer, policy_ns: str, pod: PodView, ns_labels: Mapping[str, str]) -> bool:
    if not peer.is_pod_peer:
        return False
    if peer.namespaces is None:
        in_namespace = pod.namespace == policy_ns
    else:
        in_namespace = peer.namespaces.matches(ns_labels)
    return in_namespace and (peer.pods is None or peer.pods.matches(pod.labels))


def _named_elements(rule: Rule, pod: PodView) -> list[str]:
    out = []
    for p in rule.named_ports:
        number = pod.port_named(p.name, p.protocol)
        if number:
            out.append(f"{pod.ip} . {p.protocol} . {number}")
    return out


def contributions(policy: Policy, pod: PodView, ns_labels: Mapping[str, str],
                  node_name: str) -> dict[str, list[str]]:
    """Set name -> the elements this pod puts into this policy's sets (and the isolation sets)."""
    out: dict[str, list[str]] = {}
    target = (pod.node == node_name and pod.namespace == policy.namespace
              and policy.targets.matches(pod.labels))
    if target:
        out[targets_set(policy.key)] = [pod.ip]
        if policy.ingress is not None:
            out[INGRESS_ISOLATED] = [pod.ip]
        if policy.egress is not None:
            out[EGRESS_ISOLATED] = [pod.ip]
    for direction in (INGRESS, EGRESS):
        for i, rule in enumerate(policy.rules(direction) or ()):
            if any(_peer_selects(p, policy.namespace, pod, ns_labels) for p in rule.peers):
                out[peers_set(policy.key, direction, i)] = [pod.ip]
            # Ingress: the selected pod's own ports; egress: any destination pod's.
            if rule.named_ports and (target or direction == EGRESS):
                named = _named_elements(rule, pod)
                if named:
                    out[ports_set(policy.key, direction, i)] = named
    return out


def pod_globals(pod: PodView, node_name: str) -> dict[str, list[str]]:
    return {SELF: [f"{pod.ip} . {pod.ip}"]} if pod.node == node_name else {}
