"""Running one controller on a FakeClient, for unit tests of its reconcile(key).

    async with on_fake(ReplicaSetController, rs, pod, concurrent_replicaset_syncs=1) as run:
        await run.reconcile("default/web")       # waits for the informers, reconciles, waits again
        assert len(run.client.objects("Pod", "default")) == 3

The controller is built exactly as the manager builds it (shared informers, its own
EventRecorder, typed options), with informers fed by the fake's watch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, SharedInformers, build_options
from control.client.events import EventRecorder
from control.client.fake import FakeClient
from control.client.workqueue import WorkQueue

TIMEOUT = 5.0


@dataclass
class FakeRun:
    client: FakeClient
    controller: Any  # the Controller subclass under test
    informers: SharedInformers
    recorder: EventRecorder
    changed: asyncio.Event  # set by every informer event

    async def synced(self, timeout: float = TIMEOUT) -> None:  # noqa: ASYNC109 - a test helper's bound
        """Waits until every informer has seen every change the fake has made to its kind."""
        async with asyncio.timeout(timeout):
            while not all(int(i.resource_version or 0) >= self.client.kind_revision(i.kind)
                          for i in self.informers.all()):
                self.changed.clear()
                # Informers a controller starts later have no handler setting `changed`: look again soon.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 0.05)

    async def reconcile(self, key: str) -> None:
        await self.synced()
        await self.controller.reconcile(key)
        await self.synced()

    async def events(self) -> list[tuple[str, str, str]]:
        """(type, reason, message) of the Events the controller has recorded so far."""
        await self.recorder.flush()
        return [(e.type, e.reason, e.message) for e in self.client.objects("Event")]

    def forget_queued(self) -> None:
        """Drops the keys queued so far (the informers' initial adds), to see what comes next."""
        self.controller.queue.shutdown()
        self.controller.queue = WorkQueue(name=self.controller.name)

    def queued(self) -> set[str]:
        """The keys waiting in the controller's queue (not those waiting out a delay)."""
        return set(self.controller.queue._queue)


@contextlib.asynccontextmanager
async def on_fake(controller: type[Controller], *objects: Message, **options: Any) -> AsyncIterator[FakeRun]:
    client = FakeClient(*objects)
    informers = SharedInformers(client)
    recorder = EventRecorder(client, controller.source())
    instance = controller(ControllerContext(client, informers, recorder, build_options(controller, options)))
    changed = asyncio.Event()
    for informer in informers.all():
        informer.add_handler(lambda _obj: changed.set(), lambda _old, _new: changed.set(), lambda _obj: changed.set())
    informers.start()
    try:
        if not await informers.wait_synced(TIMEOUT):
            raise TimeoutError("informers did not sync")
        yield FakeRun(client, instance, informers, recorder, changed)
    finally:
        instance.queue.shutdown()
        await informers.stop()
        await recorder.close()
