"""Recording core/v1 Events about objects, like client-go's EventRecorder.

event() never blocks and never raises: events are queued and written by a
background task; failures are logged. Before writing, each event goes through
client-go's correlator (eventcorrelator.py): a repeat bumps the existing Event's
count and lastTimestamp, similar events beyond 10 in 10 minutes are combined into
one, and a source sending too many events about one object is throttled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from control.client.client import Client
from control.client.eventcorrelator import Decision, EventCorrelator
from control.client.kinds import KINDS, kind_of
from control.client.wellknown import NAMESPACE_DEFAULT
from skiff.v1 import core_pb2, meta_pb2

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"

_EVENT = KINDS["Event"]


def object_reference(obj: Message) -> meta_pb2.ObjectReference:
    """The involvedObject for a resource (or a copy of an ObjectReference)."""
    if isinstance(obj, meta_pb2.ObjectReference):
        ref = meta_pb2.ObjectReference()
        ref.CopyFrom(obj)
        return ref
    meta = obj.metadata
    kind = kind_of(obj)
    return meta_pb2.ObjectReference(kind=kind.kind, api_version=kind.api_version, name=meta.name,
                                    namespace=meta.namespace, uid=meta.uid,
                                    resource_version=meta.resource_version)


class EventRecorder:
    """Writes Events in the background through a few writers.

    All events about one object go to the same writer (sharded by the object),
    so their counting and aggregation stay ordered; an overflowing queue drops
    events, as client-go's broadcaster does, warning at most every 10 s.
    """

    WRITERS = 4
    DROP_WARNING_INTERVAL = 10.0

    def __init__(self, client: Client, component: str, host: str = "", max_pending: int = 1000,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.max_pending = max_pending
        self.clock = clock
        self.correlator = EventCorrelator()
        self._queues: list[asyncio.Queue] = []
        self._tasks: list[asyncio.Task] = []
        self._dropped = 0
        self._last_drop_warning = 0.0

    def event(self, obj: Message, type: str, reason: str, message: str) -> None:
        """Queues an Event about obj; type is "Normal" or "Warning"."""
        self._ensure_writers()
        ref = object_reference(obj)
        queue = self._queues[hash((ref.kind, ref.namespace, ref.name, ref.uid)) % len(self._queues)]
        try:
            queue.put_nowait((ref, type, reason, message, self.clock()))
        except asyncio.QueueFull:
            self._note_drop(type, reason, message)

    def _ensure_writers(self) -> None:
        if not self._queues:
            per_writer = max(1, self.max_pending // self.WRITERS)
            self._queues = [asyncio.Queue(per_writer) for _ in range(self.WRITERS)]
            self._tasks = []
        if len(self._tasks) == len(self._queues) and not any(t.done() for t in self._tasks):
            return
        loop = asyncio.get_running_loop()
        old = self._tasks + [None] * (len(self._queues) - len(self._tasks))
        self._tasks = [t if t is not None and not t.done() else loop.create_task(self._run(q))
                       for t, q in zip(old, self._queues, strict=True)]

    def _note_drop(self, type_: str, reason: str, message: str) -> None:
        self._dropped += 1
        now = time.monotonic()
        if now - self._last_drop_warning >= self.DROP_WARNING_INTERVAL:
            log.warning("event queue full; dropped %d events so far (latest %s %s: %s)",
                        self._dropped, type_, reason, message)
            self._last_drop_warning = now

    async def flush(self) -> None:
        """Waits until every queued event has been written (or has failed)."""
        for queue in self._queues:
            await queue.join()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _run(self, queue: asyncio.Queue) -> None:
        while True:
            ref, type_, reason, message, when = await queue.get()
            try:
                await self._record(ref, type_, reason, message, when)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # events are best-effort
                log.warning("could not record event %s %s on %s/%s: %s", type_, reason,
                            ref.namespace, ref.name, e)
            finally:
                queue.task_done()

    async def _record(self, ref: meta_pb2.ObjectReference, type_: str, reason: str, message: str,
                      when: float) -> None:
        decision = self.correlator.correlate(self._new_event(ref, type_, reason, message, _timestamp(when)), when)
        if decision is None:
            log.debug("event %s %s on %s/%s dropped: too many from this source about the object", type_,
                      reason, ref.namespace, ref.name)
            return
        self.correlator.written(decision.key, await self._write(decision))

    async def _write(self, decision: Decision) -> core_pb2.Event:
        event = decision.event
        if decision.existing:
            # Kubernetes' recorder patches count, lastTimestamp and message: written over with no
            # resourceVersion precondition, as that patch has none.
            event.metadata.resource_version = ""
            try:
                return await self.client.update(event)
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            event.metadata.CopyFrom(meta_pb2.ObjectMeta(name=event.metadata.name,
                                                        namespace=event.metadata.namespace))
        return await self.client.create(event)

    def _new_event(self, ref: meta_pb2.ObjectReference, type_: str, reason: str, message: str,
                   when: Timestamp) -> core_pb2.Event:
        # Cluster-scoped objects (nodes) get their events in "default", as in Kubernetes.
        namespace = ref.namespace or NAMESPACE_DEFAULT
        name = f"{ref.name}.{time.time_ns():x}"
        return _EVENT.new(metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace),
                          involved_object=ref, reason=reason, message=message, type=type_,
                          source=core_pb2.EventSource(component=self.component, host=self.host),
                          first_timestamp=when, last_timestamp=when, count=1,
                          reporting_component=self.component, reporting_instance=self.host)


def _timestamp(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts
