"""Work queue semantics: de-duplication, exclusive processing, back-off, shutdown."""

from __future__ import annotations

import asyncio

import pytest

from control.client.workqueue import ShutDown, WorkQueue, run_workers
from tests.fixtures.procs import eventually


async def test_deduplicates_keys() -> None:
    q = WorkQueue()
    q.add("a")
    q.add("b")
    q.add("a")
    assert q.len() == 2
    assert await q.get() == "a"
    assert await q.get() == "b"
    assert len(q) == 0


async def test_key_in_processing_is_requeued_after_done_not_before() -> None:
    q = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")
    assert q.len() == 0  # not handed to a second worker while processing
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0.01)
    assert not second.done()
    q.done(key)
    assert await asyncio.wait_for(second, 1) == "a"


async def test_done_without_readd_does_not_requeue() -> None:
    q = WorkQueue()
    q.add("a")
    q.done(await q.get())
    assert q.len() == 0


async def test_get_waits_for_add() -> None:
    q = WorkQueue()
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    q.add("x")
    assert await asyncio.wait_for(waiter, 1) == "x"


async def test_rate_limited_backoff_grows_and_forget_resets() -> None:
    q = WorkQueue(base_delay=0.01, max_delay=0.04)
    assert [q.when(n) for n in range(5)] == [0.01, 0.02, 0.04, 0.04, 0.04]
    q.add_rate_limited("k")
    q.add_rate_limited("k")
    assert q.num_requeues("k") == 2
    assert q.len() == 0  # delayed, not immediate
    assert await asyncio.wait_for(q.get(), 1) == "k"
    q.forget("k")
    assert q.num_requeues("k") == 0


async def test_add_after_delays_and_earliest_wins() -> None:
    q = WorkQueue()
    loop = asyncio.get_running_loop()
    start = loop.time()
    q.add_after("k", 5)
    q.add_after("k", 0.05)
    assert await asyncio.wait_for(q.get(), 1) == "k"
    assert 0.04 <= loop.time() - start < 1


async def test_shutdown_drains_then_raises() -> None:
    q = WorkQueue()
    q.add("a")
    waiter_q = WorkQueue()
    waiter = asyncio.create_task(waiter_q.get())
    await asyncio.sleep(0)
    q.shutdown()
    waiter_q.shutdown()
    q.add("b")  # ignored after shutdown
    assert await q.get() == "a"
    with pytest.raises(ShutDown):
        await q.get()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(waiter, 1)


async def test_run_workers_never_processes_a_key_concurrently() -> None:
    q = WorkQueue()
    active: set[str] = set()
    overlaps: list[str] = []
    counts: dict[str, int] = {}

    async def reconcile(key: str) -> None:
        if key in active:
            overlaps.append(key)
        active.add(key)
        counts[key] = counts.get(key, 0) + 1
        await asyncio.sleep(0.01)
        active.discard(key)

    workers = asyncio.create_task(run_workers(q, reconcile, workers=4))
    for _ in range(5):
        for key in ("a", "b", "c"):
            q.add(key)
        await asyncio.sleep(0.004)

    async def drained() -> bool:
        return q.len() == 0 and not active
    await eventually(drained, timeout=5, interval=0.005, what="the queue to drain")
    q.shutdown()
    await asyncio.wait_for(workers, 2)
    assert overlaps == []
    assert set(counts) == {"a", "b", "c"}
    assert all(n >= 2 for n in counts.values())  # re-added while processing → processed again


async def test_run_workers_retries_failures_with_backoff_then_forgets() -> None:
    q = WorkQueue(base_delay=0.001)
    attempts: list[int] = []

    async def reconcile(key: str) -> None:
        attempts.append(q.num_requeues(key))
        if len(attempts) < 3:
            raise RuntimeError("transient")

    workers = asyncio.create_task(run_workers(q, reconcile))
    q.add("k")
    for _ in range(100):
        if len(attempts) >= 3:
            break
        await asyncio.sleep(0.01)
    q.shutdown()
    await asyncio.wait_for(workers, 2)
    assert attempts == [0, 1, 2]
    assert q.num_requeues("k") == 0
