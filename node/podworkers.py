"""Pod workers (the kubelet's pod_workers.go): one worker per pod uid serialising that pod's syncs.

A worker sleeps until it is woken (the pod changed, the runtime reported a change for it, a
probe result flipped) or until the earliest time a sync asked for (`sync_soon`: a back-off
running out, a volume refresh), at the latest every RESYNC_PERIOD. It ends when its sync says
the pod is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from skiff.v1 import pod_pb2

log = logging.getLogger(__name__)

RESYNC_PERIOD = 10.0


@dataclass
class PodWorker:
    """One pod's worker and what its syncs remember between each other."""

    uid: str
    pod: pod_pb2.Pod
    deleted: bool = False  # gone from the apiserver
    terminal: bool = False  # Succeeded/Failed: containers stopped, waiting for deletion
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    next_sync: float = 0.0
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)  # container -> (reason, message)
    task: asyncio.Task | None = None
    first_seen: float = field(default_factory=time.monotonic)  # for kubelet_pod_start_duration_seconds
    start_observed: bool = False
    resize_pending: tuple[str, str] | None = None  # (reason, message) of a resize the node cannot take

    def sync_soon(self, delay: float) -> None:
        at = time.monotonic() + delay
        self.next_sync = at if not self.next_sync else min(self.next_sync, at)


# Converges one pod one step; True when the pod is gone and its worker can end.
SyncPod = Callable[[PodWorker], Awaitable[bool]]


class PodWorkers:
    def __init__(self, sync: SyncPod, on_done: Callable[[str], None]) -> None:
        self._sync = sync
        self._on_done = on_done
        self._workers: dict[str, PodWorker] = {}

    def get(self, uid: str) -> PodWorker | None:
        return self._workers.get(uid)

    def __contains__(self, uid: str) -> bool:
        return uid in self._workers

    def update(self, pod: pod_pb2.Pod) -> None:
        """The pod was added or changed: start its worker if needed and wake it."""
        uid = pod.metadata.uid
        worker = self._workers.get(uid)
        if worker is None:
            worker = self._workers[uid] = PodWorker(uid, pod)
            worker.task = asyncio.get_running_loop().create_task(self._work(worker))
        if _revision(pod) >= _revision(worker.pod):  # never go back past our own status write
            worker.pod = pod
        worker.wake.set()

    def delete(self, pod: pod_pb2.Pod) -> None:
        worker = self._workers.get(pod.metadata.uid)
        if worker is not None:
            worker.deleted = True
            worker.wake.set()

    def active(self) -> list[PodWorker]:
        """The pods this node runs or is starting: neither finished nor deleted."""
        return [w for w in self._workers.values() if not w.terminal and not w.deleted]

    def wake(self, uid: str) -> None:
        worker = self._workers.get(uid)
        if worker is not None:
            worker.wake.set()

    async def close(self) -> None:
        tasks = [w.task for w in self._workers.values() if w.task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _work(self, w: PodWorker) -> None:
        while True:
            timeout = max(0.0, w.next_sync - time.monotonic()) if w.next_sync else RESYNC_PERIOD
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(w.wake.wait(), timeout)
            w.wake.clear()
            w.next_sync = 0.0
            try:
                if await self._sync(w):
                    break
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one pod's failure must not stop its worker
                log.exception("sync of pod %s/%s failed", w.pod.metadata.namespace, w.pod.metadata.name)
                w.sync_soon(1.0)
        self._workers.pop(w.uid, None)
        self._on_done(w.uid)


def _revision(pod: pod_pb2.Pod) -> int:
    text = pod.metadata.resource_version
    return int(text) if text.isdigit() else 0
