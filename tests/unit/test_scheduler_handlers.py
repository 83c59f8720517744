"""The scheduler's informer handlers: what enters the queue and the cache, what moves waiting pods."""

from __future__ import annotations

import pytest

from control.client.client import Client
from control.client.wellknown import set_condition
from control.scheduler.queue import ACTIVE, UNSCHEDULABLE
from control.scheduler.scheduler import Scheduler, scheduling_properties_changed
from control.scheduler.testing import make_node, make_pod
from skiff.v1 import core_pb2, pod_pb2


@pytest.fixture
async def scheduler():
    client = Client("127.0.0.1:1")  # never dialled: handlers don't call the apiserver
    yield Scheduler(client)
    await client.close()


def copy(msg):
    new = type(msg)()
    new.CopyFrom(msg)
    return new


async def park(s: Scheduler, key: str) -> None:
    queued = await s.queue.pop()
    assert queued.key == key
    s.queue.add_unschedulable(queued)
    assert s.queue.where(key) == UNSCHEDULABLE


async def test_only_our_unassigned_live_pods_are_queued(scheduler):
    scheduler._on_pod_add(make_pod("mine"))
    scheduler._on_pod_add(make_pod("named", scheduler_name="default-scheduler"))
    scheduler._on_pod_add(make_pod("theirs", scheduler_name="other"))
    done = make_pod("done")
    done.status.phase = "Succeeded"
    scheduler._on_pod_add(done)
    assert len(scheduler.queue) == 2
    scheduler._on_pod_add(make_pod("bound", node_name="n1", cpu="1"))
    assert scheduler.cache.pod_node("default/bound") == "n1"


async def test_status_updates_do_not_requeue_but_spec_changes_do(scheduler):
    pod = make_pod("p")
    scheduler._on_pod_add(pod)
    await park(scheduler, "default/p")
    with_condition = copy(pod)
    set_condition(with_condition.status, "PodScheduled", "False", "Unschedulable", "0/1 nodes are available:")
    scheduler._on_pod_update(pod, with_condition)
    assert scheduler.queue.where("default/p") == UNSCHEDULABLE
    relabelled = copy(with_condition)
    relabelled.metadata.labels["x"] = "y"
    scheduler.queue.clock = lambda: 1e12  # back-off long over
    scheduler._on_pod_update(with_condition, relabelled)
    assert scheduler.queue.where("default/p") == ACTIVE


async def test_binding_moves_pod_from_queue_to_cache_and_finishing_frees_it(scheduler):
    pod = make_pod("p", cpu="1")
    scheduler._on_pod_add(pod)
    scheduler.cache.add_node(make_node("n1"))
    bound = copy(pod)
    bound.spec.node_name = "n1"
    scheduler._on_pod_update(pod, bound)
    assert scheduler.queue.where("default/p") is None
    assert scheduler.cache.snapshot.nodes["n1"].requested.milli_cpu == 1000
    finished = copy(bound)
    finished.status.phase = "Failed"
    scheduler._on_pod_update(bound, finished)
    assert scheduler.cache.snapshot.nodes["n1"].requested.milli_cpu == 0


async def test_deleting_a_bound_pod_moves_waiting_pods(scheduler):
    scheduler._on_pod_add(make_pod("waiting"))
    await park(scheduler, "default/waiting")
    scheduler._on_pod_add(make_pod("bound", node_name="n1"))
    scheduler._on_pod_delete(make_pod("bound", node_name="n1"))
    assert scheduler.queue.where("default/waiting") != UNSCHEDULABLE


async def test_node_heartbeats_do_not_move_waiting_pods(scheduler):
    node = make_node("n1")
    scheduler._on_node_add(node)
    scheduler._on_pod_add(make_pod("waiting"))
    await park(scheduler, "default/waiting")
    beat = copy(node)
    beat.status.conditions[0].last_heartbeat_time.GetCurrentTime()
    scheduler._on_node_update(node, beat)
    assert scheduler.queue.where("default/waiting") == UNSCHEDULABLE
    bigger = copy(beat)
    bigger.status.allocatable["cpu"] = "64"
    scheduler._on_node_update(beat, bigger)
    assert scheduler.queue.where("default/waiting") != UNSCHEDULABLE
    assert scheduler.cache.snapshot.nodes["n1"].allocatable.milli_cpu == 64000


@pytest.mark.parametrize("change", [
    lambda n: setattr(n.spec, "unschedulable", True),
    lambda n: n.metadata.labels.update({"zone": "b"}),
    lambda n: n.spec.taints.append(core_pb2.Taint(key="k", effect="NoSchedule")),
    lambda n: setattr(n.status.conditions[0], "status", "False"),
])
def test_scheduling_properties(change):
    old = make_node("n1")
    new = copy(old)
    change(new)
    assert scheduling_properties_changed(old, new)
    assert not scheduling_properties_changed(old, copy(old))


def test_set_condition_keeps_transition_time_when_status_stays():
    status = pod_pb2.PodStatus()
    set_condition(status, "PodScheduled", "False", "Unschedulable", "a")
    first = status.conditions[0].last_transition_time.ToNanoseconds()
    set_condition(status, "PodScheduled", "False", "Unschedulable", "b")
    assert len(status.conditions) == 1 and status.conditions[0].message == "b"
    assert status.conditions[0].last_transition_time.ToNanoseconds() == first
