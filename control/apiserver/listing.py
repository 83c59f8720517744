"""List and Watch: selectors, pagination, watch from a resourceVersion, bookmarks.

Unpaginated lists come from the watch cache. Paginated lists read etcd at the
first page's revision, so every page belongs to one consistent snapshot
(Kubernetes' continue tokens work the same way and expire with compaction).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.context import ApiContext
from control.apiserver.listoptions import list_read, parse_revision, validate_list, validate_watch
from control.apiserver.storage import CompactedError, object_key
from control.apiserver.watchcache import CacheEvent
from control.apiserver.wire import list_of, watch_event
from control.client.kinds import Kind
from control.client.selectors import SelectorError, parse_field_selector, parse_selector
from skiff.v1 import requests_pb2

MAX_PAGE_READ = 1000
TOO_OLD = "too old resource version: {rv} ({current}); list again and watch from the new resourceVersion"
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
LIST_TOO_OLD = "The resourceVersion for the provided list is too old."
CONTINUE_TOO_OLD = ("The provided continue parameter is too old to display a consistent list result. You can start "
                    "a new list without the continue parameter, or use the continue token in this response to "
                    "retrieve the remainder of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted between the time the "
                    "first chunk was returned and now may show up in the list.")


@dataclass
class Filter:
    namespace: str
    labels: object
    fields: object

    def __call__(self, obj: Message) -> bool:
        if self.namespace and obj.metadata.namespace != self.namespace:
            return False
        return self.labels.matches(obj.metadata.labels) and self.fields.matches(obj)



def make_filter(kind: Kind, namespace: str, label_selector: str, field_selector: str) -> Filter:
    try:
        labels = parse_selector(label_selector)
    except SelectorError as e:
        raise errors.bad_request(_requirement_error(str(e)), "labelSelector") from None
    try:
        fields = parse_field_selector(field_selector, kind)
    except SelectorError as e:  # kube-apiserver's field label conversion error, as is
        raise errors.bad_request(str(e), "fieldSelector") from None
    return Filter(namespace if kind.namespaced else "", labels, fields)


def _requirement_error(message: str) -> str:
    """A label selector's parse error as Kubernetes' parser words it: each bad requirement says so once."""
    prefix = "unable to parse requirement: "
    return message if message.startswith(prefix) else prefix + message


def _encode_token(revision: int, start_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"rv": revision, "start": start_key}).encode()).decode()


def _decode_token(token: str) -> tuple[int, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise errors.bad_request("continue: Invalid value: the continue token is malformed", "continue") from None


# kube-apiserver waits up to 3 s for its cache before it reads the list from etcd instead.
CONSISTENT_WAIT = 3.0


class Lister:
    def __init__(self, kind: Kind, api: ApiContext) -> None:
        self.kind = kind
        self.api = api
        self.cache = api.cache[kind]

    async def list(self, request: requests_pb2.ListRequest) -> Message:
        if request.limit < 0:
            raise errors.bad_request("limit: Invalid value: must be >= 0", "limit")
        validate_list(request)
        matches = make_filter(self.kind, request.namespace, request.label_selector, request.field_selector)
        result = self._head()
        if request.continue_token:
            revision, start = _decode_token(request.continue_token)
            return await self._page(request, matches, result, max(revision, 0), start)
        read = list_read(request)
        if read.revision:
            await self._not_older_than(read.revision)
        if read.exact:
            return await self._page(request, matches, result, read.revision, "")
        if request.limit and read.revision != 0:  # "any" state is the cache's, whole, as kube-apiserver's
            return await self._page(request, matches, result, 0, "")
        items, revision = await self._cached(read.revision)
        result.items.extend(sorted((o for o in items if matches(o)), key=_sort_key))
        result.metadata.resource_version = str(revision)
        return result

    async def _cached(self, revision: int | None) -> tuple[list[Message], int]:
        """Every object from the cache: consistent when no revision is given (from etcd when the cache
        is behind), as it is for "any" (0) or one the cache has reached."""
        if revision is not None:
            await self.cache.wait_fresh()
            return self.cache.snapshot()
        try:
            await self._consistent()
            return self.cache.snapshot()
        except TimeoutError:
            return await self.api.storage.list(self.kind, self.namespace_of(""))

    def namespace_of(self, namespace: str) -> str:
        return namespace if self.kind.namespaced else ""

    async def _not_older_than(self, revision: int) -> None:
        if revision > self.cache.revision:
            try:
                await self.cache.wait_fresh(revision, timeout=CONSISTENT_WAIT)
            except TimeoutError:
                raise errors.too_large_resource_version(revision, self.cache.revision) from None

    async def list_serialized(self, request: requests_pb2.ListRequest) -> bytes:
        """list()'s answer, serialized; from the cache without parsing what every item need not be
        parsed for (no selector, or a namespace only), so a large list costs no more than its bytes."""
        if request.limit != 0 or request.continue_token or request.resource_version or \
                request.resource_version_match:
            return (await self.list(request)).SerializeToString()
        matches = make_filter(self.kind, request.namespace, request.label_selector, request.field_selector)
        try:
            await self._consistent()
        except TimeoutError:
            return (await self.list(request)).SerializeToString()
        items, revision = self.cache.serialized()
        prefix = f"{matches.namespace}/" if matches.namespace else ""
        chosen = sorted((_split(key), data) for key, data in items if key.startswith(prefix))
        parse = self.kind.message.FromString
        if not (matches.labels.empty and matches.fields.empty):
            chosen = [(k, data) for k, data in chosen if matches(parse(data))]
        head = self._head()
        head.metadata.resource_version = str(revision)
        return list_of(head, [data for _, data in chosen])

    def _head(self) -> Message:
        return self.kind.list_message(api_version=self.kind.api_version, kind=f"{self.kind.kind}List")

    async def _consistent(self) -> None:
        """Kubernetes' consistent read from the cache: etcd's current revision (a quorum read), then
        the cache caught up to it, so a list never misses a write any client saw acknowledged, by
        whichever apiserver. TimeoutError when the cache does not catch up in time."""
        revision = await self.api.storage.current_revision()
        await self.cache.wait_fresh(max(revision, self.cache.written_revision), timeout=CONSISTENT_WAIT)

    async def _page(self, request: requests_pb2.ListRequest, matches: Filter, result: Message,
                    revision: int, start: str) -> Message:
        """Items from etcd at `revision` (0: now) from `start` on, up to the request's limit (0: all)."""
        namespace = self.namespace_of(request.namespace)
        limit = request.limit
        while True:
            try:
                page, revision, more = await self.api.storage.list_page(
                    self.kind, namespace, start, revision, max(limit, 100) if limit else MAX_PAGE_READ)
            except CompactedError:
                raise self._expired(request, start) from None
            for key, obj in page:
                if matches(obj):
                    result.items.append(obj)
                    if len(result.items) == limit:
                        rest = more or key != page[-1][0]
                        return await self._finish(result, revision, key + "\x00" if rest else "", matches, namespace)
            if not more:
                return await self._finish(result, revision, "", matches, namespace)
            start = page[-1][0] + "\x00"

    @staticmethod
    def _expired(request: requests_pb2.ListRequest, start: str) -> errors.ApiError:
        """410 Expired; for a continued list, with a token that continues from the most recent state."""
        if not request.continue_token:
            return errors.gone(LIST_TOO_OLD)
        err = errors.gone(CONTINUE_TOO_OLD)
        err.list_meta = {"continue": _encode_token(-1, start)}
        return err

    async def _finish(self, result: Message, revision: int, next_key: str, matches: Filter,
                      namespace: str) -> Message:
        result.metadata.resource_version = str(revision)
        if next_key:
            result.metadata.continue_ = _encode_token(revision, next_key)
            if matches.labels.empty and matches.fields.empty:  # as Kubernetes: counted only when unfiltered
                result.metadata.remaining_item_count = await self.api.storage.count_from(
                    self.kind, namespace, next_key, revision)
        return result

    async def watch(self, request: requests_pb2.WatchRequest, context) -> AsyncIterator[bytes]:
        validate_watch(request)
        matches = make_filter(self.kind, request.namespace, request.label_selector, request.field_selector)
        initial = request.send_initial_events if request.HasField("send_initial_events") else None
        since = await self._watch_start(parse_revision(request.resource_version), initial)
        try:
            watcher, backlog = self.cache.subscribe(matches, since)
        except CompactedError:
            raise errors.gone(TOO_OLD.format(rv=request.resource_version, current=self.cache.revision)) from None
        initial_revision = self.cache.revision
        message = self.kind.watch_event_message
        try:
            for event in backlog:
                data = self._wire_for(event, matches, message)
                if data:
                    yield data
            if initial and request.allow_watch_bookmarks:  # the end of the state, as a watch-list shows it
                yield self._bookmark(message, initial_revision, initial_events_end=True)
            async for data in self._stream(watcher, matches, message, request.allow_watch_bookmarks):
                yield data
        finally:
            self.cache.unsubscribe(watcher)

    async def wait_for_watch(self, request: requests_pb2.WatchRequest) -> None:
        """Refuses, before a watch's stream starts, a resourceVersion this apiserver has not reached in
        time: kube-apiserver answers that with a 504, and a compacted one with an ERROR event."""
        revision = parse_revision(request.resource_version)
        if revision:
            await self._not_older_than(revision)

    async def _watch_start(self, revision: int | None, initial: bool | None) -> int | None:
        """The revision a watch starts after, or None to start with the state as ADDED events: with no
        resourceVersion or "0", unless sendInitialEvents=false; with N only for sendInitialEvents=true."""
        if revision is None:
            try:
                await self._consistent()
            except TimeoutError:
                raise errors.ApiError(errors.grpc.StatusCode.UNAVAILABLE,
                                      f"the watch cache of {self.kind.plural} is behind etcd; retry") from None
        elif revision == 0:  # "any": this apiserver's own writes are enough
            await self.cache.wait_fresh()
        elif initial:
            await self._not_older_than(revision)
        if initial is False and not revision:
            return self.cache.revision
        if initial or not revision:
            return None
        try:
            await self.api.storage.check_revision_available(revision + 1)
        except CompactedError:
            raise errors.gone(TOO_OLD.format(rv=revision, current=self.cache.revision)) from None
        await self._not_older_than(revision)
        return revision

    async def _stream(self, watcher, matches: Filter, message, bookmarks: bool) -> AsyncIterator[bytes]:
        interval = self.api.bookmark_interval if bookmarks else None
        while True:
            try:
                event = await asyncio.wait_for(watcher.queue.get(), interval)
            except TimeoutError:
                yield self._bookmark(message)
                continue
            if event is None:
                raise errors.ApiError(
                    errors.grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"watch of {self.kind.plural} fell more than {self.cache.watcher_capacity} events behind "
                    "and was closed; list again and watch from the new resourceVersion")
            data = self._wire_for(event, matches, message)
            if data:
                yield data

    def _wire_for(self, event: CacheEvent, matches: Filter, message) -> bytes | None:
        """The event as this watcher must see it: objects entering or leaving its selection
        arrive as ADDED or DELETED, as Kubernetes' filtered watches do."""
        if matches.labels.empty and matches.fields.empty:  # by namespace at most: the key tells
            inside = not matches.namespace or event.key.startswith(f"{matches.namespace}/")
            return event.wire(event.type, message) if inside else None
        now_in = matches(self.cache.parse(event.data))
        if event.type in ("ADDED", "DELETED"):
            return event.wire(event.type, message) if now_in else None
        was_in = event.old_data is not None and matches(self.cache.parse(event.old_data))
        if now_in and was_in:
            return event.wire("MODIFIED", message)
        if now_in:
            return event.wire("ADDED", message)
        if was_in:  # its previous state, at the event's revision, as kube-apiserver's cacher sends it
            return watch_event(message, "DELETED", self.cache.at(event.old_data, event.revision))
        return None

    def _bookmark(self, message, revision: int | None = None, initial_events_end: bool = False) -> bytes:
        obj = self.kind.new()
        obj.metadata.resource_version = str(self.cache.revision if revision is None else revision)
        if initial_events_end:
            obj.metadata.annotations[INITIAL_EVENTS_END] = "true"
        return message(type="BOOKMARK", object=obj).SerializeToString()


def _sort_key(obj: Message) -> tuple[str, str]:
    return obj.metadata.namespace, obj.metadata.name


def _split(key: str) -> tuple[str, str]:
    """A cache key's (namespace, name): the order lists are sorted in."""
    namespace, _, name = key.partition("/")
    return namespace, name


__all__ = ["Lister", "object_key"]
