"""NetworkPolicy -> the node's `inet skiff-netpol` table: pure rendering, a table of cases.

Each case gives policies, pods and namespace labels and checks the policy chains and the set
elements they produce; the kernel's view of the same text is checked in tests/e2e.
"""

from __future__ import annotations

import asyncio
import re
from random import Random

import pytest
from google.protobuf import json_format

from control.client.informer import copy_of
from node.network.networkpolicy import PolicyEnforcer
from node.network.nftables import NftError
from node.network.policyrules import ALLOW, GLOBAL_SETS, PodView, compile_policy, pod_view
from node.network.policytable import Applied, PolicyState, build, render, take_diff, take_full
from skiff.v1 import networking_pb2, pod_pb2

NODE = "node-a"
NAMESPACES = {"default": {"kubernetes.io/metadata.name": "default"},
              "prod": {"kubernetes.io/metadata.name": "prod", "team": "web"},
              "dev": {"kubernetes.io/metadata.name": "dev", "team": "web", "stage": "dev"}}
PODS = [
    PodView("default", "db", "10.244.1.10", NODE, {"role": "db"}, frozenset({("http", "tcp", 8080)})),
    PodView("default", "db2", "10.244.1.11", NODE, {"role": "db"}, frozenset({("http", "tcp", 9090)})),
    PodView("default", "web", "10.244.1.20", NODE, {"role": "web"}),
    PodView("default", "remote-db", "10.244.2.10", "node-b", {"role": "db"}),
    PodView("prod", "web", "10.244.2.20", "node-b", {"role": "web"}, frozenset({("http", "tcp", 8000)})),
    PodView("dev", "api", "10.244.2.30", "node-b", {"role": "api"}),
]


def policy(spec: dict, name: str = "p", namespace: str = "default") -> networking_pb2.NetworkPolicy:
    return json_format.ParseDict({"metadata": {"name": name, "namespace": namespace}, "spec": spec},
                                 networking_pb2.NetworkPolicy())


def state_of(*specs: dict) -> PolicyState:
    policies = [compile_policy(policy(s, f"p{i}")) for i, s in enumerate(specs)]
    return build(policies, PODS, NAMESPACES, NODE)


def allow(*matches: str) -> str:
    return " ".join([*matches, ALLOW])


