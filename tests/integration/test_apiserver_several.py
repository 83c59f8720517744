"""Several apiservers on one etcd: allocations are claimed in etcd with the Service (no value is
handed out twice, whichever apiserver writes; nothing leaks), a Get from one apiserver sees what
another acknowledged, and a client that knows both moves to the other when one goes away."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd

# A /27 leaves 30 addresses; 16 NodePorts. Small, so that the range fills and races are likely.
SMALL_RANGES = ["--service-cluster-ip-range", "10.97.0.0/27", "--service-node-port-range", "30000-30015"]


@pytest.fixture(scope="module")
def pair():
    etcd = start_etcd()
    servers = []
    try:
        servers = [start_apiserver(etcd, SMALL_RANGES), start_apiserver(etcd, SMALL_RANGES)]
        yield servers
    finally:
        for s in servers:
            s.stop()
        etcd.stop()


@pytest.fixture
async def clients(pair):
    made = [Client(s.target) for s in pair]
    yield made
    for c in made:
        await c.close()


def _service(name: str, node_port: bool = False) -> object:
    spec = {"ports": [{"port": 80}], "selector": {"app": name}}
    if node_port:
        spec["type"] = "NodePort"
    return from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})


async def _create_all(clients: list[Client], names: list[str], node_port: bool) -> list:
    async def create(i: int, name: str):
        try:
            return await clients[i % len(clients)].create(_service(name, node_port))
        except grpc.aio.AioRpcError as e:
            return e
    return await asyncio.gather(*(create(i, n) for i, n in enumerate(names)))


async def _delete_all(client: Client, names: list[str]) -> None:
    for name in names:
        try:
            await client.delete("svc", name, "default")
        except grpc.aio.AioRpcError as e:
            assert e.code() == grpc.StatusCode.NOT_FOUND


async def test_concurrent_creates_on_two_apiservers_never_share_a_value(clients):
    names = [f"ip-{i}" for i in range(34)]  # more than the 30 addresses
    results = await _create_all(clients, names, node_port=False)
    created = [r for r in results if not isinstance(r, grpc.aio.AioRpcError)]
    failed = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    ips = [s.spec.cluster_ip for s in created]
    assert len(ips) == len(set(ips)), "a ClusterIP was handed out twice"
    assert len(created) == 30, [e.details() for e in failed]
    assert all("range is full" in e.details() for e in failed), [e.details() for e in failed]
    await _delete_all(clients[0], names)


async def test_node_ports_are_unique_across_apiservers(clients):
    names = [f"np-{i}" for i in range(16)]
    results = await _create_all(clients, names, node_port=True)
    assert not [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    ports = [s.spec.ports[0].node_port for s in results]
    assert len(set(ports)) == 16
    await _delete_all(clients[1], names)


async def test_a_value_released_on_one_apiserver_is_taken_on_the_other(clients):
    a, b = clients
    first = await a.create(_service("keep"))
    requested = _service("again")
    requested.spec.cluster_ip = first.spec.cluster_ip
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await b.create(requested)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "provided IP is already allocated" in e.value.details()
    await a.delete("svc", "keep", "default")
    assert (await b.create(requested)).spec.cluster_ip == first.spec.cluster_ip
    await b.delete("svc", "again", "default")


async def test_a_read_on_one_apiserver_sees_a_write_acknowledged_by_the_other(clients):
    a, b = clients
    for i in range(20):
        cm = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"seen-{i}"},
                        "data": {"n": str(i)}})
        written = await a.create(cm)
        read = await b.get("cm", f"seen-{i}", "default")
        assert read.metadata.resource_version == written.metadata.resource_version


async def test_a_client_of_both_fails_over_when_one_goes_away(pair):
    from dataclasses import replace

    from control.client.kubeconfig import load_client_config, make_channel

    first, second = pair
    config = replace(load_client_config(), server=f"{first.target},{second.target}")
    client = Client(config.target, make_channel(config.target, config))
    try:
        await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "before"}}))
        first.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:  # the first call may still meet the closed connection; within seconds it must not
            try:
                await client.get("cm", "before", "default")
                break
            except grpc.aio.AioRpcError as e:
                assert e.code() == grpc.StatusCode.UNAVAILABLE, e
                assert loop.time() < deadline, "the client did not move to the other apiserver"
                await asyncio.sleep(0.2)
        await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after"}}))
    finally:
        await client.close()
        first.restart()


async def test_a_list_on_one_apiserver_has_every_write_acknowledged_by_the_other(clients):
    """Kubernetes' consistent list from the cache: b's cache waits for etcd's current revision."""
    a, b = clients
    missing = []
    for i in range(40):
        await a.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"listed-{i}"}}))
        listed = await b.list("cm", "default")
        if f"listed-{i}" not in {o.metadata.name for o in listed.items}:
            missing.append(i)
    assert not missing, f"lists on b missed writes acknowledged by a: {missing}"
