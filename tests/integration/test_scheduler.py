"""skiff-scheduler against a real etcd + apiserver, with hollow nodes (Node objects only)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile

import grpc
import pytest

from control.client.client import Client
from control.client.kinds import KINDS
from control.scheduler.podinfo import PodInfo
from control.scheduler.queue import QueuedPod
from control.scheduler.scheduler import Scheduler
from control.scheduler.testing import make_controller, make_node, make_pod, make_service, owned_by
from skiff.v1 import meta_pb2, pod_pb2
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually, stop


async def _delete_all(client: Client) -> None:
    pods, _ = await client.list_all("Pod")
    for p in pods:
        await _ignore_missing(client.delete("Pod", p.metadata.name, p.metadata.namespace, grace_period_seconds=0))
    nodes, _ = await client.list_all("Node")
    for n in nodes:
        await _ignore_missing(client.delete("Node", n.metadata.name))


async def _ignore_missing(call) -> None:
    try:
        await call
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise


@pytest.fixture
async def clean(client: Client):
    await _delete_all(client)
    yield client
    await _delete_all(client)


@pytest.fixture
async def scheduler(apiserver, clean):
    c = Client(apiserver.target)
    s = Scheduler(c)
    task = asyncio.create_task(s.run())
    await asyncio.wait_for(s.wait_synced(), 10)
    yield s
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await c.close()


async def create_pod(client: Client, name: str, **kw) -> pod_pb2.Pod:
    pod = make_pod(name, **kw)
    pod.metadata.uid = ""
    return await client.create(pod)


async def node_of(client: Client, name: str) -> str:
    return (await client.get("Pod", name, "default")).spec.node_name


async def wait_bound(client: Client, name: str, timeout: float = 10) -> str:
    await eventually(lambda: node_of(client, name), timeout=timeout, what=f"pod {name} bound")
    return await node_of(client, name)


async def events_for(client: Client, pod: pod_pb2.Pod, reason: str) -> list:
    events, _ = await client.list_all("Event", "default")
    return [e for e in events if e.involved_object.uid == pod.metadata.uid and e.reason == reason]


async def test_pods_go_to_nodes_that_fit(scheduler, client):
    await client.create(make_node("small", cpu="1"))
    await client.create(make_node("big", cpu="8"))
    await client.create(make_node("ssd", cpu="1", labels={"disk": "ssd"}))
    await client.create(make_node("gpu", cpu="8", taints=[("dedicated", "gpu", "NoSchedule")]))
    heavy = await create_pod(client, "heavy", cpu="4")
    await create_pod(client, "picky", node_selector={"disk": "ssd"})
    await create_pod(client, "gpu-user", cpu="4", node_selector={"kubernetes.io/hostname": "gpu"},
                     tolerations=[pod_pb2.Toleration(key="dedicated", operator="Equal", value="gpu",
                                                     effect="NoSchedule")])
    assert await wait_bound(client, "heavy") == "big"
    assert await wait_bound(client, "picky") == "ssd"
    assert await wait_bound(client, "gpu-user") == "gpu"
    pod = await client.get("Pod", "heavy", "default")
    assert [(c.type, c.status) for c in pod.status.conditions if c.type == "PodScheduled"] == [
        ("PodScheduled", "True")]

    async def scheduled_event() -> bool:
        events = await events_for(client, heavy, "Scheduled")
        return bool(events) and events[0].message == "Successfully assigned default/heavy to big" \
            and events[0].type == "Normal" and events[0].source.component == "default-scheduler"
    await eventually(scheduled_event, what="Scheduled event")


async def test_unschedulable_pod_gets_condition_and_event_then_fits_a_new_node(scheduler, client):
    await client.create(make_node("small", cpu="1"))
    await client.create(make_node("cordoned", cpu="8", unschedulable=True))
    pod = await create_pod(client, "big-pod", cpu="2")
    message = "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable."

    async def has_condition() -> bool:
        p = await client.get("Pod", "big-pod", "default")
        return any(c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable"
                   and c.message == message for c in p.status.conditions)
    await eventually(has_condition, what="PodScheduled=False condition")

    async def has_event() -> bool:
        return any(e.type == "Warning" and e.message == message
                   for e in await events_for(client, pod, "FailedScheduling"))
    await eventually(has_event, what="FailedScheduling event")
    assert await node_of(client, "big-pod") == ""

    await client.create(make_node("roomy", cpu="4"))
    assert await wait_bound(client, "big-pod") == "roomy"
    p = await client.get("Pod", "big-pod", "default")
    assert [c.status for c in p.status.conditions if c.type == "PodScheduled"] == ["True"]


async def test_uncordoning_a_node_reschedules_waiting_pods(scheduler, client):
    node = await client.create(make_node("only", unschedulable=True))
    await create_pod(client, "waiting")
    await eventually(lambda: _condition_reason(client, "waiting", "Unschedulable"), what="unschedulable")
    node.spec.unschedulable = False
    await client.update(node)
    assert await wait_bound(client, "waiting") == "only"


async def _condition_reason(client: Client, name: str, reason: str) -> bool:
    pod = await client.get("Pod", name, "default")
    return any(c.type == "PodScheduled" and c.reason == reason for c in pod.status.conditions)


async def test_bound_pods_use_up_the_node_and_deleting_one_frees_room(scheduler, client):
    await client.create(make_node("n1", cpu="2"))
    for i in range(3):
        await create_pod(client, f"p{i}", cpu="1")
    await eventually(lambda: _count_bound(client, 2), what="two pods bound")
    waiting = [p for p in (await client.list_all("Pod", "default"))[0] if not p.spec.node_name]
    assert len(waiting) == 1
    name = waiting[0].metadata.name
    await eventually(lambda: _condition_reason(client, name, "Unschedulable"), what="third unschedulable")
    pod = await client.get("Pod", name, "default")
    assert [c.message for c in pod.status.conditions if c.type == "PodScheduled"] == [
        "0/1 nodes are available: 1 Insufficient cpu."]
    victim = next(f"p{i}" for i in range(3) if f"p{i}" != name)
    await client.delete("Pod", victim, "default", grace_period_seconds=0)
    assert await wait_bound(client, name) == "n1"


async def _count_bound(client: Client, n: int) -> bool:
    pods, _ = await client.list_all("Pod", "default")
    return sum(1 for p in pods if p.spec.node_name) == n


async def test_replicas_are_spread_and_anti_affinity_is_honoured(scheduler, client):
    for i in range(3):
        await client.create(make_node(f"n{i}"))
    for i in range(3):
        await create_pod(client, f"web-{i}", owner_uid="rs-web", labels={"app": "web"})
    nodes = {await wait_bound(client, f"web-{i}") for i in range(3)}
    assert nodes == {"n0", "n1", "n2"}
    term = pod_pb2.PodAffinityTerm(topology_key="kubernetes.io/hostname")
    term.label_selector.match_labels["app"] = "web"
    anti = pod_pb2.Affinity(pod_anti_affinity=pod_pb2.PodAntiAffinity(
        required_during_scheduling_ignored_during_execution=[term]))
    await create_pod(client, "loner", affinity=anti)
    message = "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."

    async def rejected() -> bool:
        p = await client.get("Pod", "loner", "default")
        return any(c.message == message for c in p.status.conditions)
    await eventually(rejected, what="anti-affinity rejection")


async def test_topology_spread_keeps_zones_within_max_skew(scheduler, client):
    for name, zone in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b")):
        await client.create(make_node(name, labels={"topology.kubernetes.io/zone": zone}))
    spread = pod_pb2.TopologySpreadConstraint(max_skew=1, topology_key="topology.kubernetes.io/zone",
                                              when_unsatisfiable="DoNotSchedule")
    spread.label_selector.match_labels["app"] = "zoned"
    zones: list[str] = []
    for i in range(4):
        pod = make_pod(f"z{i}", labels={"app": "zoned"})
        pod.metadata.uid = ""
        pod.spec.topology_spread_constraints.append(spread)
        await client.create(pod)
        zones.append((await wait_bound(client, f"z{i}"))[0])
    # Three of four nodes are in zone a, yet the pods alternate: two per zone.
    assert sorted(zones) == ["a", "a", "b", "b"]
    # Pinned to zone a with nodeAffinityPolicy Ignore, zone b still counts as a domain: a third pod in
    # zone a skews 3 - 2 = 1 (allowed), a fourth would skew 2 (refused).
    for name in ("z-pinned", "z-blocked"):
        pinned = make_pod(name, labels={"app": "zoned"}, node_selector={"topology.kubernetes.io/zone": "a"})
        pinned.metadata.uid = ""
        pinned.spec.topology_spread_constraints.append(spread)
        pinned.spec.topology_spread_constraints[0].node_affinity_policy = "Ignore"
        await client.create(pinned)
        if name == "z-pinned":
            await wait_bound(client, name)

    async def rejected() -> bool:
        p = await client.get("Pod", "z-blocked", "default")
        return any("didn't match pod topology spread constraints" in c.message for c in p.status.conditions)
    await eventually(rejected, what="topology spread rejection")


async def _stored(informer, key: str) -> bool:
    return key in informer.store


async def _placements(client: Client, names: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in names:
        node = await wait_bound(client, name)
        counts[node] = counts.get(node, 0) + 1
    return counts


async def test_default_constraints_spread_a_services_pods_over_zones(scheduler, client):
    zone = "topology.kubernetes.io/zone"
    for name, value in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b")):
        await client.create(make_node(name, labels={zone: value}))
    await client.create(make_service("web", {"app": "web"}))
    try:
        await eventually(lambda: _stored(scheduler.services, "default/web"), what="Service seen")
        names = [f"web-{i}" for i in range(12)]
        for name in names:
            await create_pod(client, name, labels={"app": "web"})
        counts = await _placements(client, names)
        # The zone constraint (maxSkew 5) favours the lone node of zone b: 4 pods there, 8 over the three
        # nodes of zone a. Without default spreading, resource scores alone put 3 on every node.
        assert counts["b1"] == 4 and sorted(counts[n] for n in ("a1", "a2", "a3")) == [2, 3, 3]
    finally:
        await client.delete("Service", "web", "default")


async def test_default_constraints_spread_a_replica_sets_pods_against_free_capacity(scheduler, client):
    await client.create(make_node("big", cpu="64", memory="256Gi"))
    await client.create(make_node("small", cpu="4", memory="32Gi"))
    rs = await client.create(make_controller("ReplicaSet", "web-5d9f", {"app": "web", "pod-template-hash": "5d9f"}))
    try:
        await eventually(lambda: _stored(scheduler.workload_controllers["ReplicaSet"], "default/web-5d9f"),
                         what="ReplicaSet seen")
        names = [f"web-5d9f-{i}" for i in range(10)]
        for name in names:
            pod = owned_by(make_pod(name, labels={"app": "web", "pod-template-hash": "5d9f"}), rs)
            pod.metadata.uid = ""
            await client.create(pod)
        # Resource scores alone would put 9 of 10 on the big node; the hostname constraint evens them out.
        assert await _placements(client, names) == {"big": 5, "small": 5}
    finally:
        await client.delete("ReplicaSet", "web-5d9f", "default")


async def test_a_higher_priority_pod_preempts_the_lowest(scheduler, client):
    await client.create(make_node("p1", cpu="2"))
    await client.create(KINDS["PriorityClass"].new(metadata=meta_pb2.ObjectMeta(name="urgent"), value=1000))
    try:
        for name in ("filler-a", "filler-b"):
            await create_pod(client, name, cpu="1")
            await wait_bound(client, name)
        urgent = make_pod("urgent", cpu="1")
        urgent.metadata.uid = ""
        urgent.spec.priority_class_name = "urgent"
        await client.create(urgent)
        victims: list[str] = []

        async def one_victim() -> bool:
            victims[:] = [n for n in ("filler-a", "filler-b")
                          if (await client.get("Pod", n, "default")).metadata.HasField("deletion_timestamp")]
            return bool(victims)
        await eventually(one_victim, what="a victim marked for deletion")
        assert len(victims) == 1
        victim = await client.get("Pod", victims[0], "default")
        assert any(c.type == "DisruptionTarget" and c.reason == "PreemptionByScheduler"
                   for c in victim.status.conditions)

        async def nominated() -> bool:
            return (await client.get("Pod", "urgent", "default")).status.nominated_node_name == "p1"
        await eventually(nominated, what="nominatedNodeName")
        await client.delete("Pod", victims[0], "default", grace_period_seconds=0)  # as its node would
        assert await wait_bound(client, "urgent") == "p1"
    finally:
        await client.delete("PriorityClass", "urgent", "")


async def test_pods_for_other_schedulers_are_left_alone(scheduler, client):
    await client.create(make_node("n1"))
    # "theirs" is created first: once "mine" (seen after it on the same watch) is bound, the scheduler
    # has handled "theirs" too, and must have neither bound it nor written a PodScheduled condition.
    await create_pod(client, "theirs", scheduler_name="other-scheduler")
    await create_pod(client, "mine")
    await wait_bound(client, "mine")
    pod = await client.get("Pod", "theirs", "default")
    assert pod.spec.node_name == ""
    assert [c.type for c in pod.status.conditions if c.type == "PodScheduled"] == []


async def test_binding_a_pod_bound_meanwhile_is_handled(scheduler, client):
    await client.create(make_node("n1"))
    await client.create(make_node("n2"))
    pod = await create_pod(client, "raced", scheduler_name="other-scheduler")
    info = PodInfo(pod)
    scheduler.cache.assume_pod(info, "n2")  # we decided on n2...
    await client.bind("default", "raced", "n1")  # ...but someone else bound it first
    queued = QueuedPod(info, 0.0, 0.0)
    await scheduler._bind(queued, pod, "n2")  # the apiserver refuses: already on n1
    assert not scheduler.cache.is_assumed("default/raced")
    await eventually(lambda: _cache_has(scheduler, "default/raced", "n1"), what="informer's binding in cache")
    assert await node_of(client, "raced") == "n1"


async def _cache_has(s: Scheduler, key: str, node: str) -> bool:
    return s.cache.pod_node(key) == node


def _spawn_scheduler(target: str, log_path: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "control.scheduler.main", "--kubeconfig", session_pki().scheduler_config,
         "--apiserver", target,
         "--leader-elect-lease-duration", "2", "--leader-elect-renew-deadline", "1.5",
         "--leader-elect-retry-period", "0.25", "--metrics-bind-address", "0"],
        stdout=open(log_path, "a"), stderr=subprocess.STDOUT)


async def _holder(client: Client) -> str:
    try:
        lease = await client.get("Lease", "kube-scheduler", "kube-system")
    except grpc.aio.AioRpcError:
        return ""
    return lease.spec.holder_identity


async def test_leader_failover(apiserver, clean):
    client = clean
    await client.create(make_node("n1"))
    logs = tempfile.mkdtemp(prefix="skiff-sched-")
    first = _spawn_scheduler(apiserver.target, os.path.join(logs, "first.log"))
    second = None
    try:
        await eventually(lambda: _holder(client), timeout=15, what="first scheduler leading")
        leader = await _holder(client)
        second = _spawn_scheduler(apiserver.target, os.path.join(logs, "second.log"))
        await create_pod(client, "before")
        assert await wait_bound(client, "before", timeout=15) == "n1"
        assert await _holder(client) == leader  # the standby did not take over

        first.send_signal(signal.SIGKILL)
        first.wait()

        async def taken_over() -> bool:
            return (await _holder(client)) not in ("", leader)
        await eventually(taken_over, timeout=15, what="standby takes over")
        await create_pod(client, "after")
        assert await wait_bound(client, "after", timeout=15) == "n1"

        second.send_signal(signal.SIGTERM)  # a clean stop releases the lease at once
        assert second.wait(10) == 0
        assert await _holder(client) == ""
    finally:
        stop(first)
        if second is not None:
            stop(second)