DB = {"matchLabels": {"role": "db"}}
CASES = {
    "deny all ingress: local selected pods isolated, no allow rule": (
        {"podSelector": {}, "policyTypes": ["Ingress"]},
        {"pol-default/p0-in": ("ip daddr != @T return",)},
        {"T": {"10.244.1.10", "10.244.1.11", "10.244.1.20"},
         "ingress-isolated": {"10.244.1.10", "10.244.1.11", "10.244.1.20"}, "egress-isolated": set()}),
    "selected by labels, only this node's pods; other pods stay open": (
        {"podSelector": DB, "policyTypes": ["Ingress"], "ingress": [{}]},
        {"pol-default/p0-in": ("ip daddr != @T return", allow())},
        {"T": {"10.244.1.10", "10.244.1.11"},
         "ingress-isolated": {"10.244.1.10", "10.244.1.11"}}),
    "podSelector peer: the policy's own namespace only": (
        {"podSelector": DB, "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "web"}}}]}]},
        {"pol-default/p0-in": ("ip daddr != @T return",
                               allow("ip saddr @P"))},
        {"P": {"10.244.1.20"}}),
    "namespaceSelector peer: every pod of the matching namespaces": (
        {"podSelector": DB, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "web"}}}]}]},
        {}, {"P": {"10.244.2.20", "10.244.2.30"}}),
    "both in one peer: the pods matching one in the namespaces matching the other": (
        {"podSelector": DB, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "web"}},
                                                   "podSelector": {"matchLabels": {"role": "web"}}}]}]},
        {}, {"P": {"10.244.2.20"}}),
    "two peers are ORed": (
        {"podSelector": DB, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"stage": "dev"}}},
                                                  {"podSelector": {"matchLabels": {"role": "web"}}}]}]},
        {}, {"P": {"10.244.2.30", "10.244.1.20"}}),
    "ipBlock with except": (
        {"podSelector": DB, "ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16",
                                                               "except": ["172.17.1.0/24"]}}]}]},
        {"pol-default/p0-in": ("ip daddr != @T return",
                               allow("ip saddr 172.17.0.0/16 ip saddr != { 172.17.1.0/24 }"))}, {}),
    "ipBlock normalized for nft: host bits cleared, overlapping excepts merged": (
        {"podSelector": DB, "ingress": [{"from": [{"ipBlock": {"cidr": "172.17.3.4/16", "except": [
            "172.17.1.0/24", "172.17.1.128/25", "172.17.0.0/24"]}}]}]},
        {"pol-default/p0-in": ("ip daddr != @T return",
                               allow("ip saddr 172.17.0.0/16 ip saddr != { 172.17.0.0/23 }"))}, {}),
    "ports by number, range and protocol; peers x ports": (
        {"podSelector": DB, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                                         "ports": [{"port": 80}, {"protocol": "TCP", "port": 32000, "endPort": 32768},
                                                   {"protocol": "UDP"}]}]},
        {"pol-default/p0-in": ("ip daddr != @T return",
                               allow("ip saddr 10.0.0.0/8", "meta l4proto tcp th dport 80"),
                               allow("ip saddr 10.0.0.0/8", "meta l4proto tcp th dport 32000-32768"),
                               allow("ip saddr 10.0.0.0/8", "meta l4proto udp"))}, {}),
    "ingress named port: resolved on each selected pod": (
        {"podSelector": DB, "ingress": [{"ports": [{"port": "http"}]}]},
        {"pol-default/p0-in": ("ip daddr != @T return",
                               allow("ip daddr . meta l4proto . th dport @N"))},
        {"N": {"10.244.1.10 . tcp . 8080", "10.244.1.11 . tcp . 9090"}}),
    "egress named port: resolved on the destination pods, cluster-wide": (
        {"podSelector": DB, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": "http"}]}]},
        {"pol-default/p0-eg": ("ip saddr != @T return",
                               allow("ip daddr . meta l4proto . th dport @N"))},
        {"N": {"10.244.1.10 . tcp . 8080", "10.244.1.11 . tcp . 9090",
                                       "10.244.2.20 . tcp . 8000"},
         "egress-isolated": {"10.244.1.10", "10.244.1.11"}, "ingress-isolated": set()}),
    "egress to pods and an ipBlock": (
        {"podSelector": DB, "policyTypes": ["Egress"],
         "egress": [{"to": [{"podSelector": {"matchLabels": {"role": "web"}}}, {"ipBlock": {"cidr": "8.8.8.8/32"}}],
                     "ports": [{"protocol": "UDP", "port": 53}]}]},
        {"pol-default/p0-eg": ("ip saddr != @T return",
                               allow("ip daddr @P", "meta l4proto udp th dport 53"),
                               allow("ip daddr 8.8.8.8/32", "meta l4proto udp th dport 53"))},
        {"P": {"10.244.1.20"}}),
    "policyTypes from the rules when not given": (
        {"podSelector": DB, "egress": [{}]},
        {"pol-default/p0-in": ("ip daddr != @T return",),
         "pol-default/p0-eg": ("ip saddr != @T return", allow())}, {}),
}


def keys(state: PolicyState, name: str) -> set[str]:
    """A set's elements, or a map's keys."""
    return {e.split(" : ")[0] for e in state.live(name)}


def placeholders(state: PolicyState) -> dict[str, str]:
    """T, P, N -> the name of the one targets, pod-peers, named-ports set the policies use."""
    used = {m for rules in state.chains.values() for r in rules for m in re.findall(r"@([tpn]-[0-9a-f]+)", r)}
    found = {}
    for name in used:
        assert name[0].upper() not in found, f"several {name[0]} sets: the case needs one"
        found[name[0].upper()] = name
    return found


@pytest.mark.parametrize("name", CASES)
def test_policy_rendering(name):
    spec, chains, sets = CASES[name]
    state = state_of(spec)
    names = placeholders(state)
    for chain, rules in chains.items():
        actual = tuple(re.sub(r"@([tpn])-[0-9a-f]+", lambda m: "@" + m.group(1).upper(), r)
                       for r in state.chains[chain])
        assert actual == rules, chain
    for set_name, elements in sets.items():
        assert keys(state, names.get(set_name, set_name)) == elements, set_name
    assert set(state.sets) == {*GLOBAL_SETS, *names.values()}


