"""In-place pod resize on a real node (containerd, runc, cgroups): a resize through pods/resize reaches
the running container's cgroup without a restart and shows in its status; a resource whose
resizePolicy is RestartContainer restarts the container with the new values."""

from __future__ import annotations

import pytest

from control.client.client import Client
from control.client.quantity import cpu_millis
from node.cri import CRI
from skiff.v1 import requests_pb2, services_pb2
from tests.fixtures.agent import (
    agent_node,
    busybox,
    delete_and_wait,
    exec_in,
    get_pod,
    pod_manifest,
    wait_ready,
)
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.procs import eventually

MEMORY_LIMIT = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
CPU_QUOTA = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"
CPU_SHARES = "/sys/fs/cgroup/cpu/cpu.shares"
RESOURCES = {"requests": {"cpu": "100m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}}


@pytest.fixture(scope="module")
def node_env(apiserver: ApiServer):
    with agent_node(apiserver, "skrz", "10.124.0.0/24") as node:
        yield node


@pytest.fixture
async def cri(node_env):
    c = CRI(node_env[1].address)
    yield c
    await c.close()


async def _resize(client: Client, name: str, limits: dict[str, str]) -> None:
    stub = client.stub("Pod")
    pod = await stub.GetResize(requests_pb2.GetRequest(namespace="default", name=name))
    pod.spec.containers[0].resources.limits.update(limits)
    await stub.UpdateResize(services_pb2.PodRequest(object=pod))


async def _status_limits(client: Client, name: str, expected: dict[str, str]) -> object:
    async def shown():
        statuses = (await get_pod(client, name)).status.container_statuses
        return statuses and dict(statuses[0].resources.limits) == expected
    await eventually(shown, timeout=30, interval=0.5, what=f"status.containerStatuses[0].resources of {name}")
    return await get_pod(client, name)


async def test_resize_in_place_and_by_restart(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    await client.create(pod_manifest("grow", agent.node_name, [busybox("c", "sleep 3600", resources=RESOURCES)]))
    pod = await wait_ready(client, "grow")
    assert int(await exec_in(cri, pod, "c", ["cat", MEMORY_LIMIT])) == 64 * 2**20
    await _status_limits(client, "grow", RESOURCES["limits"])
    await _resize(client, "grow", {"cpu": "500m", "memory": "128Mi"})
    pod = await _status_limits(client, "grow", {"cpu": "500m", "memory": "128Mi"})
    assert int(await exec_in(cri, pod, "c", ["cat", MEMORY_LIMIT])) == 128 * 2**20
    assert int(await exec_in(cri, pod, "c", ["cat", CPU_QUOTA])) == 50_000
    status = pod.status.container_statuses[0]
    assert status.restart_count == 0 and status.state.HasField("running")
    assert dict(status.allocated_resources) == RESOURCES["requests"]

    policy = [{"resourceName": "memory", "restartPolicy": "RestartContainer"}]
    await client.create(pod_manifest("restart", agent.node_name, [busybox(
        "c", "sleep 3600", resources=RESOURCES, resizePolicy=policy)]))
    await wait_ready(client, "restart")
    await _resize(client, "restart", {"memory": "96Mi"})

    async def restarted():
        statuses = (await get_pod(client, "restart")).status.container_statuses
        return statuses[0].restart_count == 1 and statuses[0].state.HasField("running")
    await eventually(restarted, timeout=30, interval=0.5, what="the container restarted by its resizePolicy")
    pod = await _status_limits(client, "restart", {"cpu": "200m", "memory": "96Mi"})
    assert int(await exec_in(cri, pod, "c", ["cat", MEMORY_LIMIT])) == 96 * 2**20
    for name in ("grow", "restart"):
        await delete_and_wait(client, name)


async def test_pod_level_limits_bound_containers_without_their_own(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    await client.create(pod_manifest("podlevel", agent.node_name, [busybox("c", "sleep 3600")],
                                     resources={"limits": {"cpu": "300m", "memory": "48Mi"}}))
    pod = await wait_ready(client, "podlevel")
    assert int(await exec_in(cri, pod, "c", ["cat", MEMORY_LIMIT])) == 48 * 2**20
    assert int(await exec_in(cri, pod, "c", ["cat", CPU_QUOTA])) == 30_000
    assert pod.status.qos_class == "Guaranteed"
    await delete_and_wait(client, "podlevel")


async def test_a_resize_beyond_the_node_stays_pending_infeasible(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    await client.create(pod_manifest("toobig", agent.node_name, [busybox("c", "sleep 3600", resources=RESOURCES)]))
    await wait_ready(client, "toobig")
    stub = client.stub("Pod")
    pod = await stub.GetResize(requests_pb2.GetRequest(namespace="default", name="toobig"))
    pod.spec.containers[0].resources.requests["memory"] = "100Ti"
    pod.spec.containers[0].resources.limits["memory"] = "100Ti"
    await stub.UpdateResize(services_pb2.PodRequest(object=pod))

    async def pending():
        conditions = (await get_pod(client, "toobig")).status.conditions
        return [c for c in conditions if c.type == "PodResizePending"]
    await eventually(pending, timeout=30, interval=0.5, what="PodResizePending on the pod")
    [condition] = await pending()
    assert condition.status == "True" and condition.reason == "Infeasible"
    assert condition.message.startswith("Node didn't have enough capacity: memory, requested: 109951162777600, "
                                        "capacity: "), condition.message
    pod = await get_pod(client, "toobig")
    assert dict(pod.status.container_statuses[0].resources.limits) == RESOURCES["limits"]  # not applied
    assert int(await exec_in(cri, pod, "c", ["cat", MEMORY_LIMIT])) == 64 * 2**20
    pod = await stub.GetResize(requests_pb2.GetRequest(namespace="default", name="toobig"))
    pod.spec.containers[0].resources.requests["memory"] = "32Mi"
    pod.spec.containers[0].resources.limits["memory"] = "64Mi"
    await stub.UpdateResize(services_pb2.PodRequest(object=pod))

    async def cleared():
        return not await pending()
    await eventually(cleared, timeout=30, interval=0.5, what="PodResizePending gone once the resize fits")
    await delete_and_wait(client, "toobig")


async def test_a_resize_other_pods_leave_no_room_for_is_deferred_until_they_go(client: Client, node_env,
                                                                              cri: CRI):
    agent, _ = node_env

    async def registered():
        return [n for n in (await client.list("Node", "")).items
                if n.metadata.name == agent.node_name and "cpu" in n.status.allocatable]
    await eventually(registered, timeout=30, what="the node registered")
    cpu = cpu_millis((await registered())[0].status.allocatable["cpu"])
    big = {"requests": {"cpu": f"{cpu - 300}m", "memory": "32Mi"}, "limits": {"cpu": f"{cpu - 300}m",
                                                                               "memory": "64Mi"}}
    await client.create(pod_manifest("neighbour", agent.node_name, [busybox("c", "sleep 3600", resources=big)]))
    await client.create(pod_manifest("waits", agent.node_name, [busybox("c", "sleep 3600", resources=RESOURCES)]))
    await wait_ready(client, "neighbour")
    await wait_ready(client, "waits")
    await _resize(client, "waits", {"cpu": "500m"})
    stub = client.stub("Pod")
    pod = await stub.GetResize(requests_pb2.GetRequest(namespace="default", name="waits"))
    pod.spec.containers[0].resources.requests["cpu"] = "500m"
    await stub.UpdateResize(services_pb2.PodRequest(object=pod))

    async def pending():
        conditions = (await get_pod(client, "waits")).status.conditions
        return [c for c in conditions if c.type == "PodResizePending"]
    await eventually(pending, timeout=30, interval=0.5, what="PodResizePending Deferred")
    [condition] = await pending()
    assert (condition.reason, condition.message) == (
        "Deferred", f"Node didn't have enough resource: cpu, requested: 500, used: {cpu - 300}, capacity: {cpu}")
    shares = int(await exec_in(cri, await get_pod(client, "waits"), "c", ["cat", CPU_SHARES]))
    assert shares == 102  # still the 100m it was started with
    await delete_and_wait(client, "neighbour")

    async def applied():
        pod = await get_pod(client, "waits")
        return pod.status.container_statuses[0].resources.requests["cpu"] == "500m" and not [
            c for c in pod.status.conditions if c.type == "PodResizePending"]
    await eventually(applied, timeout=30, interval=0.5, what="the deferred resize applied once the room is free")
    assert int(await exec_in(cri, await get_pod(client, "waits"), "c", ["cat", CPU_SHARES])) == 512
    await delete_and_wait(client, "waits")
