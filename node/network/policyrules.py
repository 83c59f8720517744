"""NetworkPolicies as data: what each policy selects and allows, and what each pod adds to the table.

Kubernetes' semantics: a pod selected by a policy whose `policyTypes` has Ingress (Egress) is
isolated for that direction and accepts only what the union of those policies' rules allows;
a rule with no peers admits every peer and one with no ports every port; peers are ORed, so are
ports; a peer's podSelector alone means the policy's namespace, a namespaceSelector alone every
pod of the matching namespaces, both together the pods matching one in the namespaces matching
the other; an ipBlock is its CIDR minus its `except` list; a named port is resolved per pod from
its containers' ports (for ingress the selected pod's, for egress the destination's).

Everything here is pure. A policy's chains (`policy_tables`) depend only on the policy; they match
sets of pod addresses (`Selection`): a policy's targets, a rule's pod peers, a rule's named ports.
Policies selecting the same pods share one set (named by a hash of what it selects), and its
elements come from pods, keyed by pod address, so a pod appearing, changing labels or address is a
change of set elements only.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from control.client.selectors import EVERYTHING, IN, Requirement, Selector, SelectorError, from_label_selector
from skiff.v1 import networking_pb2, pod_pb2

PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}
ALLOW_MARK = 0x20000  # set by a policy chain that allows the packet; cleared once the check is done
ALLOW = f"meta mark set meta mark | {ALLOW_MARK:#x} return"
INGRESS, EGRESS = "in", "eg"
IPV4 = "ipv4_addr"
PORT_KEY = "ipv4_addr . inet_proto . inet_service"
# Maps and sets shared by all policies: local pods isolated per direction (address -> the check
# chain of the pod's namespace), and the `ip . ip` of each local pod, since a pod reaching itself
# (through a Service VIP) cannot be blocked.
INGRESS_ISOLATED, EGRESS_ISOLATED, SELF = "ingress-isolated", "egress-isolated", "self"
GLOBAL_SETS = {INGRESS_ISOLATED: "ipv4_addr : verdict", EGRESS_ISOLATED: "ipv4_addr : verdict",
               SELF: "ipv4_addr . ipv4_addr"}
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


# -- selections: the sets, shared by every policy rule that selects the same pods ---------------

@dataclass(frozen=True)
class PodSet:
    """Pods in `namespace` (or, if None, in the namespaces `namespaces` selects) matching `pods`."""

    namespace: str | None
    namespaces: Selector | None
    pods: Selector
    local: bool = False  # only this node's pods

    def matches(self, pod: PodView, ns_labels: Mapping[str, str], node_name: str) -> bool:
        if self.local and pod.node != node_name:
            return False
        if self.namespace is not None:
            if pod.namespace != self.namespace:
                return False
        elif self.namespaces is None or not self.namespaces.matches(ns_labels):
            return False
        return self.pods.matches(pod.labels)


@dataclass(frozen=True)
class Selection:
    """One nft set: the addresses of the pods of `members` (t: a policy's targets, p: a rule's pod
    peers), or (n) `address . protocol . port` of their named `ports`, members None being every pod."""

    kind: str
    members: tuple[PodSet, ...] | None
    ports: tuple[tuple[str, str], ...] = ()  # (name, protocol)

    @cached_property
    def name(self) -> str:
        return f"{self.kind}-{hashlib.sha256(repr(self).encode()).hexdigest()[:16]}"

    @property
    def element_type(self) -> str:
        return PORT_KEY if self.kind == "n" else IPV4

    @cached_property
    def namespace(self) -> str | None:
        """The one namespace all members are in, or None when pods of any namespace may belong."""
        if not self.members:
            return None
        found = {m.namespace for m in self.members}
        return found.pop() if len(found) == 1 else None

    def may_include(self, namespace: str, ns_labels: Mapping[str, str]) -> bool:
        """Whether pods of this namespace can belong (to skip whole namespaces)."""
        if self.members is None:
            return True
        return any(m.namespace == namespace if m.namespace is not None
                   else m.namespaces is not None and m.namespaces.matches(ns_labels) for m in self.members)

    def elements(self, pod: PodView, ns_labels: Mapping[str, str], node_name: str) -> list[str]:
        if self.members is not None and not any(m.matches(pod, ns_labels, node_name) for m in self.members):
            return []
        if self.kind != "n":
            return [pod.ip]
        out = []
        for name, protocol in self.ports:
            number = pod.port_named(name, protocol)
            if number:
                out.append(f"{pod.ip} . {protocol} . {number}")
        return out


def targets_of(policy: Policy) -> Selection:
    return Selection("t", (PodSet(policy.namespace, None, policy.targets, local=True),))


def _pod_peers(policy: Policy, rule: Rule) -> Selection | None:
    members = tuple(dict.fromkeys(
        PodSet(policy.namespace if p.namespaces is None else None, p.namespaces, p.pods or EVERYTHING)
        for p in rule.peers if p.is_pod_peer))
    return Selection("p", members) if members else None


def _named(policy: Policy, direction: str, rule: Rule) -> Selection | None:
    ports = tuple(dict.fromkeys((p.name, p.protocol) for p in rule.named_ports))
    if not ports:
        return None
    # Ingress: the selected pod's own ports; egress: those of the destination, any pod.
    return Selection("n", targets_of(policy).members if direction == INGRESS else None, ports)


# -- a policy's chains ---------------------------------------------------------------------------

def policy_id(key: str) -> str:
    if len(key) <= MAX_NAME:
        return key
    return f"{key[:MAX_NAME - 13]}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def chain_name(key: str, direction: str) -> str:
    return f"pol-{policy_id(key)}-{direction}"


@dataclass
class Tables:
    chains: dict[str, tuple[str, ...]] = field(default_factory=dict)
    selections: dict[str, Selection] = field(default_factory=dict)  # by set name
    isolates: dict[str, str] = field(default_factory=dict)  # direction -> the targets set it isolates


def _peer_matches(direction: str, rule: Rule, peers: Selection | None) -> list[str]:
    if not rule.peers:
        return [""]
    addr = "saddr" if direction == INGRESS else "daddr"
    out = [f"ip {addr} @{peers.name}"] if peers is not None else []
    for p in rule.peers:
        if p.is_pod_peer:
            continue
        cidr = ipaddress.ip_network(p.cidr, strict=False)  # nft wants host bits clear
        family = "ip6" if cidr.version == 6 else "ip"
        match = f"{family} {addr} {cidr}"
        if p.excepts:
            nets = ipaddress.collapse_addresses(ipaddress.ip_network(e, strict=False) for e in p.excepts)
            excepts = ", ".join(str(n) for n in nets)  # overlapping intervals would fail the transaction
            match += f" {family} {addr} != {{ {excepts} }}"
        out.append(match)
    return out


def _port_matches(rule: Rule, named: Selection | None) -> list[str]:
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
    if named is not None:
        out.append(f"ip daddr . meta l4proto . th dport @{named.name}")
    return list(dict.fromkeys(out))


def _direction_tables(policy: Policy, direction: str, tables: Tables) -> None:
    rules = policy.rules(direction)
    if rules is None:
        return
    targets = targets_of(policy)
    tables.isolates[direction] = targets.name
    body = [f"ip {'daddr' if direction == INGRESS else 'saddr'} != @{targets.name} return"]
    for rule in rules:
        peers, named = _pod_peers(policy, rule), _named(policy, direction, rule)
        tables.selections.update((s.name, s) for s in (peers, named) if s is not None)
        for peer in _peer_matches(direction, rule, peers):
            for port in _port_matches(rule, named):
                if peer.startswith("ip6 ") and port.startswith("ip "):
                    continue  # named ports are of (IPv4) pods: nothing to match for an IPv6 block
                body.append(" ".join(m for m in (peer, port, ALLOW) if m))
    tables.chains[chain_name(policy.key, direction)] = tuple(dict.fromkeys(body))


def policy_tables(policy: Policy) -> Tables:
    targets = targets_of(policy)
    tables = Tables(selections={targets.name: targets})
    _direction_tables(policy, INGRESS, tables)
    _direction_tables(policy, EGRESS, tables)
    return tables


def check_chain_name(direction: str, namespace: str) -> str:
    return f"{direction}-{namespace}"


def isolation_element(direction: str, pod: PodView) -> str:
    return f"{pod.ip} : jump {check_chain_name(direction, pod.namespace)}"


def check_chain(direction: str, policy_keys: list[str]) -> tuple[str, ...]:
    """Runs every policy chain of a direction in one namespace; what none allowed is dropped."""
    head = ["fib saddr type local return"] if direction == INGRESS else []  # the node reaches its pods
    jumps = [f"jump {chain_name(k, direction)}" for k in sorted(policy_keys)]
    return (*head, *jumps, f"meta mark & {ALLOW_MARK:#x} == 0 drop",
            f"meta mark set meta mark & {0xffffffff ^ ALLOW_MARK:#x}")


FORWARD = (
    "type filter hook forward priority filter; policy accept;",
    "ct state established,related accept",
    f"ip saddr . ip daddr @{SELF} accept",
    f"ip saddr vmap @{EGRESS_ISOLATED}",
    f"ip daddr vmap @{INGRESS_ISOLATED}",
)