def test_policies_selecting_the_same_pods_share_sets():
    same = {"podSelector": DB, "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "web"}}}]}]}
    state = state_of(same, same)
    assert len(state.sets) == len(GLOBAL_SETS) + 2  # one targets set, one peers set
    state.set_policy("default/p0", None)
    assert len(state.sets) == len(GLOBAL_SETS) + 2 and keys(state, "ingress-isolated") == {"10.244.1.10", "10.244.1.11"}
    state.set_policy("default/p1", None)
    state.refresh_checks()
    assert set(state.sets) == set(GLOBAL_SETS) and state.live("ingress-isolated") == set()
    assert "in-default" not in state.chains


def test_policies_are_a_union_and_each_direction_checks_all_of_its_own():
    state = state_of({"podSelector": DB, "ingress": [{}]}, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    assert state.chains["in-default"] == (
        "fib saddr type local return", "jump pol-default/p0-in", "jump pol-default/p1-in",
        "meta mark & 0x20000 == 0 drop", "meta mark set meta mark & 0xfffdffff")
    assert state.chains["eg-default"][0] == "jump pol-default/p1-eg"
    assert state.live("ingress-isolated") == {f"10.244.1.{i} : jump in-default" for i in (10, 11, 20)}
    assert state.live("egress-isolated") == {f"10.244.1.{i} : jump eg-default" for i in (10, 11, 20)}
    assert state.live("self") == {"10.244.1.10 . 10.244.1.10", "10.244.1.11 . 10.244.1.11",
                                  "10.244.1.20 . 10.244.1.20"}


def test_full_text_replaces_the_table_in_one_transaction():
    text = render([compile_policy(policy({"podSelector": DB}))], PODS, NAMESPACES, NODE)
    lines = text.splitlines()
    assert lines[:3] == ["add table inet skiff-netpol", "delete table inet skiff-netpol", "table inet skiff-netpol {"]
    targets = placeholders(build([compile_policy(policy({"podSelector": DB}))], PODS, NAMESPACES, NODE))["T"]
    assert f"set {targets} {{ type ipv4_addr; elements = {{ 10.244.1.10, 10.244.1.11 }}; }}" in lines
    assert "type filter hook forward priority filter; policy accept;" in lines
    assert "ct state established,related accept" in lines
    assert "map ingress-isolated { type ipv4_addr : verdict; elements = { 10.244.1.10 : jump in-default, " \
           "10.244.1.11 : jump in-default }; }" in lines


def _pod(**kw) -> pod_pb2.Pod:
    ports = [{"name": "http", "containerPort": 80}, {"name": "dns", "containerPort": 53, "protocol": "UDP"}]
    pod = json_format.ParseDict({"metadata": {"name": "x", "namespace": "default", "labels": {"a": "b"}},
                                 "spec": {"nodeName": NODE, "containers": [{"name": "c", "ports": ports}]},
                                 "status": {"phase": "Running", "podIP": "10.244.1.5",
                                            "podIPs": [{"ip": "fd00::5"}, {"ip": "10.244.1.5"}]}}, pod_pb2.Pod())
    for path, value in kw.items():
        target, field = (pod.spec, path[5:]) if path.startswith("spec_") else (pod.status, path[7:])
        setattr(target, field, value)
    return pod


def test_pod_view_takes_the_ipv4_address_and_named_ports_and_skips_what_policies_ignore():
    view = pod_view(_pod())
    assert view.ip == "10.244.1.5" and view.port_named("dns", "udp") == 53 and view.port_named("dns", "tcp") == 0
    assert pod_view(_pod(spec_host_network=True)) is None
    assert pod_view(_pod(status_phase="Succeeded")) is None
    bare = _pod()
    bare.status.ClearField("pod_ips")
    bare.status.pod_ip = ""
    assert pod_view(bare) is None


def _snapshot(state: PolicyState) -> tuple:
    state.refresh_checks()
    return dict(state.chains), {n: (k, state.live(n)) for n, k in state.sets.items()}


def _applied(applied: Applied) -> tuple:
    return dict(applied.chains), {n: (k, applied.elements[n]) for n, k in applied.sets.items()}


def test_incremental_changes_converge_to_what_a_fresh_render_gives():
    rng = Random(7)
    specs = [{"podSelector": DB, "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "web"}}}],
                                              "ports": [{"port": "http"}]}]},
             {"podSelector": {}, "policyTypes": ["Egress"],
              "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": "web"}}}]}]},
             {"podSelector": {"matchLabels": {"role": "web"}}, "ingress": [{"ports": [{"port": 80}]}]}]
    pods, namespaces, policies = {p.key: p for p in PODS}, {k: dict(v) for k, v in NAMESPACES.items()}, {}
    state, applied = PolicyState(NODE), Applied()
    for n, labels in namespaces.items():
        state.set_namespace(n, labels)
    for p in PODS:
        state.set_pod(p.key, p)
    _text, commit = take_full(state, applied)
    commit()
    for _ in range(300):
        what = rng.choice(["policy", "pod", "namespace"])
        if what == "policy":
            i = rng.randrange(len(specs))
            key = f"default/p{i}"
            compiled = None if key in policies and rng.random() < 0.5 else compile_policy(policy(specs[i], f"p{i}"))
            policies.pop(key, None)
            if compiled is not None:
                policies[key] = compiled
            state.set_policy(key, compiled)
        elif what == "pod":
            base = rng.choice(PODS)
            ip = f"10.244.{rng.choice([1, 2])}.{rng.randrange(10, 14)}"
            new = None if rng.random() < 0.3 else PodView(base.namespace, base.name, ip, rng.choice([NODE, "node-b"]),
                                                          {"role": rng.choice(["db", "web"])}, base.ports)
            pods.pop(base.key, None)
            if new is not None:
                pods[base.key] = new
            state.set_pod(base.key, new)
        else:
            ns = rng.choice(list(namespaces))
            namespaces[ns] = {"team": rng.choice(["web", "ops"])}
            state.set_namespace(ns, namespaces[ns])
        if rng.random() < 0.5:
            _text, commit = take_diff(state, applied)
            commit()
    _text, commit = take_diff(state, applied)
    commit()
    fresh = build(policies.values(), pods.values(), namespaces, NODE)
    assert _snapshot(state) == _snapshot(fresh)
    assert _applied(applied) == _snapshot(fresh)
    assert take_diff(state, applied)[0] == ""


