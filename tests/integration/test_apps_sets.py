"""DaemonSets and StatefulSets against a real apiserver, controller manager and scheduler.

Nodes are hollow (Node objects only); the test plays the kubelet where it matters: it writes pod
status (Running, Ready) and finishes graceful deletions.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from control.client.informer import copy_of
from control.client.wellknown import is_being_deleted
from control.scheduler.scheduler import Scheduler
from control.scheduler.testing import make_node
from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually

pytestmark = pytest.mark.timeout(120)


async def _ignore_missing(call) -> None:
    try:
        await call
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise


async def _clean(client: Client) -> None:
    for kind in ("DaemonSet", "StatefulSet", "ControllerRevision", "Pod"):
        items, _ = await client.list_all(kind, "default")
        for obj in items:
            await _ignore_missing(client.delete(kind, obj.metadata.name, "default", grace_period_seconds=0))
    nodes, _ = await client.list_all("Node")
    for n in nodes:
        await _ignore_missing(client.delete("Node", n.metadata.name))


@pytest.fixture
async def cluster(apiserver, client):
    """The daemonset and statefulset controllers and the scheduler, on a clean namespace."""
    await _clean(client)
    scheduler_client = Client(apiserver.target)
    scheduler = Scheduler(scheduler_client)
    task = asyncio.create_task(scheduler.run())
    await asyncio.wait_for(scheduler.wait_synced(), 10)
    async with running_controllers(apiserver.target, ["daemonset", "statefulset"]):
        yield client
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await scheduler_client.close()
    await _clean(client)


async def live_pods(client: Client) -> list:
    pods, _ = await client.list_all("Pod", "default")
    return [p for p in pods if not is_being_deleted(p)]


async def finish_deletions(client: Client) -> None:
    """The kubelet's part of a graceful deletion: the pod goes."""
    pods, _ = await client.list_all("Pod", "default")
    for p in pods:
        if is_being_deleted(p):
            await _ignore_missing(client.delete("Pod", p.metadata.name, "default", grace_period_seconds=0))


async def mark_running(client: Client, name: str, ready: bool = True) -> None:
    pod = copy_of(await client.get("Pod", name, "default"))
    pod.status.phase = "Running"
    del pod.status.conditions[:]
    pod.status.conditions.add(type="Ready", status="True" if ready else "False")
    await client.update_status(pod)


def daemonset(name: str, selector: dict) -> object:
    return from_dict({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": "default"},
                      "spec": {"selector": {"matchLabels": {"app": name}},
                               "template": {"metadata": {"labels": {"app": name}},
                                            "spec": {"nodeSelector": selector,
                                                     "containers": [{"name": "c", "image": "busybox:1"}]}}}})


async def bound_nodes(client: Client) -> list[str]:
    return sorted(p.spec.node_name for p in await live_pods(client))


async def test_daemonset_follows_nodes_added_relabelled_and_tainted(cluster):
    client = cluster
    await client.create(make_node("w1", labels={"role": "worker"}))
    await client.create(make_node("w2", labels={"role": "worker"}))
    await client.create(make_node("w3", labels={"role": "worker"}, taints=[("dedicated", "db", "NoSchedule")]))
    await client.create(make_node("other"))
    await client.create(daemonset("agent", {"role": "worker"}))

    async def on(expected: list[str]):
        async def check() -> bool:
            return await bound_nodes(client) == expected
        return check
    await eventually(await on(["w1", "w2"]), timeout=20, what="daemon pods bound on w1 and w2 only")
    pod = (await live_pods(client))[0]
    assert pod.metadata.labels["controller-revision-hash"]
    await client.create(make_node("w4", labels={"role": "worker"}))
    await eventually(await on(["w1", "w2", "w4"]), timeout=20, what="a daemon pod on the node added later")
    w2 = copy_of(await client.get("Node", "w2"))
    w2.metadata.labels["role"] = "retired"
    await client.update(w2)
    await eventually(await on(["w1", "w4"]), timeout=20, what="the pod of the relabelled node deleted")

    async def status_caught_up() -> bool:
        await finish_deletions(client)
        for p in await live_pods(client):
            if p.status.phase != "Running":
                await mark_running(client, p.metadata.name)
        s = (await client.get("DaemonSet", "agent", "default")).status
        return (s.desired_number_scheduled, s.current_number_scheduled, s.number_ready, s.number_available,
                s.updated_number_scheduled, s.number_misscheduled) == (2, 2, 2, 2, 2, 0)
    await eventually(status_caught_up, timeout=20, what="daemonset status")


