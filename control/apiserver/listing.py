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
from control.apiserver.storage import CompactedError, object_key
from control.apiserver.watchcache import CacheEvent
from control.apiserver.wire import list_of, watch_event
from control.client.kinds import Kind
from control.client.selectors import SelectorError, parse_field_selector, parse_selector
from skiff.v1 import requests_pb2

MAX_PAGE_READ = 1000
TOO_OLD = "too old resource version: {rv} ({current}); list again and watch from the new resourceVersion"


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
        matches = make_filter(self.kind, request.namespace, request.label_selector, request.field_selector)
        result = self._head()
        if request.limit == 0 and not request.continue_token:
            try:
                await self._consistent()
                items, revision = self.cache.snapshot()
            except TimeoutError:  # the cache is behind: a consistent read from etcd instead
                items, revision = await self.api.storage.list(self.kind, request.namespace
                                                              if self.kind.namespaced else "")
            chosen = sorted((o for o in items if matches(o)), key=_sort_key)
            result.items.extend(chosen)
            result.metadata.resource_version = str(revision)
            return result
        return await self._page(request, matches, result)

    async def list_serialized(self, request: requests_pb2.ListRequest) -> bytes:
        """list()'s answer, serialized; from the cache without parsing what every item need not be
        parsed for (no selector, or a namespace only), so a large list costs no more than its bytes."""
        if request.limit != 0 or request.continue_token:
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

    async def _page(self, request: requests_pb2.ListRequest, matches: Filter, result: Message) -> Message:
        revision, start = (0, "") if not request.continue_token else _decode_token(request.continue_token)
        namespace = request.namespace if self.kind.namespaced else ""
        limit = request.limit or MAX_PAGE_READ
        while True:
            try:
                page, revision, more = await self.api.storage.list_page(
                    self.kind, namespace, start, revision, max(limit, 100))
            except CompactedError:
                raise errors.gone("The provided continue parameter is too old to display a consistent list "
                                  "result. You can start a new list without the continue parameter.") from None
            for key, obj in page:
                if matches(obj):
                    result.items.append(obj)
                    if len(result.items) == limit:
                        rest = more or key != page[-1][0]
                        return self._finish(result, revision, key + "\x00" if rest else "")
            if not more:
                return self._finish(result, revision, "")
            start = page[-1][0] + "\x00"

    @staticmethod
    def _finish(result: Message, revision: int, next_key: str) -> Message:
        result.metadata.resource_version = str(revision)
        if next_key:
            result.metadata.continue_ = _encode_token(revision, next_key)
        return result

    async def watch(self, request: requests_pb2.WatchRequest, context) -> AsyncIterator[bytes]:
        matches = make_filter(self.kind, request.namespace, request.label_selector, request.field_selector)
        since = await self._watch_start(request.resource_version)
        try:
            watcher, backlog = self.cache.subscribe(matches, since)
        except CompactedError:
            raise errors.gone(TOO_OLD.format(rv=request.resource_version, current=self.cache.revision)) from None
        message = self.kind.watch_event_message
        try:
            for event in backlog:
                data = self._wire_for(event, matches, message)
                if data:
                    yield data
            async for data in self._stream(watcher, matches, message, request.allow_watch_bookmarks):
                yield data
        finally:
            self.cache.unsubscribe(watcher)

    async def _watch_start(self, resource_version: str) -> int | None:
        if resource_version == "0":  # "any": this apiserver's own writes are enough
            await self.cache.wait_fresh()
            return None
        if resource_version == "":
            try:
                await self._consistent()
            except TimeoutError:
                raise errors.ApiError(errors.grpc.StatusCode.UNAVAILABLE,
                                      f"the watch cache of {self.kind.plural} is behind etcd; retry") from None
            return None
        try:
            since = int(resource_version)
        except ValueError:
            raise errors.bad_request(f'resourceVersion: Invalid value: "{resource_version}"',
                                     "resourceVersion") from None
        try:
            await self.api.storage.check_revision_available(since + 1)
        except CompactedError:
            raise errors.gone(TOO_OLD.format(rv=since, current=self.cache.revision)) from None
        if since > self.cache.revision:
            try:
                await self.cache.wait_fresh(since, timeout=3)
            except TimeoutError:
                raise errors.ApiError(errors.grpc.StatusCode.DEADLINE_EXCEEDED,
                                      f"Too large resource version: {since}, current: {self.cache.revision}"
                                      ) from None
        return since

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

    def _bookmark(self, message) -> bytes:
        obj = self.kind.new()
        obj.metadata.resource_version = str(self.cache.revision)
        return message(type="BOOKMARK", object=obj).SerializeToString()


def _sort_key(obj: Message) -> tuple[str, str]:
    return obj.metadata.namespace, obj.metadata.name


def _split(key: str) -> tuple[str, str]:
    """A cache key's (namespace, name): the order lists are sorted in."""
    namespace, _, name = key.partition("/")
    return namespace, name


__all__ = ["Lister", "object_key"]