class RecordingNft:
    def __init__(self) -> None:
        self.applied: list[str] = []
        self.fail_next = False

    async def apply(self, text: str) -> None:
        if self.fail_next:
            self.fail_next = False
            raise NftError("nft -f - failed: boom")
        self.applied.append(text)


def _api_pod(name: str, ip: str, labels: dict) -> pod_pb2.Pod:
    return json_format.ParseDict({"metadata": {"name": name, "namespace": "default", "labels": labels},
                                  "spec": {"nodeName": NODE}, "status": {"phase": "Running", "podIP": ip}},
                                 pod_pb2.Pod())


async def test_enforcer_replaces_the_table_first_then_sends_only_changes():
    nft = RecordingNft()
    enforcer = PolicyEnforcer(nft, NODE)
    enforcer.on_pod(_api_pod("db", "10.244.1.10", {"role": "db"}))
    np = policy({"podSelector": DB})
    enforcer.on_policy(np)
    await enforcer.sync()
    assert nft.applied[0].startswith("add table inet skiff-netpol\ndelete table inet skiff-netpol\n")
    assert enforcer.synced.is_set()
    relabeled = copy_of(np)
    relabeled.metadata.labels["x"] = "y"
    enforcer.on_policy(np, relabeled)  # metadata only: nothing to do
    assert enforcer.synced.is_set()
    enforcer.on_pod(_api_pod("db", "10.244.1.10", {"role": "db"}), _api_pod("db", "10.244.1.99", {"role": "db"}))
    await enforcer.sync()
    assert "delete element inet skiff-netpol ingress-isolated { 10.244.1.10 }" in nft.applied[1]
    assert "add element inet skiff-netpol ingress-isolated { 10.244.1.99 : jump in-default }" in nft.applied[1]
    assert "table inet skiff-netpol {" not in nft.applied[1]


async def test_enforcer_retries_a_failed_change_as_a_full_replacement():
    nft = RecordingNft()
    enforcer = PolicyEnforcer(nft, NODE)
    enforcer.retry_interval = 0.01
    await enforcer.sync()
    nft.fail_next = True
    enforcer.on_policy(policy({"podSelector": DB}))
    runner = asyncio.create_task(enforcer.run())
    try:
        await asyncio.wait_for(enforcer.synced.wait(), 5)
    finally:
        runner.cancel()
    assert len(nft.applied) == 2 and nft.applied[1].startswith("add table inet skiff-netpol\ndelete table")
    assert "chain pol-default/p-in {" in nft.applied[1]
