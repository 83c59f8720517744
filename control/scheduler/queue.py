"""The scheduling queue: active (by priority, then age), back-off, and unschedulable pods.

As in kube-scheduler: a pod that failed waits out an exponential back-off
(1 s doubling to 10 s) before it is tried again; a pod that fit nowhere parks
in the unschedulable set until a cluster change (a node added or changed, a
pod removed) moves it back, or until it has waited 5 minutes. A move request
that arrives while a pod is being scheduled sends that pod to back-off rather
than to the unschedulable set, so the change is not missed.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from control.scheduler.podinfo import PodInfo

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_UNSCHEDULABLE_DURATION = 300.0

ACTIVE, BACKOFF, UNSCHEDULABLE, IN_FLIGHT = "active", "backoff", "unschedulable", "in-flight"


class QueueClosed(Exception):
    pass


@dataclass
class QueuedPod:
    info: PodInfo
    timestamp: float  # when it last entered a queue
    initial_timestamp: float
    attempts: int = 0
    cycle: int = 0  # the scheduling cycle that popped it
    where: str = ACTIVE
    seq: int = 0  # invalidates stale heap entries
    unschedulable_plugins: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return self.info.key


class SchedulingQueue:
    def __init__(self, initial_backoff: float = INITIAL_BACKOFF, max_backoff: float = MAX_BACKOFF,
                 max_unschedulable: float = MAX_UNSCHEDULABLE_DURATION,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable = max_unschedulable
        self.clock = clock
        self._pods: dict[str, QueuedPod] = {}
        self._active: list[tuple[int, float, int, str]] = []
        self._backoff: list[tuple[float, int, str]] = []
        self._unschedulable: dict[str, QueuedPod] = {}
        self._seq = itertools.count()
        self.scheduling_cycle = 0
        self._move_request_cycle = -1
        self._wakeup = asyncio.Event()
        self._closed = False
        self._last_stale_check = 0.0

    def __len__(self) -> int:
        return len(self._pods)

    def unschedulable_count(self) -> int:
        return len(self._unschedulable)

    def states(self) -> list[str]:
        """Where each pod is; safe to call from another thread (it copies the table in one step)."""
        return [queued.where for queued in list(self._pods.values())]

    def where(self, key: str) -> str | None:
        queued = self._pods.get(key)
        return queued.where if queued else None

    def add(self, info: PodInfo) -> None:
        """A new pending pod, or a changed one: (re)queued for an attempt now."""
        queued = self._pods.get(info.key)
        if queued is None:
            now = self.clock()
            self._pods[info.key] = queued = QueuedPod(info, now, now)
            self._push_active(queued)
            return
        queued.info = info
        if queued.where == UNSCHEDULABLE:
            self._move(queued)

    def delete(self, key: str) -> None:
        queued = self._pods.pop(key, None)
        if queued is not None:
            queued.seq = -1  # heap entries become stale
            self._unschedulable.pop(key, None)

    def backoff_duration(self, queued: QueuedPod) -> float:
        return min(self.initial_backoff * 2 ** max(queued.attempts - 1, 0), self.max_backoff)

    def add_unschedulable(self, queued: QueuedPod, plugins: set[str] | None = None) -> None:
        """After a failed attempt: park until a cluster change, or back off if one already came."""
        if self._pods.get(queued.key) is not queued:
            return  # deleted or replaced meanwhile
        queued.timestamp = self.clock()
        queued.unschedulable_plugins = plugins or set()
        if self._move_request_cycle >= queued.cycle:
            self._push_backoff(queued)
        else:
            queued.where = UNSCHEDULABLE
            self._unschedulable[queued.key] = queued

    def add_backoff(self, queued: QueuedPod) -> None:
        """After an error (e.g. a failed binding): retry once the back-off has passed."""
        if self._pods.get(queued.key) is not queued:
            return
        queued.timestamp = self.clock()
        self._push_backoff(queued)

    def done(self, key: str) -> None:
        """The pod was bound: forget it."""
        queued = self._pods.get(key)
        if queued is not None and queued.where == IN_FLIGHT:
            del self._pods[key]

    def move_all_to_active_or_backoff(self, predicate: Callable[[QueuedPod], bool] | None = None) -> int:
        """A cluster change might make unschedulable pods fit: move them back."""
        moved = 0
        for queued in list(self._unschedulable.values()):
            if predicate is None or predicate(queued):
                self._move(queued)
                moved += 1
        self._move_request_cycle = self.scheduling_cycle
        return moved

    async def pop(self) -> QueuedPod:
        while True:
            self._flush()
            while self._active:
                _, _, seq, key = heapq.heappop(self._active)
                queued = self._pods.get(key)
                if queued is not None and queued.seq == seq and queued.where == ACTIVE:
                    self.scheduling_cycle += 1
                    queued.cycle = self.scheduling_cycle
                    queued.attempts += 1
                    queued.where = IN_FLIGHT
                    return queued
            if self._closed:
                raise QueueClosed
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._next_wakeup())
            except TimeoutError:
                pass

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    def _next_wakeup(self) -> float:
        wait = 1.0  # also bounds how late the 5-minute unschedulable flush runs
        if self._backoff:
            wait = min(wait, max(self._backoff[0][0] - self.clock(), 0.0))
        return wait

    def _move(self, queued: QueuedPod) -> None:
        expiry = queued.timestamp + self.backoff_duration(queued)
        if expiry > self.clock():
            self._push_backoff(queued, expiry)
        else:
            self._push_active(queued)

    def _push_active(self, queued: QueuedPod) -> None:
        self._unschedulable.pop(queued.key, None)
        queued.where = ACTIVE
        queued.seq = next(self._seq)
        heapq.heappush(self._active, (-queued.info.priority, queued.timestamp, queued.seq, queued.key))
        self._wakeup.set()

    def _push_backoff(self, queued: QueuedPod, expiry: float | None = None) -> None:
        self._unschedulable.pop(queued.key, None)
        queued.where = BACKOFF
        queued.seq = next(self._seq)
        if expiry is None:
            expiry = queued.timestamp + self.backoff_duration(queued)
        heapq.heappush(self._backoff, (expiry, queued.seq, queued.key))
        self._wakeup.set()

    def _flush(self) -> None:
        now = self.clock()
        while self._backoff and self._backoff[0][0] <= now:
            _, seq, key = heapq.heappop(self._backoff)
            queued = self._pods.get(key)
            if queued is not None and queued.seq == seq and queued.where == BACKOFF:
                self._push_active(queued)
        for queued in list(self._unschedulable.values()) if self._has_stale_unschedulable(now) else ():
            if now - queued.timestamp > self.max_unschedulable:
                self._move(queued)

    def _has_stale_unschedulable(self, now: float) -> bool:
        # Checked at most once a second: scanning every pod on every pop would cost O(n) per pod.
        if now - self._last_stale_check < 1.0:
            return False
        self._last_stale_check = now
        return True
