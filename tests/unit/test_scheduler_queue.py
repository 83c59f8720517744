"""The scheduling queue: priority order, back-off, unschedulable parking and moves."""

from __future__ import annotations

import asyncio

import pytest

from control.scheduler.podinfo import PodInfo
from control.scheduler.queue import ACTIVE, BACKOFF, IN_FLIGHT, UNSCHEDULABLE, QueueClosed, SchedulingQueue
from control.scheduler.testing import make_pod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def info(name: str, priority: int | None = None) -> PodInfo:
    pod = make_pod(name)
    if priority is not None:
        pod.spec.priority = priority
    return PodInfo(pod)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(clock: Clock) -> SchedulingQueue:
    return SchedulingQueue(clock=clock)


async def pop_now(queue: SchedulingQueue):
    return await asyncio.wait_for(queue.pop(), 1)


async def test_priority_then_fifo(queue, clock):
    queue.add(info("a"))
    clock.now += 1
    queue.add(info("b", priority=10))
    clock.now += 1
    queue.add(info("c"))
    assert [(await pop_now(queue)).key for _ in range(3)] == ["default/b", "default/a", "default/c"]


async def test_duplicate_adds_are_one_entry(queue):
    queue.add(info("a"))
    queue.add(info("a"))
    assert len(queue) == 1
    await pop_now(queue)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.pop(), 0.05)


async def test_unschedulable_waits_for_a_move_then_backs_off(queue, clock):
    queue.add(info("a"))
    queued = await pop_now(queue)
    assert queue.where("default/a") == IN_FLIGHT
    queue.add_unschedulable(queued, {"NodeResourcesFit"})
    assert queue.where("default/a") == UNSCHEDULABLE
    clock.now += 0.5
    assert queue.move_all_to_active_or_backoff() == 1
    assert queue.where("default/a") == BACKOFF  # 1 s back-off after the first attempt
    clock.now += 0.6
    assert (await pop_now(queue)).attempts == 2


async def test_move_after_back_off_goes_straight_to_active(queue, clock):
    queue.add(info("a"))
    queue.add_unschedulable(await pop_now(queue))
    clock.now += 5
    queue.move_all_to_active_or_backoff()
    assert queue.where("default/a") == ACTIVE


async def test_move_request_during_the_attempt_sends_pod_to_back_off(queue, clock):
    queue.add(info("a"))
    queued = await pop_now(queue)
    queue.move_all_to_active_or_backoff()  # e.g. a node was added while we were filtering
    queue.add_unschedulable(queued)
    assert queue.where("default/a") == BACKOFF


async def test_back_off_doubles_up_to_the_maximum(queue, clock):
    queue.add(info("a"))
    durations = []
    for _ in range(6):
        queued = await pop_now(queue)
        durations.append(queue.backoff_duration(queued))
        queue.add_backoff(queued)
        clock.now += durations[-1] + 0.01
    assert durations == [1, 2, 4, 8, 10, 10]


async def test_predicate_moves_only_matching_pods(queue, clock):
    for name in ("a", "b"):
        queue.add(info(name))
        queue.add_unschedulable(await pop_now(queue))
    clock.now += 20
    assert queue.move_all_to_active_or_backoff(lambda q: q.key == "default/b") == 1
    assert queue.where("default/a") == UNSCHEDULABLE and queue.where("default/b") == ACTIVE


async def test_unschedulable_pods_are_retried_after_five_minutes(queue, clock):
    queue.add(info("a"))
    queue.add_unschedulable(await pop_now(queue))
    clock.now += 301
    assert (await pop_now(queue)).key == "default/a"


async def test_update_of_an_unschedulable_pod_requeues_it(queue, clock):
    queue.add(info("a"))
    queue.add_unschedulable(await pop_now(queue))
    clock.now += 2
    queue.add(info("a"))
    assert queue.where("default/a") == ACTIVE


async def test_delete_and_done(queue):
    queue.add(info("a"))
    queue.add(info("b"))
    queue.delete("default/a")
    queued = await pop_now(queue)
    assert queued.key == "default/b"
    queue.add_backoff(info_queued := queued)
    queue.delete("default/b")
    queue.add_backoff(info_queued)  # ignored: the pod is gone
    assert len(queue) == 0
    queue.add(info("c"))
    queue.done((await pop_now(queue)).key)
    assert len(queue) == 0


async def test_pop_waits_for_back_off_to_expire():
    queue = SchedulingQueue(initial_backoff=0.05)
    queue.add(info("a"))
    queue.add_backoff(await pop_now(queue))
    assert (await asyncio.wait_for(queue.pop(), 2)).attempts == 2


async def test_close_wakes_a_waiting_pop(queue):
    waiter = asyncio.create_task(queue.pop())
    await asyncio.sleep(0)
    queue.close()
    with pytest.raises(QueueClosed):
        await asyncio.wait_for(waiter, 1)
