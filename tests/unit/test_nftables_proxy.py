"""ServiceProxy's bookkeeping: which transactions it emits (nft itself is exercised in e2e)."""

import json

import pytest

from node.network.healthcheck import HealthCheck, response
from node.network.nftables import NftError, NodeConfig
from node.network.proxy import ServiceProxy, health_checks
from skiff.v1 import core_pb2, meta_pb2
from tests.fixtures.nftproxy import RecordingNft, eps, svc


@pytest.fixture
async def proxy():
    p = ServiceProxy(RecordingNft(), NodeConfig())
    await p.sync()  # the initial full sync
    return p


async def test_first_sync_is_a_full_replacement_then_incremental(proxy):
    assert proxy.nft.transactions[0].startswith("add table ip skiff\ndelete table ip skiff\n")
    proxy.on_service(svc("a", "10.96.0.1"))
    proxy.on_endpoints(eps("a", "10.244.1.2"))
    await proxy.sync()
    last = proxy.nft.transactions[-1]
    assert "delete table" not in last and "add chain ip skiff pick-1" in last
    assert "add element ip skiff services { 10.96.0.1 . tcp . 80 : goto pick-1 }" in last
    proxy.on_service(svc("b", "10.96.0.2"))
    proxy.on_endpoints(eps("b", "10.244.1.3"))
    await proxy.sync()
    assert "pick-1" not in proxy.nft.transactions[-1].split("add element")[0]  # chain exists already
    assert proxy.synced.is_set()


async def test_shared_endpoint_keeps_hairpin_element_until_last_user_goes(proxy):
    for name, ip in (("a", "10.96.0.1"), ("b", "10.96.0.2")):
        proxy.on_service(svc(name, ip))
        proxy.on_endpoints(eps(name, "10.244.1.2"))
    await proxy.sync()
    proxy.on_service_deleted(svc("a", "10.96.0.1"))
    await proxy.sync()
    assert "hairpin" not in proxy.nft.transactions[-1]
    proxy.on_endpoints(eps("b"))
    await proxy.sync()
    assert "delete element ip skiff hairpin { 10.244.1.2 . 10.244.1.2 }" in proxy.nft.transactions[-1]


async def test_failed_transaction_keeps_changes_and_next_sync_is_full(proxy):
    proxy.on_service(svc("a", "10.96.0.1"))
    proxy.nft.fail_next = True
    with pytest.raises(NftError):
        await proxy.sync()
    assert not proxy.synced.is_set()
    proxy.request_full_sync()
    await proxy.sync()
    last = proxy.nft.transactions[-1]
    assert last.startswith("add table ip skiff\ndelete table ip skiff\n")
    assert "10.96.0.1 . tcp . 80 : goto reject-chain" in last  # no endpoints yet


async def test_endpoints_without_service_change_nothing(proxy):
    proxy.on_endpoints(eps("orphan", "10.244.1.9"))
    await proxy.sync()
    assert len(proxy.nft.transactions) == 1


async def test_service_on_the_cluster_dns_address_is_left_to_the_node_resolver():
    p = ServiceProxy(RecordingNft(), NodeConfig(cluster_dns="10.96.0.10", dns_target="10.250.0.2"))
    p.on_service(svc("kube-dns", "10.96.0.10"))
    p.on_service(svc("web", "10.96.0.11"))
    await p.sync()
    text = p.nft.transactions[-1]
    assert "dnat to 10.250.0.2:53" in text and "10.96.0.11 . tcp . 80" in text
    assert "10.96.0.10 . tcp . 80" not in text



def test_health_checks_count_this_nodes_endpoints_of_local_load_balancers():
    def svc(name: str, policy: str, port: int) -> core_pb2.Service:
        s = core_pb2.Service(metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))
        s.spec.type, s.spec.external_traffic_policy, s.spec.health_check_node_port = "LoadBalancer", policy, port
        return s
    eps = core_pb2.Endpoints(metadata=meta_pb2.ObjectMeta(name="lb", namespace="default"))
    subset = eps.subsets.add()
    subset.addresses.add(ip="10.244.1.2", node_name="a")
    subset.addresses.add(ip="10.244.2.2", node_name="b")
    subset.not_ready_addresses.add(ip="10.244.1.3", node_name="a")
    services = {"default/lb": svc("lb", "Local", 32000), "default/idle": svc("idle", "Local", 32001),
                "default/cluster": svc("cluster", "Cluster", 0)}
    checks = health_checks(services, {"default/lb": eps}, "a")
    assert checks == {32000: HealthCheck("default", "lb", 1), 32001: HealthCheck("default", "idle", 0)}
    ok, unavailable = response(checks[32000]).decode(), response(checks[32001]).decode()
    assert ok.startswith("HTTP/1.1 200 OK\r\n") and "X-Load-Balancing-Endpoint-Weight: 1\r\n" in ok
    assert json.loads(ok.split("\r\n\r\n", 1)[1]) == {"service": {"namespace": "default", "name": "lb"},
                                                       "localEndpoints": 1, "serviceProxyHealthy": True}
    assert unavailable.startswith("HTTP/1.1 503 Service Unavailable\r\n")
