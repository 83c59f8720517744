"""The controller kit: informers feed a work queue; workers call a controller's reconcile(key).

A controller subclasses Controller, names itself (`name`, as kube-controller-manager's
--controllers spells it), declares its options as a small frozen dataclass (`Options`; the
defaults are kube-controller-manager's, each field becomes a flag), registers informer handlers
that only enqueue keys, and implements `async reconcile(key)`, level-triggered and idempotent.
The handler factories here cover the usual wiring: the object's own key (`enqueue_handlers`), its
controller owner's key (`enqueue_owner`, controller-runtime's EnqueueRequestForOwner), or every
owner whose selector matches an orphan (`enqueue_selecting`). `write_status` applies Kubernetes'
rule for status writes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import grpc
from google.protobuf.message import Message

from control.client.client import Client
from control.client.controllerref import controller_ref
from control.client.events import EventRecorder
from control.client.informer import Informer, copy_of, key_of
from control.client.kinds import Kind, lookup
from control.client.selectors import from_label_selector
from control.client.workqueue import WorkQueue, run_workers

log = logging.getLogger(__name__)

Handlers = dict[str, Callable]


def option(default: Any, help: str, parse: Callable[[str], Any] | None = None) -> Any:
    """A field of a controller's Options: its default, its flag's help and (when the default's
    type is not enough, e.g. durations) how the flag's text is parsed."""
    return dataclasses.field(default=default, metadata={"help": help, "parse": parse})


@dataclass(frozen=True)
class NoOptions:
    """For controllers without options."""


class Controller:
    """Base class: a named work queue drained by `workers` reconcile loops."""

    name: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    # Who its Events say they come from; most of kube-controller-manager's are `<name>-controller`.
    event_source: ClassVar[str] = ""

    @classmethod
    def source(cls) -> str:
        return cls.event_source or f"{cls.name}-controller"

    def __init__(self, ctx: ControllerContext, workers: int = 1) -> None:
        self.client = ctx.client
        self.recorder = ctx.recorder
        self.options = ctx.options
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

    def enqueue_handlers(self) -> Handlers:
        """Handlers that enqueue the object's own key on any change."""
        return {"on_add": self.enqueue, "on_update": lambda _old, new: self.enqueue(new),
                "on_delete": self.enqueue}

    def enqueue_owner(self, owner_kind: str, orphan: Callable[[Message], None] | None = None) -> Handlers:
        """controller-runtime's EnqueueRequestForOwner (with OnlyControllerOwner): a change to an
        owned object enqueues the key of its controller owner of `owner_kind`; when its controller
        reference moves, the previous owner too. `orphan` gets objects without a controller, which
        some owner may adopt (and, on update, those that just lost theirs or changed labels)."""
        namespaced = lookup(owner_kind).namespaced

        def owner_key(obj: Message) -> str | None:
            ref = controller_ref(obj)
            if ref is None or ref.kind != owner_kind:
                return None
            return f"{obj.metadata.namespace}/{ref.name}" if namespaced else ref.name

        def added(obj: Message) -> None:
            key = owner_key(obj)
            if key is not None:
                self.queue.add(key)
            elif orphan is not None and controller_ref(obj) is None:
                orphan(obj)

        def updated(old: Message, new: Message) -> None:
            old_key, new_key = owner_key(old), owner_key(new)
            if old_key is not None and old_key != new_key:
                self.queue.add(old_key)
            if new_key is not None:
                self.queue.add(new_key)
            elif orphan is not None and controller_ref(new) is None and (
                    controller_ref(old) is not None or old.metadata.labels != new.metadata.labels):
                orphan(new)

        def deleted(obj: Message) -> None:
            key = owner_key(obj)
            if key is not None:
                self.queue.add(key)

        return {"on_add": added, "on_update": updated, "on_delete": deleted}

    def enqueue_selecting(self, owners: Informer) -> Callable[[Message], None]:
        """Enqueues every owner in the object's namespace whose spec.selector matches its labels."""
        def enqueue(obj: Message) -> None:
            for owner in owners.store.by_index("namespace", obj.metadata.namespace):
                if from_label_selector(owner.spec.selector).matches(obj.metadata.labels):
                    self.enqueue(owner)
        return enqueue

    async def write_status(self, obj: Message, status: Message) -> Message | None:
        """UpdateStatus of obj (at obj's resourceVersion) with this status; Kubernetes' rule:
        ABORTED means obj was stale, so its key is requeued to be synced again from a fresh cache;
        NOT_FOUND means it is gone and there is nothing to do. Either way, None."""
        updated = copy_of(obj)
        updated.status.CopyFrom(status)
        try:
            return await self.client.update_status(updated)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.ABORTED:
                self.queue.add_rate_limited(key_of(obj))
                return None
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise


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

    def all(self) -> list[Informer]:
        return list(self._informers.values())

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
    options: Any = dataclasses.field(default_factory=NoOptions)  # the controller's Options


def build_options(controller: type[Controller], values: dict[str, Any]) -> Any:
    """The controller's Options with the given values for the fields it declares."""
    names = {f.name for f in dataclasses.fields(controller.Options)}
    return controller.Options(**{k: v for k, v in values.items() if k in names})
