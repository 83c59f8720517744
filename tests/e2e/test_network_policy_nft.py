"""The NetworkPolicy table in the kernel: incremental transactions end where one full load does.

Random policy, pod and namespace changes are applied one `nft -f` transaction at a time to a
network namespace; another namespace gets the final state in one full transaction; the two
tables, as nft lists them, must be the same.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from random import Random

import pytest
from google.protobuf import json_format

from node.network.libnft import LibNft
from node.network.nftables import NftError
from node.network.policyrules import PodView, compile_policy
from node.network.policytable import TABLE, Applied, PolicyState, build, render, take_diff, take_full
from skiff.v1 import networking_pb2
from tests.fixtures.examples import WAVE2, corpus_files, documents, require_corpus

NODE = "node-a"


@pytest.fixture
def netns():
    names = []

    def make() -> str:
        name = f"sknp-{uuid.uuid4().hex[:8]}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        names.append(name)
        return name
    yield make
    for name in names:
        subprocess.run(["ip", "netns", "del", name], check=False)


def nft(netns: str, *args: str, stdin: str | None = None) -> str:
    r = subprocess.run(["nsenter", f"--net=/var/run/netns/{netns}", "nft", *args], input=stdin, text=True,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, f"nft {' '.join(args)}: {r.stderr}\n{stdin}"
    return r.stdout


def listing(netns: str) -> list:
    """The table as nft lists it, without handles, set elements in a stable order."""
    objects = json.loads(nft(netns, "-j", "list", "table", *TABLE.split()))["nftables"]
    out = []
    for obj in objects:
        (kind, body), = obj.items()
        if kind == "metainfo":
            continue
        body = {k: v for k, v in body.items() if k != "handle"}
        if "elem" in body:
            body["elem"] = sorted(json.dumps(e, sort_keys=True) for e in body["elem"])
        out.append((kind, body.get("chain", ""), json.dumps(body, sort_keys=True)))
    # Rules keep their order within their chain (a stable sort by chain); chains may come in any order.
    return sorted(o for o in out if o[0] != "rule") + sorted((o for o in out if o[0] == "rule"),
                                                             key=lambda o: o[1])


def policy(i: int, rng: Random) -> networking_pb2.NetworkPolicy:
    role = {"matchLabels": {"role": rng.choice(["db", "web"])}}
    spec = rng.choice([
        {"podSelector": role, "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "web"}}},
                                                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                                           "ports": [{"port": "http"}, {"port": 443}]}]},
        {"podSelector": {}, "policyTypes": ["Egress"],
         "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": "web"}}}],
                     "ports": [{"protocol": "UDP", "port": 53}, {"port": 8000, "endPort": 8100}]}]},
        {"podSelector": role, "policyTypes": ["Ingress", "Egress"]},
    ])
    return json_format.ParseDict({"metadata": {"name": f"p{i}", "namespace": rng.choice(["default", "prod"])},
                                  "spec": spec}, networking_pb2.NetworkPolicy())


def test_incremental_transactions_match_a_full_load(netns):
    rng = Random(11)
    incremental, fresh = netns(), netns()
    state, applied = PolicyState(NODE), Applied()
    policies, pods, namespaces = {}, {}, {}
    text, commit = take_full(state, applied)
    nft(incremental, "-f", "-", stdin=text)
    commit()
    for step in range(120):
        what = rng.choice(["policy", "pod", "pod", "namespace"])
        if what == "policy":
            np = policy(rng.randrange(6), rng)
            key = f"{np.metadata.namespace}/{np.metadata.name}"
            compiled = None if key in policies and rng.random() < 0.4 else compile_policy(np)
            policies.pop(key, None)
            if compiled is not None:
                policies[key] = compiled
            state.set_policy(key, compiled)
        elif what == "pod":
            ns, name = rng.choice(["default", "prod"]), f"pod{rng.randrange(8)}"
            view = None if rng.random() < 0.25 else PodView(
                ns, name, f"10.244.{rng.choice([1, 2])}.{rng.randrange(2, 12)}", rng.choice([NODE, "node-b"]),
                {"role": rng.choice(["db", "web"])}, frozenset({("http", "tcp", rng.choice([80, 8080]))}))
            pods.pop(f"{ns}/{name}", None)
            if view is not None:
                pods[f"{ns}/{name}"] = view
            state.set_pod(f"{ns}/{name}", view)
        else:
            ns = rng.choice(["default", "prod"])
            namespaces[ns] = {"team": rng.choice(["web", "ops"])}
            state.set_namespace(ns, namespaces[ns])
        if rng.random() < 0.6 or step == 119:
            text, commit = take_diff(state, applied)
            if text:
                nft(incremental, "-f", "-", stdin=text)
            commit()
    text, _commit = take_full(build(policies.values(), pods.values(), namespaces, NODE), Applied())
    nft(fresh, "-f", "-", stdin=text)
    assert policies and listing(incremental) == listing(fresh)


async def test_libnftables_applies_a_transaction_atomically_in_a_namespace(netns):
    ns = netns()
    lib = LibNft(ns)
    try:
        await lib.apply(f"add table {TABLE}\nadd set {TABLE} s {{ type ipv4_addr; }}\n")
        await lib.apply(f"add element {TABLE} s {{ 10.0.0.1 }}\n")
        with pytest.raises(NftError, match="No such file or directory"):
            # One bad command: the whole transaction is refused, the element before it not added.
            await lib.apply(f"add element {TABLE} s {{ 10.0.0.2 }}\nadd element {TABLE} nosuchset {{ 10.0.0.3 }}\n")
    finally:
        lib.close()
    listed = nft(ns, "list", "set", *TABLE.split(), "s")
    assert "10.0.0.1" in listed and "10.0.0.2" not in listed
    assert subprocess.run(["nft", "list", "set", *TABLE.split(), "s"], capture_output=True).returncode != 0  # not here


EXAMPLE_PODS = [PodView("default", "db", "10.244.1.10", NODE, {"role": "db"}, frozenset({("http", "tcp", 6379)})),
                PodView("default", "fe", "10.244.2.10", "node-b", {"role": "frontend"})]


@pytest.mark.parametrize("path", [p for p in corpus_files(WAVE2) if "networkpolicy" in p.name], ids=lambda p: p.name)
def test_upstream_examples_load_into_the_kernel(path, netns):
    docs = [d for d in documents(require_corpus(path)) if d.get("kind") == "NetworkPolicy"]
    assert docs, f"{path.name} holds no NetworkPolicy"
    for d in docs:
        d.setdefault("metadata", {}).setdefault("namespace", "default")  # as skiffctl would give it
    policies = [compile_policy(json_format.ParseDict(d, networking_pb2.NetworkPolicy(), ignore_unknown_fields=True))
                for d in docs]
    ns = netns()
    nft(ns, "-f", "-", stdin=render(policies, EXAMPLE_PODS, {"default": {}}, NODE))
    listed = nft(ns, "list", "table", *TABLE.split())
    assert all(f"chain pol-default/{p.name}-" in listed for p in policies)


def test_any_valid_names_make_valid_chains(netns):
    """Namespaces may start with a digit, names hold dots and run to 253 characters."""
    names = [("allow.web-1", "1abc"), ("9x", "a-b"), ("x" * 253, "n" * 63)]
    policies = [compile_policy(json_format.ParseDict(
        {"metadata": {"name": name, "namespace": ns}, "spec": {"podSelector": {}, "egress": [{}]}},
        networking_pb2.NetworkPolicy())) for name, ns in names]
    pods = [PodView(ns, "p", f"10.244.1.{i + 2}", NODE, {}) for i, (_name, ns) in enumerate(names)]
    ns = netns()
    nft(ns, "-f", "-", stdin=render(policies, pods, {}, NODE))
    listed = nft(ns, "list", "table", *TABLE.split())
    assert "chain pol-1abc/allow.web-1-in {" in listed and "chain in-" + "n" * 63 + " {" in listed


def test_every_peer_and_port_form_loads(netns):
    """Whole-space and IPv6 blocks with excepts, SCTP, UDP ranges, protocol only, named UDP ports."""
    spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}},
                                  {"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}}],
                         "ports": [{"protocol": "SCTP", "port": 5000}, {"protocol": "UDP", "port": 53, "endPort": 54},
                                   {"protocol": "SCTP"}, {"port": "dns", "protocol": "UDP"}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "::/0"}}]}]}
    np = json_format.ParseDict({"metadata": {"name": "all", "namespace": "d"}, "spec": spec},
                               networking_pb2.NetworkPolicy())
    pods = [PodView("d", "p", "10.244.1.2", NODE, {}, frozenset({("dns", "udp", 53)}))]
    ns = netns()
    nft(ns, "-f", "-", stdin=render([compile_policy(np)], pods, {}, NODE))
    chain = nft(ns, "list", "chain", *TABLE.split(), "pol-d/all-in")
    assert "udp dport 53-54" in chain and "ip6 saddr 2001:db8::/32" in chain and "sctp dport 5000" in chain
