"""A rate-limited work queue of keys, like client-go's workqueue.

Guarantees the controllers rely on:
- a key is queued at most once however often it is added (de-duplication);
- a key being processed is never handed to a second worker; if it is added
  again meanwhile, it is queued again when the first worker calls done(key);
- add_rate_limited backs a key off exponentially (base_delay * 2**failures,
  capped at max_delay) until forget(key) is called after a success.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import grpc

from control.client.metrics import queue_metrics

log = logging.getLogger(__name__)


class ShutDown(Exception):
    """Raised by WorkQueue.get once the queue is shut down and drained."""


class WorkQueue:
    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000, name: str = "") -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.name = name
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._failures: dict[str, int] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._wakeup = asyncio.Event()
        self._shutting_down = False
        self.metrics = queue_metrics(name)

    def add(self, key: str) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        self.metrics.add(key)
        if key in self._processing:
            return  # queued again by done(key)
        self._queue.append(key)
        self._wakeup.set()

    def add_after(self, key: str, delay: float) -> None:
        """Adds key once delay seconds have passed; an earlier pending add wins."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        timer = self._timers.get(key)
        if timer is not None and not timer.cancelled() and timer.when() <= when:
            return
        if timer is not None:
            timer.cancel()
        self._timers[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: str) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: str) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self.metrics.retry()
        self.add_after(key, self.when(failures))

    def when(self, failures: int) -> float:
        """The back-off for a key that has failed `failures` times before."""
        if failures > 64:  # 2**64 overflows nothing in Python, but keep it cheap
            return self.max_delay
        return min(self.base_delay * (2 ** failures), self.max_delay)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: str) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> str:
        """The next key; the caller must call done(key) when finished with it."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(self.name)
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        self.metrics.get(key)
        if self._queue:
            self._wakeup.set()  # let another waiting worker take the next one
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        self.metrics.done(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wakeup.set()

    def shutdown(self) -> None:
        """Stops accepting keys; get() drains what is queued, then raises ShutDown."""
        self._shutting_down = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._wakeup.set()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def len(self) -> int:
        return len(self._queue)

    def __len__(self) -> int:
        return len(self._queue)


async def run_workers(queue: WorkQueue, reconcile: Callable[[str], Awaitable[None]],
                      workers: int = 1) -> None:
    """Runs `workers` loops of get → reconcile → done until the queue shuts down.

    A failed reconcile is logged and retried with back-off; a successful one
    resets the key's back-off.
    """
    await asyncio.gather(*(_worker(queue, reconcile) for _ in range(workers)))


async def _worker(queue: WorkQueue, reconcile: Callable[[str], Awaitable[None]]) -> None:
    while True:
        try:
            key = await queue.get()
        except ShutDown:
            return
        try:
            await reconcile(key)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            _log_failure(queue, key, e)
            queue.add_rate_limited(key)
        else:
            queue.forget(key)
        finally:
            queue.done(key)


def _log_failure(queue: WorkQueue, key: str, error: Exception) -> None:
    name, retry = queue.name or "queue", queue.num_requeues(key) + 1
    if isinstance(error, grpc.aio.AioRpcError):  # the apiserver said no: one line is enough
        log.warning("%s: error syncing %r (retry %d): %s: %s", name, key, retry, error.code().name,
                    error.details())
    else:
        log.exception("%s: error syncing %r (retry %d)", name, key, retry)
