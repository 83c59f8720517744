"""pods/ephemeralcontainers through a real apiserver: only spec.ephemeralContainers changes, containers are
only ever added, a pod cannot be created with them, and the rules answer in Kubernetes' words."""

from __future__ import annotations

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from skiff.v1 import requests_pb2, services_pb2

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "eph", "namespace": "default"},
       "spec": {"containers": [{"name": "app", "image": "busybox"}]}}


async def _update(client: Client, pod) -> object:
    return await client.stub("Pod").UpdateEphemeralContainers(services_pb2.PodRequest(object=pod))


async def test_ephemeral_containers_subresource(client: Client) -> None:
    refused = from_dict({**POD, "spec": {**POD["spec"], "ephemeralContainers": [{"name": "d", "image": "x"}]}})
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.create(refused)
    assert e.value.details() == 'Pod "eph" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create'
    created = await client.create(from_dict(POD))
    stub = client.stub("Pod")
    pod = await stub.GetEphemeralContainers(requests_pb2.GetRequest(namespace="default", name="eph"))
    pod.spec.ephemeral_containers.add(name="dbg", image="busybox", target_container_name="app")
    pod.spec.containers[0].image = "ignored"  # the rest of the pod is the stored one
    written = await _update(client, pod)
    assert [c.name for c in written.spec.ephemeral_containers] == ["dbg"]
    assert written.spec.ephemeral_containers[0].termination_message_policy == "File"  # defaulted
    assert written.spec.containers[0].image == "busybox"
    assert int(written.metadata.resource_version) > int(created.metadata.resource_version)
    pod.spec.ephemeral_containers.add(name="late", image="busybox")  # from the pod read before the write
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await _update(client, pod)
    assert e.value.code() == grpc.StatusCode.ABORTED
    assert e.value.details() == ('Operation cannot be fulfilled on pods "eph": the object has been modified; '
                                 'please apply your changes to the latest version and try again')


async def test_ephemeral_containers_rules(client: Client) -> None:
    await client.create(from_dict({**POD, "metadata": {"name": "eph2", "namespace": "default"}}))
    stub = client.stub("Pod")
    get = requests_pb2.GetRequest(namespace="default", name="eph2")
    pod = await stub.GetEphemeralContainers(get)
    pod.spec.ephemeral_containers.add(name="dbg", image="busybox")
    pod = await _update(client, pod)
    pod.spec.ClearField("ephemeral_containers")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await _update(client, pod)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details() == ('Pod "eph2" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral '
                                 'containers "dbg" may not be removed')
    pod = await stub.GetEphemeralContainers(get)
    pod.spec.ephemeral_containers.add(name="app", image="busybox", target_container_name="nope")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await _update(client, pod)
    assert e.value.details() == ('Pod "eph2" is invalid: [spec.ephemeralContainers[1].targetContainerName: '
                                 'Not found: "nope", spec.ephemeralContainers[1].name: Duplicate value: "app"]')
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await stub.GetEphemeralContainers(requests_pb2.GetRequest(namespace="default", name="none"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and e.value.details() == 'pods "none" not found'