def statefulset(replicas: int, partition: int = 0, image: str = "busybox:1") -> object:
    return from_dict({"apiVersion": "apps/v1", "kind": "StatefulSet",
                      "metadata": {"name": "web", "namespace": "default"},
                      "spec": {"replicas": replicas, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                               "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}},
                               "template": {"metadata": {"labels": {"app": "web"}},
                                            "spec": {"containers": [{"name": "c", "image": image}]}}}})


async def names(client: Client) -> list[str]:
    return sorted(p.metadata.name for p in await live_pods(client))


async def wait_names(client: Client, expected: list[str], what: str) -> None:
    async def check() -> bool:
        return await names(client) == expected
    await eventually(check, timeout=20, what=what)


async def observed(client: Client, replicas: int) -> None:
    """The controller has written status for the current pods (so it has acted on them)."""
    async def check() -> bool:
        sts = await client.get("StatefulSet", "web", "default")
        return sts.status.observed_generation == sts.metadata.generation and sts.status.replicas == replicas
    await eventually(check, timeout=20, what=f"statefulset status with {replicas} replicas")


async def test_statefulset_ordered_start_scale_down_and_partitioned_update(cluster):
    client = cluster
    await client.create(make_node("n1"))
    await client.create(statefulset(3, partition=1))
    await wait_names(client, ["web-0"], "web-0 created")
    await observed(client, 1)  # the controller has acted on web-0, which is not ready:
    assert await names(client) == ["web-0"]  # so no web-1
    pod = await client.get("Pod", "web-0", "default")
    assert (pod.spec.hostname, pod.spec.subdomain) == ("web-0", "web")
    for i in range(3):
        await eventually(lambda i=i: _bound(client, f"web-{i}"), timeout=20, what=f"web-{i} bound")
        await mark_running(client, f"web-{i}")
        if i < 2:
            await wait_names(client, [f"web-{j}" for j in range(i + 2)], f"web-{i + 1} after web-{i} is ready")
    await observed(client, 3)

    old_revision = (await client.get("Pod", "web-0", "default")).metadata.labels["controller-revision-hash"]
    await change_set(client, lambda s: setattr(s.spec.template.spec.containers[0], "image", "busybox:2"))
    deleted = []
    for expected in ("web-2", "web-1"):
        async def terminating(expected=expected) -> bool:
            pods, _ = await client.list_all("Pod", "default")
            gone = [p.metadata.name for p in pods if is_being_deleted(p)]
            return gone == [expected]
        await eventually(terminating, timeout=20, what=f"{expected} deleted for the update")
        deleted.append(expected)
        await finish_deletions(client)
        await eventually(lambda e=expected: _image(client, e, "busybox:2"), timeout=20, what=f"{expected} updated")
        await eventually(lambda e=expected: _bound(client, e), timeout=20, what=f"{expected} bound")
        await mark_running(client, expected)
    assert deleted == ["web-2", "web-1"]

    async def partition_held() -> bool:
        s = (await client.get("StatefulSet", "web", "default")).status
        return (s.updated_replicas, s.current_replicas, s.ready_replicas) == (2, 1, 3)
    await eventually(partition_held, timeout=20, what="status of the partitioned update")
    web0 = await client.get("Pod", "web-0", "default")
    assert web0.spec.containers[0].image == "busybox:1"
    assert web0.metadata.labels["controller-revision-hash"] == old_revision

    await change_set(client, lambda s: setattr(s.spec, "replicas", 1))

    async def only_terminating(name: str) -> bool:
        pods, _ = await client.list_all("Pod", "default")
        return [p.metadata.name for p in pods if is_being_deleted(p)] == [name]
    await eventually(lambda: only_terminating("web-2"), timeout=20, what="web-2 goes first")
    assert await names(client) == ["web-0", "web-1"]
    await finish_deletions(client)
    await eventually(lambda: only_terminating("web-1"), timeout=20, what="then web-1")
    await finish_deletions(client)
    await wait_names(client, ["web-0"], "scaled down to web-0")


async def change_set(client: Client, change) -> None:
    """Updates the set from a fresh read, again when the controller wrote its status in between."""
    for _ in range(5):
        sts = copy_of(await client.get("StatefulSet", "web", "default"))
        change(sts)
        try:
            await client.update(sts)
            return
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ABORTED:
                raise
    raise AssertionError("could not update the statefulset")


async def _bound(client: Client, name: str) -> bool:
    try:
        return bool((await client.get("Pod", name, "default")).spec.node_name)
    except grpc.aio.AioRpcError:
        return False


async def _image(client: Client, name: str, image: str) -> bool:
    try:
        pod = await client.get("Pod", name, "default")
    except grpc.aio.AioRpcError:
        return False
    return pod.spec.containers[0].image == image and not is_being_deleted(pod)
