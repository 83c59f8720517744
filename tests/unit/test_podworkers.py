"""Pod workers: one worker per pod, its syncs never overlap, it ends when its sync says the pod is gone."""

from __future__ import annotations

import asyncio

from node.podworkers import PodWorker, PodWorkers
from skiff.v1 import pod_pb2
from tests.fixtures.procs import eventually


def pod(uid: str, revision: str = "1", name: str = "web") -> pod_pb2.Pod:
    p = pod_pb2.Pod()
    p.metadata.uid, p.metadata.name, p.metadata.namespace, p.metadata.resource_version = uid, name, "default", revision
    return p


class Syncer:
    """A sync that blocks until released, noting overlaps and the pods it saw."""

    def __init__(self) -> None:
        self.running: dict[str, int] = {}
        self.overlapped = False
        self.seen: list[tuple[str, str]] = []
        self.release = asyncio.Event()
        self.gone: set[str] = set()
        self.done: list[str] = []

    async def sync(self, w: PodWorker) -> bool:
        self.running[w.uid] = self.running.get(w.uid, 0) + 1
        self.overlapped |= self.running[w.uid] > 1
        self.seen.append((w.uid, w.pod.metadata.resource_version))
        try:
            await self.release.wait()
        finally:
            self.running[w.uid] -= 1
        return w.uid in self.gone


async def _true(value: bool) -> bool:
    return value


async def test_one_pods_syncs_are_serialised_and_updates_during_a_sync_are_not_lost() -> None:
    syncer = Syncer()
    workers = PodWorkers(syncer.sync, on_done=syncer.done.append)
    try:
        workers.update(pod("a", "1"))
        await eventually(lambda: _true(syncer.seen == [("a", "1")]), timeout=2, what="the first sync")
        workers.update(pod("a", "2"))
        workers.update(pod("a", "3"))
        workers.update(pod("b", "1"))  # another pod syncs alongside
        await eventually(lambda: _true(("b", "1") in syncer.seen), timeout=2, what="pod b's sync")
        syncer.release.set()
        await eventually(lambda: _true(("a", "3") in syncer.seen), timeout=2, what="the update made during a sync")
        assert not syncer.overlapped
        assert ("a", "2") not in syncer.seen  # coalesced: the worker syncs the newest pod
    finally:
        await workers.close()


async def test_an_older_pod_never_replaces_a_newer_one() -> None:
    syncer = Syncer()
    syncer.release.set()
    workers = PodWorkers(syncer.sync, on_done=syncer.done.append)
    try:
        workers.update(pod("a", "7"))
        workers.update(pod("a", "5"))
        await eventually(lambda: _true(bool(syncer.seen)), timeout=2, what="a sync")
        assert workers.get("a").pod.metadata.resource_version == "7"
    finally:
        await workers.close()


async def test_the_worker_ends_when_its_sync_says_the_pod_is_gone() -> None:
    syncer = Syncer()
    syncer.release.set()
    workers = PodWorkers(syncer.sync, on_done=syncer.done.append)
    try:
        workers.update(pod("a"))
        await eventually(lambda: _true(bool(syncer.seen)), timeout=2, what="a sync")
        assert "a" in workers and syncer.done == []
        syncer.gone.add("a")
        workers.delete(pod("a"))
        await eventually(lambda: _true(syncer.done == ["a"]), timeout=2, what="the worker to end")
        assert "a" not in workers and workers.get("a") is None
    finally:
        await workers.close()


async def test_a_failing_sync_is_retried() -> None:
    attempts: list[float] = []

    async def sync(w: PodWorker) -> bool:
        attempts.append(asyncio.get_running_loop().time())
        if len(attempts) == 1:
            raise RuntimeError("runtime hiccup")
        return False

    workers = PodWorkers(sync, on_done=lambda uid: None)
    try:
        workers.update(pod("a"))
        await eventually(lambda: _true(len(attempts) >= 2), timeout=5, what="the retry")
        assert attempts[1] - attempts[0] >= 0.9  # retried after its back-off, not in a tight loop
    finally:
        await workers.close()
