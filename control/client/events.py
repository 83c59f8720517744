"""Recording core/v1 Events about objects, like client-go's EventRecorder.

event() never blocks and never raises: events are queued and written by a
background task; failures are logged. Repeats of the same event (same object,
type, reason, message and source) update the existing Event's count and
lastTimestamp instead of creating a new one, as Kubernetes' event correlator does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from control.client.client import Client
from control.client.kinds import KINDS, kind_of
from skiff.v1 import core_pb2, meta_pb2

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"

_EVENT = KINDS["Event"]
_CACHE_SIZE = 4096


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
    def __init__(self, client: Client, component: str, host: str = "", max_pending: int = 1000) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.max_pending = max_pending
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._recent: OrderedDict[tuple, core_pb2.Event] = OrderedDict()

    def event(self, obj: Message, type: str, reason: str, message: str) -> None:
        """Queues an Event about obj; type is "Normal" or "Warning"."""
        if self._queue is None:
            self._queue = asyncio.Queue(self.max_pending)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            self._queue.put_nowait((object_reference(obj), type, reason, message, _now()))
        except asyncio.QueueFull:
            log.warning("event queue full; dropping %s %s: %s", type, reason, message)

    async def flush(self) -> None:
        """Waits until every queued event has been written (or has failed)."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            ref, type_, reason, message, when = await self._queue.get()
            try:
                await self._record(ref, type_, reason, message, when)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # events are best-effort
                log.warning("could not record event %s %s on %s/%s: %s", type_, reason,
                            ref.namespace, ref.name, e)
            finally:
                self._queue.task_done()

    async def _record(self, ref: meta_pb2.ObjectReference, type_: str, reason: str, message: str,
                      when: Timestamp) -> None:
        key = (ref.kind, ref.namespace, ref.name, ref.uid, ref.api_version, type_, reason, message,
               self.component, self.host)
        previous = self._recent.get(key)
        if previous is not None and await self._bump(key, previous, when):
            return
        created = await self.client.create(self._new_event(ref, type_, reason, message, when))
        self._remember(key, created)

    async def _bump(self, key: tuple, previous: core_pb2.Event, when: Timestamp) -> bool:
        event = core_pb2.Event()
        event.CopyFrom(previous)
        event.count = previous.count + 1
        event.last_timestamp.CopyFrom(when)
        try:
            updated = await self.client.update(event)
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED):
                raise
            self._recent.pop(key, None)
            return False
        self._remember(key, updated)
        return True

    def _new_event(self, ref: meta_pb2.ObjectReference, type_: str, reason: str, message: str,
                   when: Timestamp) -> core_pb2.Event:
        # Cluster-scoped objects (nodes) get their events in "default", as in Kubernetes.
        namespace = ref.namespace or "default"
        name = f"{ref.name}.{time.time_ns():x}"
        return _EVENT.new(metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace),
                          involved_object=ref, reason=reason, message=message, type=type_,
                          source=core_pb2.EventSource(component=self.component, host=self.host),
                          first_timestamp=when, last_timestamp=when, count=1,
                          reporting_component=self.component, reporting_instance=self.host)

    def _remember(self, key: tuple, event: core_pb2.Event) -> None:
        self._recent[key] = event
        self._recent.move_to_end(key)
        while len(self._recent) > _CACHE_SIZE:
            self._recent.popitem(last=False)


def _now() -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(time.time_ns())
    return ts
