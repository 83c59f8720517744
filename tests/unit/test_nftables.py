"""Rendering and diffing of the proxy's nftables table (pure text; kernel checks are in e2e)."""

from collections import Counter
from random import Random

from google.protobuf import struct_pb2

from node.network.nftables import (
    NodeConfig,
    Ruleset,
    ServicePortRules,
    diff_transaction,
    full_transaction,
    pick_chains,
    render,
    render_port,
)
from node.network.proxy import service_ports
from skiff.v1 import core_pb2, meta_pb2


def sp(name="web", eps=(("10.244.1.2", 8080), ("10.244.2.2", 8080)), **kw) -> ServicePortRules:
    args = dict(namespace="default", name=name, port_name="http", protocol="tcp", cluster_ip="10.96.0.20",
                port=80)
    args.update(kw)
    return ServicePortRules(endpoints=tuple(eps), **args)


def test_service_ports_share_pick_chains_and_dnat_through_backends():
    rs = render_port(sp(eps=[(f"10.244.1.{i}", 80) for i in range(1, 5)]))
    assert rs.picks == {4} and rs.chains == {}
    assert rs.elements["services"] == {"10.96.0.20 . tcp . 80": "goto pick-4"}
    assert rs.elements["backends"] == {f"10.96.0.20 . tcp . 80 . {i}": f"10.244.1.{i + 1} . 80" for i in range(4)}
    assert pick_chains(4) == {
        "pick-4": ("ct mark set numgen random mod 4 goto dnat-stage",),
        "pick-nodeport-4": ("jump mark-for-masquerade", "ct mark set numgen random mod 4 goto dnat-nodeport"),
        "pick-local-4": ("ct mark set numgen random mod 4 goto dnat-nodeport",),
        "pick-external-4": ("jump mark-for-masquerade", "ct mark set numgen random mod 4 goto dnat-stage")}


def test_external_traffic_policy_local_serves_node_ports_from_local_endpoints_only():
    rs = render_port(sp(node_port=30080, local_endpoints=(("10.244.2.2", 8080),), external_local=True))
    assert rs.elements["services"] == {"10.96.0.20 . tcp . 80": "goto pick-2"}  # the ClusterIP uses all
    assert rs.elements["nodeports"] == {"tcp . 30080": "goto pick-local-1"}  # no masquerade mark
    assert rs.elements["nodeport-backends"] == {"tcp . 30080 . 0": "10.244.2.2 . 8080"}
    assert rs.picks == {1, 2}
    none_here = render_port(sp(node_port=30080, local_endpoints=(), external_local=True))
    assert none_here.elements["no-endpoint-nodeports"] == {"tcp . 30080": "drop"}
    assert not none_here.elements["nodeports"]


def test_load_balancer_addresses_are_served_as_node_ports_are():
    lb = "172.31.250.200"
    rs = render_port(sp(node_port=30080, load_balancer_ips=(lb,)))
    assert rs.elements["services"][f"{lb} . tcp . 80"] == "goto pick-external-2"  # masqueraded
    assert rs.elements["backends"][f"{lb} . tcp . 80 . 1"] == "10.244.2.2 . 8080"
    local = render_port(sp(load_balancer_ips=(lb,), local_endpoints=(("10.244.2.2", 8080),), external_local=True,
                           cluster_cidr="10.244.0.0/16"))
    chain = "lb-local-default/web/tcp/http"
    assert local.elements["services"][f"{lb} . tcp . 80"] == f"goto {chain}"
    # Backends: every endpoint first (for pods and the node), then the local ones (for outside clients).
    assert [local.elements["backends"][f"{lb} . tcp . 80 . {i}"] for i in range(3)] == [
        "10.244.1.2 . 8080", "10.244.2.2 . 8080", "10.244.2.2 . 8080"]
    assert local.chains[chain] == (
        "ip saddr 10.244.0.0/16 ct mark set numgen random mod 2 goto dnat-stage",
        "fib saddr type local jump mark-for-masquerade",
        "fib saddr type local ct mark set numgen random mod 2 goto dnat-stage",
        "ct mark set numgen random mod 1 offset 2 goto dnat-stage")  # no masquerade: the client is seen
    none_here = render_port(sp(load_balancer_ips=(lb,), local_endpoints=(), external_local=True))
    assert none_here.chains[chain][-1] == "drop" and not none_here.elements["no-endpoint-services"]
    no_eps = render_port(sp(eps=(), load_balancer_ips=(lb,)))
    assert no_eps.elements["no-endpoint-services"][f"{lb} . tcp . 80"] == "goto reject-chain"
    sticky = render_port(sp(load_balancer_ips=(lb,), affinity_timeout=60))
    assert sticky.elements["services"][f"{lb} . tcp . 80"] == "goto ext-default/web/tcp/http"


def test_load_balancer_source_ranges_drop_other_clients_before_dnat():
    lb = "172.31.250.200"
    rs = render_port(sp(load_balancer_ips=(lb,), source_ranges=("10.1.0.0/16", "192.168.0.1/32")))
    assert rs.elements["firewall"] == {f"{lb} . tcp . 80": "goto fw-default/web/tcp/http"}
    assert rs.chains["fw-default/web/tcp/http"] == ("ip saddr { 10.1.0.0/16, 192.168.0.1/32 } return", "drop")
    assert not render_port(sp(source_ranges=("10.1.0.0/16",))).chains  # no address yet: nothing to guard
    full = full_transaction(NodeConfig(), [rs])
    assert "add rule ip skiff filter-prerouting ip daddr . meta l4proto . th dport vmap @firewall" in full


def test_service_ports_take_load_balancer_addresses_from_the_status():
    svc = core_pb2.Service(metadata=meta_pb2.ObjectMeta(name="lb", namespace="default"))
    svc.spec.type, svc.spec.cluster_ip = "LoadBalancer", "10.96.0.9"
    svc.spec.ports.add(name="http", protocol="TCP", port=80, node_port=30001)
    svc.spec.load_balancer_source_ranges.extend(["10.1.2.3/16 ", "fd00::/64"])
    svc.status.load_balancer.ingress.add(ip="172.31.250.201")
    svc.status.load_balancer.ingress.add(hostname="lb.example.com")
    (port,) = service_ports(svc, None)
    assert port.load_balancer_ips == ("172.31.250.201",) and port.source_ranges == ("10.1.0.0/16",)
    svc.spec.type = "NodePort"
    assert service_ports(svc, None)[0].load_balancer_ips == ()


def test_internal_traffic_policy_local_serves_the_cluster_ip_from_local_endpoints_only():
    rs = render_port(sp(node_port=30080, local_endpoints=(("10.244.2.2", 8080),), internal_local=True))
    assert rs.elements["services"] == {"10.96.0.20 . tcp . 80": "goto pick-1"}
    assert rs.elements["backends"] == {"10.96.0.20 . tcp . 80 . 0": "10.244.2.2 . 8080"}
    assert rs.elements["nodeports"] == {"tcp . 30080": "goto pick-nodeport-2"}  # external stays Cluster
    none_here = render_port(sp(local_endpoints=(), internal_local=True))
    assert none_here.elements["no-endpoint-services"] == {"10.96.0.20 . tcp . 80": "drop"}
    assert not none_here.elements["services"]


def test_affinity_cascade_picks_each_endpoint_with_equal_probability():
    rules = render_port(sp(eps=[(f"10.244.1.{i}", 80) for i in range(1, 5)], affinity_timeout=9)
                        ).chains["svc-default/web/tcp/http"][4:]
    assert [r.split("goto ")[0] for r in rules] == [
        "numgen random mod 4 0 ", "numgen random mod 3 0 ", "numgen random mod 2 0 ", ""]
    # Simulate the kernel: each rule draws afresh; the first match wins.
    rng, hits = Random(4), Counter()
    for _ in range(40000):
        for rule in rules:
            if not rule.startswith("numgen") or rng.randrange(int(rule.split()[3])) == 0:
                hits[rule.rsplit(" ", 1)[1]] += 1
                break
    assert len(hits) == 4 and all(9000 < n < 11000 for n in hits.values()), hits


def test_service_port_maps_and_hairpin():
    rs = render_port(sp(node_port=30080))
    assert rs.elements["services"] == {"10.96.0.20 . tcp . 80": "goto pick-2"}
    assert rs.elements["nodeports"] == {"tcp . 30080": "goto pick-nodeport-2"}
    assert rs.elements["nodeport-backends"] == {"tcp . 30080 . 0": "10.244.1.2 . 8080",
                                                "tcp . 30080 . 1": "10.244.2.2 . 8080"}
    assert set(rs.elements["hairpin"]) == {"10.244.1.2 . 10.244.1.2", "10.244.2.2 . 10.244.2.2"}
    assert not rs.elements["no-endpoint-services"]


def test_affinity_node_port_goes_through_its_own_chains():
    rs = render_port(sp(node_port=30080, affinity_timeout=30))
    assert rs.elements["services"] == {"10.96.0.20 . tcp . 80": "goto svc-default/web/tcp/http"}
    assert rs.elements["nodeports"] == {"tcp . 30080": "goto ext-default/web/tcp/http"}
    assert rs.chains["ext-default/web/tcp/http"] == ("jump mark-for-masquerade", "goto svc-default/web/tcp/http")
    assert not rs.picks and not rs.elements["backends"]


def test_no_endpoints_rejects_instead_of_dnat():
    rs = render_port(sp(eps=(), protocol="udp", port=53, node_port=30053))
    assert rs.chains == {}
    assert rs.elements["no-endpoint-services"] == {"10.96.0.20 . udp . 53": "goto reject-chain"}
    assert rs.elements["no-endpoint-nodeports"] == {"udp . 30053": "goto reject-chain"}
    assert not rs.elements["services"]


def test_session_affinity_chains():
    rs = render_port(sp(affinity_timeout=60))
    ep1 = "ep-default/web/tcp/http__10.244.1.2/8080"
    assert rs.affinity_sets == {"aff-default/web/tcp/http__10.244.1.2/8080": 60,
                                "aff-default/web/tcp/http__10.244.2.2/8080": 60}
    assert rs.chains[ep1] == ("update @aff-default/web/tcp/http__10.244.1.2/8080 { ip saddr }",
                              "meta l4proto tcp dnat to 10.244.1.2:8080")
    svc = rs.chains["svc-default/web/tcp/http"]
    assert svc[0] == f"ip saddr @aff-default/web/tcp/http__10.244.1.2/8080 goto {ep1}"
    assert svc[2] == f"numgen random mod 2 0 goto {ep1}"


def test_full_transaction_replaces_only_our_table_and_has_static_rules():
    text = full_transaction(NodeConfig("10.244.0.0/16", "10.96.0.10", "10.250.0.2"), render([sp()]))
    lines = text.splitlines()
    assert lines[:3] == ["add table ip skiff", "delete table ip skiff", "add table ip skiff"]
    assert "flush ruleset" not in text
    block = lines.index("table ip skiff {")
    assert all(" ip skiff" in line for line in lines[:block])
    assert ("add rule ip skiff services-dispatch ip daddr 10.96.0.10 meta l4proto udp th dport 53 "
            "dnat to 10.250.0.2:53") in lines
    assert "add rule ip skiff masquerading ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade" in lines
    assert any("hook prerouting priority dstnat" in line for line in lines)
    assert any("hook postrouting priority srcnat" in line for line in lines)
    # The shared pick chains come in the table block, before the map elements referring to them.
    block_lines = lines[block:lines.index("}", block + 1) + 1]
    assert block_lines[:3] == ["table ip skiff {", "chain pick-2 {",
                               "ct mark set numgen random mod 2 goto dnat-stage"]
    assert lines[-1] == ("add element ip skiff backends { 10.96.0.20 . tcp . 80 . 0 : 10.244.1.2 . 8080, "
                         "10.96.0.20 . tcp . 80 . 1 : 10.244.2.2 . 8080 }")
    for proto in ("tcp", "udp", "sctp"):
        assert (f"add rule ip skiff dnat-stage meta l4proto {proto} dnat to "
                "ip daddr . meta l4proto . th dport . ct mark map @backends") in lines


def test_diff_is_empty_without_changes_and_minimal_with_one():
    api = sp(name="api", cluster_ip="10.96.0.21", eps=[("10.244.3.3", 80)])
    old = render([sp(), api])
    assert diff_transaction(old, render([sp(), api]), existing_picks={1, 2}) == ""
    new = render([sp(eps=[("10.244.1.2", 8080)]), api])
    assert diff_transaction(old, new, existing_picks={1, 2}).splitlines() == [
        "delete element ip skiff services { 10.96.0.20 . tcp . 80 }",
        "add element ip skiff services { 10.96.0.20 . tcp . 80 : goto pick-1 }",
        "delete element ip skiff hairpin { 10.244.2.2 . 10.244.2.2 }",
        "delete element ip skiff backends { 10.96.0.20 . tcp . 80 . 1 }",
    ]
    # A pick chain the table doesn't have yet is created first.
    grown = render([sp(eps=[("10.244.1.2", 8080), ("10.244.2.2", 8080), ("10.244.3.2", 8080)]), api])
    lines = diff_transaction(old, grown, existing_picks={1, 2}).splitlines()
    assert lines[:2] == ["add chain ip skiff pick-3",
                         "add rule ip skiff pick-3 ct mark set numgen random mod 3 goto dnat-stage"]
    assert "add chain ip skiff pick-nodeport-3" in lines


