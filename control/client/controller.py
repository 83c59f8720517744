"""The glue between informers, a work queue and a controller's reconcile(key).

A controller subclasses Controller, registers informer handlers that only
enqueue keys, and implements `async reconcile(key)`. Also here: the pieces
several controllers need (owner references, expectations, pod readiness),
so that no controller has to import another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from control.client.client import Client
from control.client.events import EventRecorder
from control.client.informer import Informer, key_of
from control.client.kinds import Kind, kind_of, lookup
from control.client.workqueue import WorkQueue, run_workers
from skiff.v1 import meta_pb2

log = logging.getLogger(__name__)


class Controller:
    """Base class: a named work queue drained by `workers` reconcile loops."""

    name = "controller"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self.queue = WorkQueue(name=self.name)

    async def reconcile(self, key: str) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        try:
            await run_workers(self.queue, self.reconcile, self.workers)
        finally:
            self.queue.shutdown()

    def enqueue(self, obj: Message) -> None:
        self.queue.add(key_of(obj))

    def enqueue_handlers(self) -> dict[str, Callable]:
        """Handlers that enqueue the object's own key on any change."""
        return {"on_add": self.enqueue, "on_update": lambda _old, new: self.enqueue(new),
                "on_delete": self.enqueue}


class SharedInformers:
    """One informer per kind, shared by every controller of a process."""

    def __init__(self, client: Client, **informer_options: Any) -> None:
        self.client = client
        self.informer_options = informer_options
        self._informers: dict[str, Informer] = {}
        self._tasks: list[asyncio.Task] = []
        self._started = False

    def get(self, kind: Kind | str) -> Informer:
        k = kind if isinstance(kind, Kind) else lookup(kind)
        informer = self._informers.get(k.kind)
        if informer is None:
            informer = Informer(self.client, k, **self.informer_options)
            self._informers[k.kind] = informer
            if self._started:
                self._tasks.append(asyncio.create_task(informer.run()))
        return informer

    def start(self) -> None:
        self._started = True
        self._tasks.extend(asyncio.create_task(i.run()) for i in self._informers.values())

    async def wait_synced(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - like Informer's
        results = await asyncio.gather(*(i.wait_synced(timeout) for i in self._informers.values()))
        return all(results)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._started = False


@dataclass
class ControllerContext:
    """What the manager hands every controller it starts."""

    client: Client
    informers: SharedInformers
    recorder: EventRecorder
    workers: int = 1
    options: dict[str, Any] = field(default_factory=dict)  # component flags, e.g. node_monitor_grace_period


# --- owner references -------------------------------------------------------

def controller_ref(obj: Message) -> meta_pb2.OwnerReference | None:
    """The ownerReference with controller=true, if any."""
    for ref in obj.metadata.owner_references:
        if ref.HasField("controller") and ref.controller:
            return ref
    return None


def new_controller_ref(owner: Message) -> meta_pb2.OwnerReference:
    kind = kind_of(owner)
    return meta_pb2.OwnerReference(api_version=kind.api_version, kind=kind.kind,
                                   name=owner.metadata.name, uid=owner.metadata.uid,
                                   controller=True, block_owner_deletion=True)


def copy_of(obj: Message) -> Message:
    clone = type(obj)()
    clone.CopyFrom(obj)
    return clone


def is_being_deleted(obj: Message) -> bool:
    return obj.metadata.HasField("deletion_timestamp")


# --- pods -------------------------------------------------------------------

def pod_condition(pod: Message, type_: str) -> meta_pb2.Condition | None:
    for cond in pod.status.conditions:
        if cond.type == type_:
            return cond
    return None


def is_pod_active(pod: Message) -> bool:
    """Counts towards a controller's replicas: not finished and not being deleted."""
    return pod.status.phase not in ("Succeeded", "Failed") and not is_being_deleted(pod)


def is_pod_ready(pod: Message) -> bool:
    cond = pod_condition(pod, "Ready")
    return cond is not None and cond.status == "True"


def is_pod_available(pod: Message, min_ready_seconds: int, now: float | None = None) -> bool:
    """Ready for at least min_ready_seconds (by the Ready condition's lastTransitionTime)."""
    cond = pod_condition(pod, "Ready")
    if cond is None or cond.status != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    since = cond.last_transition_time.ToNanoseconds() / 1e9 if cond.HasField("last_transition_time") else 0
    return since + min_ready_seconds <= (time.time() if now is None else now)


# --- expectations -----------------------------------------------------------

EXPECTATIONS_TIMEOUT = 300.0  # client-go's ExpectationsTimeout


@dataclass
class _Expected:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)  # pod UIDs
    at: float = field(default_factory=time.monotonic)


class Expectations:
    """What a controller's own writes should bring back through its informers.

    Until the creations and deletions a controller asked for have been
    observed, its cache is stale, and acting on it would double-create or
    double-delete; reconcile then only updates status. Expectations older than
    five minutes are treated as satisfied (a lost watch event must not wedge
    a controller forever).
    """

    def __init__(self, timeout: float = EXPECTATIONS_TIMEOUT) -> None:
        self.timeout = timeout
        self._by_key: dict[str, _Expected] = {}

    def satisfied(self, key: str) -> bool:
        exp = self._by_key.get(key)
        if exp is None:
            return True
        if exp.adds <= 0 and not exp.deletes:
            return True
        return time.monotonic() - exp.at > self.timeout

    def expect_creations(self, key: str, count: int) -> None:
        self._by_key[key] = _Expected(adds=count)

    def expect_deletions(self, key: str, uids: list[str]) -> None:
        self._by_key[key] = _Expected(deletes=set(uids))

    def creation_observed(self, key: str) -> None:
        exp = self._by_key.get(key)
        if exp is not None:
            exp.adds -= 1

    def deletion_observed(self, key: str, uid: str) -> None:
        exp = self._by_key.get(key)
        if exp is not None:
            exp.deletes.discard(uid)

    def forget(self, key: str) -> None:
        self._by_key.pop(key, None)
