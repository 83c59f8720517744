"""pods/resize through a real apiserver and etcd: gRPC and the machine's kubectl (`kubectl patch
--subresource resize`), the refusals in Kubernetes' words, LimitRanger and ResourceQuota."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from skiff.v1 import requests_pb2, services_pb2
from tests.fixtures.controllers import running_controllers
from tests.fixtures.etcd import start_etcd
from tests.fixtures.procs import eventually
from tests.fixtures.rest import kubectl, start_rest_apiserver, write_kubeconfig

RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}


def _pod(name: str, namespace: str) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
                      "spec": {"containers": [{"name": "app", "image": "busybox:1", "resources": RESOURCES}]}})


async def _resize(client: Client, namespace: str, name: str, cpu_request: str, cpu_limit: str) -> object:
    stub = client.stub("Pod")
    pod = await stub.GetResize(requests_pb2.GetRequest(namespace=namespace, name=name))
    pod.spec.containers[0].resources.requests["cpu"] = cpu_request
    pod.spec.containers[0].resources.limits["cpu"] = cpu_limit
    return await stub.UpdateResize(services_pb2.PodRequest(object=pod))


async def _details(coro, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await coro
    assert e.value.code() == code, e.value.details()
    return e.value.details()


async def test_resize_with_limit_ranges_and_quota(apiserver, client: Client) -> None:
    ns = "resize"
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
    async with running_controllers(apiserver.target, ["resourcequota"]):
        await client.create(from_dict({"apiVersion": "v1", "kind": "ResourceQuota",
                                       "metadata": {"name": "compute", "namespace": ns},
                                       "spec": {"hard": {"requests.cpu": "500m", "limits.cpu": "2"}}}))

        async def counted() -> bool:
            used = (await client.get("ResourceQuota", "compute", ns)).status.used
            return dict(used) == {"requests.cpu": "0", "limits.cpu": "0"}
        await eventually(counted, timeout=15, what="the quota counted")
        await client.create(_pod("web", ns))
        await client.create(from_dict({"apiVersion": "v1", "kind": "LimitRange",
                                       "metadata": {"name": "max", "namespace": ns},
                                       "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}}))
        written = await _resize(client, ns, "web", "400m", "800m")
        assert dict(written.spec.containers[0].resources.requests) == {"cpu": "400m", "memory": "64Mi"}
        used = dict((await client.get("ResourceQuota", "compute", ns)).status.used)
        assert used == {"requests.cpu": "400m", "limits.cpu": "800m"}  # charged in the resize's transaction
        message = await _details(_resize(client, ns, "web", "600m", "800m"), grpc.StatusCode.PERMISSION_DENIED)
        assert message == ('pods "web" is forbidden: exceeded quota: compute, requested: requests.cpu=200m, '
                           'used: requests.cpu=400m, limited: requests.cpu=500m')
        message = await _details(_resize(client, ns, "web", "400m", "1500m"), grpc.StatusCode.PERMISSION_DENIED)
        assert message == 'pods "web" is forbidden: maximum cpu usage per Container is 1, but limit is 1500m'
        stored = await client.get("Pod", "web", ns)
        assert dict(stored.spec.containers[0].resources.limits) == {"cpu": "800m", "memory": "128Mi"}
        # a plain update still may not touch resources
        stored.spec.containers[0].resources.limits["cpu"] = "300m"
        message = await _details(client.update(stored), grpc.StatusCode.INVALID_ARGUMENT)
        assert "pod updates may not change fields other than" in message


async def test_kubectl_patches_the_resize_subresource(pki, tmp_path) -> None:
    etcd = start_etcd()
    rest = None
    try:
        rest = start_rest_apiserver(etcd)
        async with Client(rest.apiserver.target) as client:
            await client.create(_pod("web", "default"))
            config = write_kubeconfig(tmp_path / "config", pki, rest.url)

            def patch(body: dict):
                return kubectl(config, "patch", "pod", "web", "--subresource", "resize", "-p", json.dumps(body))
            grown = {"spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "256Mi"}}}]}}
            done = await asyncio.to_thread(patch, grown)
            assert (done.returncode, done.stdout.strip()) == (0, "pod/web patched"), done.stderr
            pod = await client.get("Pod", "web", "default")
            assert dict(pod.spec.containers[0].resources.limits) == {"cpu": "200m", "memory": "256Mi"}
            storage = {"spec": {"containers": [{"name": "app", "resources": {
                "limits": {"ephemeral-storage": "1Gi"}}}]}}
            refused = await asyncio.to_thread(patch, storage)
            assert refused.returncode == 1
            assert refused.stderr.strip() == ('The Pod "web" is invalid: spec: Forbidden: only cpu and memory '
                                              'resources are mutable')
            guaranteed = {"spec": {"containers": [{"name": "app", "resources": {
                "requests": {"cpu": "200m", "memory": "256Mi"}}}]}}
            refused = await asyncio.to_thread(patch, guaranteed)
            assert 'spec: Invalid value: "Guaranteed": Pod QOS Class may not change as a result of resizing' in (
                refused.stderr), refused.stderr
    finally:
        if rest is not None:
            rest.apiserver.stop()
        etcd.stop()
