"""Secrets at rest, health, reflection, services' allocations, malformed requests, restarts."""

from __future__ import annotations

import subprocess

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from control.client.convert import from_dict, to_dict
from control.client.kubeconfig import load_client_config, make_channel
from tests.fixtures.procs import eventually


def etcd_dump(etcd) -> bytes:
    out = subprocess.run(["etcdctl", "--endpoints", etcd.url, "get", "--prefix", "/registry/"],
                         check=True, capture_output=True, env={"ETCDCTL_API": "3"})
    return out.stdout


async def test_secret_encrypted_at_rest(client, etcd):
    secret = from_dict({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1"},
                        "stringData": {"password": "hunter2-plaintext"}})
    created = await client.create(secret)
    assert created.data["password"] == b"hunter2-plaintext"
    assert not created.string_data
    assert to_dict(created)["data"]["password"] == "aHVudGVyMi1wbGFpbnRleHQ="
    dump = etcd_dump(etcd)
    assert b"/registry/secrets/default/s1" in dump
    assert b"hunter2-plaintext" not in dump
    assert b"k8s:enc:aesgcm:v1:" in dump
    got = await client.get("secret", "s1", "default")
    assert got.data["password"] == b"hunter2-plaintext"


async def test_objects_stored_as_protobuf_under_registry_keys(client, etcd):
    await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "stored"}, "data": {"k": "v"}}))
    dump = etcd_dump(etcd)
    assert b"/registry/configmaps/default/stored" in dump
    assert b"/registry/namespaces/default" in dump


async def test_health_and_reflection(apiserver):
    async with make_channel(apiserver.target, load_client_config()) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        resp = await health.Check(health_pb2.HealthCheckRequest(service="skiff.v1.Pods"))
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        names = set()
        async for r in call:
            names |= {s.name for s in r.list_services_response.service}
            break
        assert {"skiff.v1.Pods", "skiff.v1.Deployments", "grpc.health.v1.Health"} <= names


async def test_service_cluster_ip_and_node_ports(client):
    svc = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                     "spec": {"type": "NodePort", "selector": {"app": "web"},
                              "ports": [{"port": 80, "targetPort": "http"}]}})
    created = await client.create(svc)
    assert created.spec.cluster_ip.startswith("10.")
    assert 30000 <= created.spec.ports[0].node_port <= 32767
    assert to_dict(created)["spec"]["ports"][0]["targetPort"] == "http"
    clash = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web2"},
                       "spec": {"clusterIP": created.spec.cluster_ip, "ports": [{"port": 80}]}})
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(clash)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "spec.clusterIP" in e.value.details()
    headless = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hl"},
                          "spec": {"clusterIP": "None", "selector": {"app": "x"}, "ports": [{"port": 80}]}})
    assert (await client.create(headless)).spec.cluster_ip == "None"
    # an update that omits the allocated fields keeps them
    again = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                       "spec": {"type": "NodePort", "selector": {"app": "web2"},
                                "ports": [{"port": 80, "targetPort": "http"}]}})
    updated = await client.update(again)
    assert updated.spec.cluster_ip == created.spec.cluster_ip
    assert updated.spec.ports[0].node_port == created.spec.ports[0].node_port
    # deleting releases the address: it can be requested again
    await client.delete("svc", "web", "default")
    clash.metadata.name = "web3"
    assert (await client.create(clash)).spec.cluster_ip == created.spec.cluster_ip


async def test_malformed_request_bytes_get_a_status(apiserver):
    async with make_channel(apiserver.target, load_client_config()) as channel:
        call = channel.unary_unary("/skiff.v1.Pods/Create", request_serializer=lambda b: b,
                                   response_deserializer=lambda b: b)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await call(b"\xff\xff\xff\xff garbage")
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "malformed skiff.v1.PodRequest" in e.value.details()
        unknown = channel.unary_unary("/skiff.v1.Widgets/Create", request_serializer=lambda b: b,
                                      response_deserializer=lambda b: b)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await unknown(b"")
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_state_survives_apiserver_restart(apiserver, client):
    await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "durable"}}))
    apiserver.restart()

    async def readable() -> bool:
        return (await client.get("cm", "durable", "default")).metadata.name == "durable"

    await eventually(readable, timeout=15, what="configmap after restart")


async def test_node_port_conflict_names_its_port(client):
    first = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np-a"},
                       "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30555}]}})
    await client.create(first)
    second = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np-b"},
                        "spec": {"type": "NodePort", "ports": [{"name": "a", "port": 81},
                                                               {"name": "b", "port": 82, "nodePort": 30555}]}})
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(second)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details().count("spec.ports[1].nodePort") == 1
    assert "spec.ports[0]" not in e.value.details()
