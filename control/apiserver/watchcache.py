"""The watch cache: one etcd watch per kind, fanned out to every watcher.

Each kind's cache holds the current objects and a window of recent events.
Watchers get their own bounded queue; one that falls behind is cut off with
RESOURCE_EXHAUSTED instead of holding up the others (Kubernetes terminates
slow watchers the same way). Lists and gets are served from the cache once it
has caught up with this apiserver's own latest write, so a client always
reads its writes.

Objects are kept serialized, as etcd holds them (a parsed message takes about ten
times the memory), and parsed when a read needs them: the most recently parsed ones
stay parsed, so the objects read on every request (roles, namespaces) and those a
selective watch looks at while an event fans out are parsed once.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import Message

from control.apiserver.storage import CompactedError, Storage, StorageError
from control.apiserver.wire import at_revision, metadata_field, watch_event
from control.client.kinds import Kind

log = logging.getLogger(__name__)

Filter = Callable[[Message], bool]

KEPT = 256  # parsed objects kept per kind
# Per kind, the newest events keep their serialized WatchEvents, shared by every watcher they reach
# (a watcher that falls further behind gets its own copy of each).
HOT_EVENTS = 1024


@dataclass(slots=True)
class CacheEvent:
    type: str  # ADDED, MODIFIED, DELETED
    revision: int
    data: bytes  # the object as served (serialized, its resourceVersion set)
    old_data: bytes | None = None
    key: str = ""  # namespace/name (set when applied)
    _wire: dict[str, bytes] | None = field(default=None)

    @classmethod
    def of(cls, type_: str, revision: int, obj: Message, old: Message | None = None) -> CacheEvent:
        return cls(type_, revision, obj.SerializeToString(), None if old is None else old.SerializeToString())

    def wire(self, event_type: str, message_type) -> bytes:
        """The serialized WatchEvent; while the event is among the newest, built once and shared by
        every watcher."""
        data = self._wire.get(event_type) if self._wire is not None else None
        if data is None:
            data = watch_event(message_type, event_type, self.data)
            if self._wire is not None:
                self._wire[event_type] = data
        return data


class WatcherGone(Exception):
    pass


class Watcher:
    def __init__(self, matches: Filter, capacity: int) -> None:
        self.matches = matches
        self.queue: asyncio.Queue[CacheEvent | None] = asyncio.Queue(capacity)
        self.overflowed = False

    def offer(self, event: CacheEvent) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.queue = asyncio.Queue(1)  # drop the backlog; the stream ends at once
            self.queue.put_nowait(None)


class KindCache:
    def __init__(self, kind: Kind, storage: Storage, window: int = 20000,
                 watcher_capacity: int = 10000) -> None:
        self.kind = kind
        self.storage = storage
        self.objects: dict[str, bytes] = {}  # key -> the serialized object
        self.events: collections.deque[CacheEvent] = collections.deque(maxlen=window)
        self.revision = 0  # the newest event applied
        # The newest revision etcd has reported progress to. Kept apart from `revision`:
        # etcd before 3.4.26 / 3.5.8 may report progress while events are still on their way.
        self.progress_revision = 0
        self.oldest_revision = 0  # events after this revision are all in the window
        self.watchers: set[Watcher] = set()
        self.watcher_capacity = watcher_capacity
        self.written_revision = 0  # the newest revision this apiserver wrote for this kind
        self._progress = asyncio.Condition()
        self._task: asyncio.Task | None = None
        self._watch = None  # the live etcd watch, to ask it for progress
        self.ready = asyncio.Event()
        self._metadata_field = metadata_field(kind)
        self._parsed: collections.OrderedDict[bytes, Message] = collections.OrderedDict()
        # The newest events keep their serialized WatchEvents for the watchers they are fanned out to.
        self._hot: collections.deque[CacheEvent] = collections.deque(maxlen=HOT_EVENTS)
        self._index_funcs: dict[str, Callable[[Message], str]] = {}
        self._indices: dict[str, dict[str, set[str]]] = {}  # index -> value -> keys
        self._indexed: dict[str, dict[str, str]] = {}  # index -> key -> value

    async def start(self) -> None:
        await self._first_list()
        self._task = asyncio.create_task(self._run(), name=f"watchcache-{self.kind.plural}")

    async def _first_list(self) -> None:
        """Lists until etcd answers, as the reflector does: a cluster electing a leader (a member starting,
        a slow machine) answers "request timed out" for a while, which is no reason to exit."""
        backoff = 0.5
        while True:
            try:
                return await self._relist()
            except grpc.aio.AioRpcError as e:
                if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise
                log.warning("watch cache for %s: listing: %s; again in %.1f s", self.kind.plural, e.details(),
                            backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 8)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def parse(self, data: bytes) -> Message:
        """The object of serialized `data`, shared: callers must not change it."""
        obj = self._parsed.get(data)
        if obj is not None:
            self._parsed.move_to_end(data)
            return obj
        obj = self._parsed[data] = self.kind.message.FromString(data)
        if len(self._parsed) > KEPT:
            self._parsed.popitem(last=False)
        return obj

    def at(self, data: bytes, revision: int) -> bytes:
        """Serialized object `data` with its resourceVersion set to `revision`."""
        return at_revision(self._metadata_field, data, revision)

    async def _relist(self) -> None:
        items, revision = await self.storage.list_raw(self.kind)
        fresh = {self._key_of_storage_key(key): (rev, value) for key, rev, value in items}
        for key, old in list(self.objects.items()):
            if key not in fresh:
                self._apply(CacheEvent("DELETED", revision, self.at(old, revision), old), key)
        for key, (rev, value) in fresh.items():
            old, data = self.objects.get(key), self.at(value, rev)
            if old is None:
                self._apply(CacheEvent("ADDED", rev, data), key)
            elif old != data:
                self._apply(CacheEvent("MODIFIED", rev, data, old), key)
        await self._advance(revision)
        if not self.ready.is_set():
            self.oldest_revision = revision
            self.ready.set()

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                self._watch = self.storage.watch(self.kind, self.revision + 1)
                async for raw in self._watch:
                    backoff = 0.1
                    if raw.type == "PROGRESS":
                        self.progress_revision = max(self.progress_revision, raw.revision)
                        await self._notify()
                        continue
                    key = self._key_of_storage_key(raw.key)
                    old = self.objects.get(key)
                    if raw.type == "PUT":
                        data = self.at(raw.value, raw.revision)
                        self._apply(CacheEvent("MODIFIED" if old else "ADDED", raw.revision, data, old), key)
                    elif old is not None:  # its last state, at the revision of its deletion
                        self._apply(CacheEvent("DELETED", raw.revision, self.at(old, raw.revision), old), key)
                    await self._advance(raw.revision)
            except asyncio.CancelledError:
                raise
            except StorageError as e:
                if isinstance(e, CompactedError):
                    await self._relist_after(e, backoff)
                else:  # the stream broke (an etcd member went away): watch again from where it stopped
                    log.warning("watch cache for %s: %s; watching again from %d", self.kind.plural, e,
                                self.revision + 1)
                    await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5)
            except Exception as e:  # noqa: BLE001 - relist and go on
                await self._relist_after(e, backoff)
                backoff = min(backoff * 2, 5)

    async def _relist_after(self, e: Exception, backoff: float) -> None:
        log.warning("watch cache for %s: %s; relisting", self.kind.plural, e)
        await asyncio.sleep(backoff)
        try:
            await self._relist()
        except Exception as e2:  # noqa: BLE001
            log.warning("relist of %s failed: %s", self.kind.plural, e2)

    def _key_of_storage_key(self, key: str) -> str:
        # /registry/<plural>/<namespace>/<name>, or /registry/<plural>/<name>
        parts = key.split("/")
        return f"{parts[3]}/{parts[4]}" if self.kind.namespaced else f"/{parts[3]}"

    def _apply(self, event: CacheEvent, key: str | None = None) -> None:
        if key is None:
            meta = self.parse(event.data).metadata
            key = f"{meta.namespace}/{meta.name}"
        event.key = key
        if event.type == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = event.data
        if self._index_funcs:
            self._reindex(key, None if event.type == "DELETED" else self.parse(event.data))
        if len(self.events) == self.events.maxlen:
            self.oldest_revision = self.events[0].revision
        self.events.append(event)
        if len(self._hot) == self._hot.maxlen:
            self._hot[0]._wire = None
        event._wire = {}
        self._hot.append(event)
        for watcher in list(self.watchers):
            watcher.offer(event)

    async def _advance(self, revision: int) -> None:
        if revision > self.revision:
            self.revision = revision
        await self._notify()

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    def note_write(self, revision: int) -> None:
        self.written_revision = max(self.written_revision, revision)

    async def wait_fresh(self, revision: int | None = None, timeout: float = 10.0) -> None:
        """Waits until the cache has seen this apiserver's latest write (or `revision`).

        For a revision it may never see an event at (the newest write was to
        another kind), etcd is asked for a progress notification.
        """
        target = self.written_revision if revision is None else revision

        def seen() -> int:
            # Our own writes are events of this kind: only applied events show them.
            return self.revision if revision is None else max(self.revision, self.progress_revision)

        if seen() >= target:
            return
        deadline = asyncio.get_running_loop().time() + timeout
        while seen() < target:
            if revision is not None and self._watch is not None:
                self._watch.request_progress()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{self.kind.plural} cache at {self.revision}, waiting for {target}")
            async with self._progress:
                try:
                    await asyncio.wait_for(self._progress.wait_for(lambda: seen() >= target),
                                           min(remaining, 0.5))
                except TimeoutError:
                    continue

    def get(self, namespace: str, name: str) -> Message | None:
        data = self.objects.get(f"{namespace}/{name}")
        return None if data is None else self.parse(data)

    def add_index(self, name: str, index_value: Callable[[Message], str]) -> None:
        """Keeps the objects grouped by index_value (client-go's Indexer), e.g. pods by spec.nodeName."""
        if name in self._index_funcs:
            return
        self._index_funcs[name] = index_value
        self._indices[name], self._indexed[name] = {}, {}
        for key, data in self.objects.items():
            self._index_one(name, key, index_value(self.kind.message.FromString(data)))

    def by_index(self, name: str, value: str) -> list[Message]:
        return [self.parse(self.objects[key]) for key in self._indices[name].get(value, ())]

    def _index_one(self, name: str, key: str, value: str) -> None:
        self._indices[name].setdefault(value, set()).add(key)
        self._indexed[name][key] = value

    def _reindex(self, key: str, new: Message | None) -> None:
        for name, index_value in self._index_funcs.items():
            index, indexed = self._indices[name], self._indexed[name]
            old_value = indexed.pop(key, None)
            if old_value is not None:
                bucket = index[old_value]
                bucket.discard(key)
                if not bucket:
                    del index[old_value]
            if new is not None:
                self._index_one(name, key, index_value(new))

    def serialized(self) -> tuple[list[tuple[str, bytes]], int]:
        """Every object as (key, serialized object), and the revision they are at."""
        return list(self.objects.items()), self.revision

    def snapshot(self) -> tuple[list[Message], int]:
        """Every object (parsed for the caller, unshared) and the revision they are at."""
        parse = self.kind.message.FromString
        return [parse(data) for data in self.objects.values()], self.revision

    def subscribe(self, matches: Filter, since: int | None) -> tuple[Watcher, list[CacheEvent]]:
        """A new watcher and the events it must see first.

        since=None: the current state as ADDED events. Otherwise every event after
        `since`; CompactedError if the window no longer reaches back that far.
        """
        watcher = Watcher(matches, self.watcher_capacity)
        if since is None:
            backlog = [CacheEvent("ADDED", self.revision, data, key=key) for key, data in self.objects.items()]
        else:
            if since < self.oldest_revision:
                raise CompactedError(str(since))
            backlog = [e for e in self.events if e.revision > since]
        self.watchers.add(watcher)
        return watcher, backlog

    def unsubscribe(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)


class WatchCache:
    """The caches of every kind."""

    def __init__(self, storage: Storage, kinds: list[Kind], window: int = 20000,
                 watcher_capacity: int = 10000) -> None:
        self.caches = {k.kind: KindCache(k, storage, window, watcher_capacity) for k in kinds}

    async def start(self) -> None:
        await asyncio.gather(*(c.start() for c in self.caches.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.caches.values()))

    def __getitem__(self, kind: Kind) -> KindCache:
        return self.caches[kind.kind]
