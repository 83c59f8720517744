"""Ingress, IngressClass and NetworkPolicy through the apiserver: defaults, the default class, refusals."""

from __future__ import annotations

import grpc
import pytest

from control.client.convert import from_dict, to_dict


def ingress(name: str, **spec) -> object:
    return from_dict({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
                      "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}, **spec}})


async def test_an_ingress_without_a_class_gets_the_default_one(client):
    await client.create(from_dict({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                                   "metadata": {"name": "skiff-nginx", "annotations": {
                                       "ingressclass.kubernetes.io/is-default-class": "true"}},
                                   "spec": {"controller": "skiff.io/ingress-nginx"}}))
    try:
        plain = await client.create(ingress("plain"))
        assert plain.spec.ingress_class_name == "skiff-nginx"
        chosen = await client.create(ingress("chosen", ingressClassName="other"))
        assert chosen.spec.ingress_class_name == "other"
    finally:
        for name in ("plain", "chosen"):
            await client.delete("Ingress", name, "default")
        await client.delete("IngressClass", "skiff-nginx", "")


async def test_network_policy_defaults_and_refusal(client):
    policy = await client.create(from_dict({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-egress"},
        "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}))
    try:
        doc = to_dict(policy)
        assert doc["spec"]["policyTypes"] == ["Ingress", "Egress"]
        assert doc["spec"]["egress"][0]["ports"] == [{"port": 53, "protocol": "TCP"}]
    finally:
        await client.delete("NetworkPolicy", "deny-egress", "default")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(from_dict({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "bad"},
            "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": "http", "endPort": 90}]}]}}))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "spec.ingress[0].ports[0].endPort: Forbidden: may not be specified when `port` is non-numeric" \
        in e.value.details()