def test_diff_orders_creation_before_use_and_deletion_after_release():
    old = render([sp(affinity_timeout=60)])
    new = render([sp(name="other", cluster_ip="10.96.0.30")])
    lines = diff_transaction(old, new).splitlines()
    idx = {line: i for i, line in enumerate(lines)}
    assert idx["add chain ip skiff pick-2"] < min(
        i for i, line in enumerate(lines) if line.startswith("add element ip skiff services"))
    delete_chain = idx["delete chain ip skiff svc-default/web/tcp/http"]
    assert idx["flush chain ip skiff svc-default/web/tcp/http"] < delete_chain
    assert idx["delete element ip skiff services { 10.96.0.20 . tcp . 80 }"] < delete_chain
    deletes_of_sets = [i for i, line in enumerate(lines) if line.startswith("delete set")]
    assert len(deletes_of_sets) == 2 and min(deletes_of_sets) > max(
        i for i, line in enumerate(lines) if line.startswith("delete chain"))


def test_changed_affinity_timeout_recreates_sets_and_rewrites_users():
    old, new = render([sp(affinity_timeout=60)]), render([sp(affinity_timeout=120)])
    text = diff_transaction(old, new)
    assert "delete set ip skiff aff-default/web/tcp/http__10.244.1.2/8080" in text
    assert "timeout 120s" in text
    assert "flush chain ip skiff ep-default/web/tcp/http__10.244.1.2/8080" in text


def test_ruleset_add_merges():
    a, b = render([sp()]), render([sp(name="b", cluster_ip="10.96.0.9")])
    merged = Ruleset()
    merged.add(a)
    merged.add(b)
    assert len(merged.elements["services"]) == 2 and merged.picks == {2}


def _service(**spec) -> core_pb2.Service:
    svc = core_pb2.Service(metadata=meta_pb2.ObjectMeta(name="web", namespace="prod"))
    svc.spec.cluster_ip = spec.pop("cluster_ip", "10.96.0.40")
    for port in spec.pop("ports", [dict(name="http", port=80, target_port=struct_pb2.Value(string_value="web"))]):
        svc.spec.ports.add(**port)
    for k, v in spec.items():
        setattr(svc.spec, k, v)
    return svc


def _endpoints() -> core_pb2.Endpoints:
    eps = core_pb2.Endpoints(metadata=meta_pb2.ObjectMeta(name="web", namespace="prod"))
    ready = eps.subsets.add()
    ready.addresses.add(ip="10.244.2.7")
    ready.addresses.add(ip="10.244.1.3")
    ready.not_ready_addresses.add(ip="10.244.3.3")
    ready.ports.add(name="http", port=8080, protocol="TCP")
    ready.ports.add(name="metrics", port=9090, protocol="TCP")
    return eps


def test_service_ports_from_messages():
    ports = service_ports(_service(type="NodePort", ports=[dict(name="http", port=80, node_port=30001),
                                                           dict(name="dns", port=53, protocol="UDP")]),
                          _endpoints())
    http, dns = ports
    assert http.endpoints == (("10.244.1.3", 8080), ("10.244.2.7", 8080))  # ready only, sorted
    assert http.node_port == 30001 and http.protocol == "tcp" and http.id == "prod/web/tcp/http"
    assert dns.protocol == "udp" and dns.endpoints == ()  # no matching endpoint port


def test_service_ports_skip_headless_externalname_and_respect_type():
    assert service_ports(_service(cluster_ip="None"), _endpoints()) == []
    assert service_ports(_service(type="ExternalName", cluster_ip=""), None) == []
    cluster_ip_only = service_ports(_service(ports=[dict(name="http", port=80, node_port=30001)]), None)
    assert cluster_ip_only[0].node_port == 0 and cluster_ip_only[0].endpoints == ()


def test_local_policy_picks_this_nodes_endpoints():
    svc = _service(type="NodePort", external_traffic_policy="Local",
                   ports=[dict(name="http", port=80, node_port=30001)])
    eps = _endpoints()
    eps.subsets[0].addresses[0].node_name = "node-b"  # 10.244.2.7
    eps.subsets[0].addresses[1].node_name = "node-a"  # 10.244.1.3
    (port,) = service_ports(svc, eps, node_name="node-a")
    assert port.local_endpoints == (("10.244.1.3", 8080),) and port.external_local
    assert port.endpoints == (("10.244.1.3", 8080), ("10.244.2.7", 8080)) and not port.internal_local
    svc.spec.external_traffic_policy = "Cluster"
    svc.spec.internal_traffic_policy = "Local"
    (port,) = service_ports(svc, eps, node_name="node-a")
    assert port.internal_local and not port.external_local


def test_affinity_timeout_defaults_to_kubernetes_value():
    svc = _service(session_affinity="ClientIP")
    assert service_ports(svc, None)[0].affinity_timeout == 10800
    svc.spec.session_affinity_config.client_ip.timeout_seconds = 30
    assert service_ports(svc, None)[0].affinity_timeout == 30
    assert service_ports(_service(), None)[0].affinity_timeout == 0
