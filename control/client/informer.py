"""Informers: a local, watch-fed cache of one kind, like client-go's shared informers.

An Informer lists a kind (paginated), then watches it from the list's
resourceVersion, keeping `store` current and calling handlers for each change.
When the watch stream ends it resumes from the last resourceVersion it saw
(bookmarks included); when that revision has been compacted (OUT_OF_RANGE) it
lists again, replacing the store and firing handlers for the differences; when
the apiserver is unreachable it retries with exponential back-off.

Objects in the store and those passed to handlers are shared: treat them as
read-only. Copy before mutating (`copy_of(obj)`). A `transform` (client-go's SetTransform) changes
each object before it is stored; `strip_managed_fields` is the one kube-controller-manager and
kube-scheduler use, to keep their caches small.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client.client import Client
from control.client.kinds import Kind, lookup

log = logging.getLogger(__name__)

IndexFunc = Callable[[Message], list[str]]
AddFunc = Callable[[Message], None]
UpdateFunc = Callable[[Message, Message], None]
DeleteFunc = Callable[[Message], None]
Transform = Callable[[Message], Message]

# Codes after which the apiserver is worth asking again from the last revision.
_RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
              grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INTERNAL,
              grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED, grpc.StatusCode.ABORTED}


def key_of(obj: Message) -> str:
    """"namespace/name", or "name" for cluster-scoped objects (MetaNamespaceKeyFunc)."""
    meta = obj.metadata
    return f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name


def copy_of(obj: Message) -> Message:
    """A deep copy, for changing an object that came from a store."""
    clone = type(obj)()
    clone.CopyFrom(obj)
    return clone


def strip_managed_fields(obj: Message) -> Message:
    """The object without metadata.managedFields, which no controller reads and which make up about
    half of a parsed object's memory. The result is a message of its own: one parsed from a list or a
    watch event keeps the memory of the whole response alive for as long as any part of it lives."""
    obj.metadata.ClearField("managed_fields")
    return copy_of(obj)


def split_key(key: str) -> tuple[str, str]:
    """The (namespace, name) of a key; namespace is "" for cluster-scoped keys."""
    namespace, sep, name = key.partition("/")
    return (namespace, name) if sep else ("", namespace)


def _by_namespace(obj: Message) -> list[str]:
    return [obj.metadata.namespace]


def _by_node_name(obj: Message) -> list[str]:
    return [obj.spec.node_name]


class Store:
    """Objects by key, plus secondary indexes (index name → value → keys)."""

    def __init__(self, indexers: dict[str, IndexFunc]) -> None:
        self._items: dict[str, Message] = {}
        self._indexers = indexers
        self._indices: dict[str, dict[str, set[str]]] = {name: {} for name in indexers}

    def get(self, key: str) -> Message | None:
        return self._items.get(key)

    def add_indexers(self, indexers: dict[str, IndexFunc]) -> None:
        """More indexes (client-go's AddIndexers), built over the items already stored too."""
        clash = indexers.keys() & self._indexers.keys()
        if clash:
            raise ValueError(f"indexer conflict: {', '.join(sorted(clash))}")
        self._indexers.update(indexers)
        for name, fn in indexers.items():
            index = self._indices[name] = {}
            for key, obj in self._items.items():
                for value in fn(obj):
                    index.setdefault(value, set()).add(key)

    def get_by_name(self, namespace: str, name: str) -> Message | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def list(self) -> list[Message]:
        return list(self._items.values())

    def keys(self) -> list[str]:
        return list(self._items)

    def by_index(self, index_name: str, value: str) -> list[Message]:
        if index_name not in self._indices:
            raise KeyError(f"no index named {index_name!r}")
        return [self._items[k] for k in self._indices[index_name].get(value, ())]

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def _put(self, key: str, obj: Message) -> Message | None:
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self._items[key] = obj
        for name, fn in self._indexers.items():
            for value in fn(obj):
                self._indices[name].setdefault(value, set()).add(key)
        return old

    def _delete(self, key: str) -> Message | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def _unindex(self, key: str, obj: Message) -> None:
        for name, fn in self._indexers.items():
            index = self._indices[name]
            for value in fn(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]


@dataclass
class _Handler:
    on_add: AddFunc | None
    on_update: UpdateFunc | None
    on_delete: DeleteFunc | None


class Informer:
    def __init__(self, client: Client, kind: Kind | str, namespace: str = "", label_selector: str = "",
                 field_selector: str = "", indexers: dict[str, IndexFunc] | None = None,
                 page_size: int = 500, initial_backoff: float = 0.1, max_backoff: float = 5.0,
                 resync_period: float = 0, transform: Transform | None = None) -> None:
        self.client = client
        self.transform = transform
        self.kind = kind if isinstance(kind, Kind) else lookup(kind)
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.page_size = page_size
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.resync_period = resync_period
        builtin: dict[str, IndexFunc] = {"namespace": _by_namespace}
        if self.kind.kind == "Pod":
            builtin["nodeName"] = _by_node_name
        self.store = Store({**builtin, **(indexers or {})})
        self.resource_version = ""  # the last revision seen
        self._handlers: list[_Handler] = []
        self._synced = asyncio.Event()
        self.relists = 0  # how often a compacted revision forced a fresh list
        self._events = 0  # watch events received (bookmarks included)

    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - agreed API
        """True once the first list is in the store; False if timeout passes first."""
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def add_handler(self, on_add: AddFunc | None = None, on_update: UpdateFunc | None = None,
                    on_delete: DeleteFunc | None = None) -> None:
        """Registers plain callbacks; objects already in the store are replayed to on_add."""
        handler = _Handler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if on_add is not None:
            for obj in self.store.list():
                self._call(on_add, obj)

    async def run(self) -> None:
        """Lists and watches until cancelled."""
        resync = asyncio.create_task(self._resync_loop()) if self.resync_period > 0 else None
        try:
            await self._list_and_watch_forever()
        finally:
            if resync is not None:
                resync.cancel()

    async def _list_and_watch_forever(self) -> None:
        backoff = self.initial_backoff
        need_list = True
        while True:
            events_before = self._events
            try:
                if need_list:
                    await self._list()
                    need_list = False
                    events_before = self._events
                await self._watch()
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.OUT_OF_RANGE:
                    log.info("%s informer: revision %s compacted, listing again",
                             self.kind.kind, self.resource_version)
                    need_list = True
                    self.relists += 1
                elif e.code() not in _RETRYABLE:
                    log.warning("%s informer: %s: %s", self.kind.kind, e.code().name, e.details())
                else:
                    log.debug("%s informer: %s, retrying in %.2fs", self.kind.kind, e.code().name, backoff)
            if self._events > events_before:
                backoff = self.initial_backoff  # it was working: try again at once
                continue
            # Nothing came through since the last attempt: don't spin on a flapping server.
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _list(self) -> None:
        items, resource_version = await self.client.list_all(
            self.kind, self.namespace, self.label_selector, self.field_selector, self.page_size)
        self._replace(map(self.transform, items) if self.transform else items)
        self.resource_version = resource_version
        self._synced.set()

    async def _watch(self) -> None:
        """Follows one watch stream to its end."""
        async for event in self.client.watch(self.kind, self.namespace, self.label_selector,
                                             self.field_selector, self.resource_version,
                                             allow_bookmarks=True):
            self._events += 1
            obj = event.object
            self._apply(event.type, self.transform(obj) if self.transform and event.type != "BOOKMARK" else obj)

    def _apply(self, event_type: str, obj: Message) -> None:
        if obj.metadata.resource_version:
            self.resource_version = obj.metadata.resource_version
        if event_type == "BOOKMARK":
            return
        key = key_of(obj)
        if event_type == "DELETED":
            self.store._delete(key)
            self._notify_delete(obj)  # the event carries the object's final state
            return
        old = self.store._put(key, obj)
        if old is None:
            self._notify_add(obj)
        else:
            self._notify_update(old, obj)

    def _replace(self, items: Iterable[Message]) -> None:
        fresh = {key_of(obj): obj for obj in items}
        for key in set(self.store.keys()) - fresh.keys():
            old = self.store._delete(key)
            if old is not None:
                self._notify_delete(old)
        for key, obj in fresh.items():
            old = self.store._put(key, obj)
            if old is None:
                self._notify_add(obj)
            elif old.metadata.resource_version != obj.metadata.resource_version:
                self._notify_update(old, obj)

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_period)
            for obj in self.store.list():
                self._notify_update(obj, obj)

    def _notify_add(self, obj: Message) -> None:
        for h in list(self._handlers):
            if h.on_add is not None:
                self._call(h.on_add, obj)

    def _notify_update(self, old: Message, new: Message) -> None:
        for h in list(self._handlers):
            if h.on_update is not None:
                self._call(h.on_update, old, new)

    def _notify_delete(self, obj: Message) -> None:
        for h in list(self._handlers):
            if h.on_delete is not None:
                self._call(h.on_delete, obj)

    def _call(self, fn: Callable, *args: Message) -> None:
        try:
            fn(*args)
        except Exception:  # a broken handler must not stop the cache
            log.exception("%s informer: handler %r failed", self.kind.kind, fn)

