"""What becomes of an Event before it is written, as client-go's EventCorrelator decides.

- Counting: an event identical to one already written (same source, involvedObject, type,
  reason and message) is written as that Event with `count` + 1 and a new `lastTimestamp`.
- Aggregation: events similar to each other (the same but for the message) are tracked per
  group; once 10 different messages were seen with no gap over 10 minutes, each further one
  becomes a single Event of the group whose message is prefixed "(combined from similar
  events): ", itself counted as above.
- Spam filter: each source+object has a token bucket (burst 25, refilled 1 per 5 minutes);
  an event finding it empty is dropped.

Each cache keeps the 4096 most recently used entries. Pure bookkeeping, no I/O: the
recorder writes what `correlate()` returns and reports the result with `written()`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from skiff.v1 import core_pb2

CACHE_SIZE = 4096
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL = 600.0
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
COMBINED_PREFIX = "(combined from similar events): "

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass
class TokenBucket:
    tokens: float
    last: float
    burst: int = SPAM_BURST
    qps: float = SPAM_QPS

    def try_accept(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + max(0.0, now - self.last) * self.qps)
        self.last = max(self.last, now)
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass
class _Group:
    messages: set[str] = field(default_factory=set)
    last_seen: float = 0.0


@dataclass
class _Seen:
    count: int
    event: bytes  # the Event as last written (or about to be), without managedFields


@dataclass
class Decision:
    event: core_pb2.Event
    key: tuple  # what written() is told about
    existing: bool  # the Event is already stored: write it over (count, lastTimestamp, message)


def event_key(ev: core_pb2.Event) -> tuple:
    return (*spam_key(ev), ev.involved_object.field_path, ev.type, ev.reason, ev.message)


def spam_key(ev: core_pb2.Event) -> tuple:
    ref = ev.involved_object
    return (ev.source.component, ev.source.host, ref.kind, ref.namespace, ref.name, ref.uid, ref.api_version)


def aggregate_key(ev: core_pb2.Event) -> tuple:
    return (*spam_key(ev), ev.type, ev.reason, ev.reporting_component, ev.reporting_instance)


class EventCorrelator:
    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        self._groups: Lru[tuple, _Group] = Lru(cache_size)
        self._seen: Lru[tuple, _Seen] = Lru(cache_size)
        self._buckets: Lru[tuple, TokenBucket] = Lru(cache_size)

    def correlate(self, new: core_pb2.Event, now: float) -> Decision | None:
        """What to write for a new Event (count 1, named, both timestamps now); None: drop it."""
        event, key = self._aggregate(new, now)
        decision = self._observe(event, key)
        return decision if self._allowed(new, now) else None

    def written(self, key: tuple, event: core_pb2.Event) -> None:
        """The server's copy of what was written for `key`, to count the next repeat on."""
        event.metadata.ClearField("managed_fields")
        self._seen.put(key, _Seen(event.count, event.SerializeToString()))

    def _aggregate(self, new: core_pb2.Event, now: float) -> tuple[core_pb2.Event, tuple]:
        akey = aggregate_key(new)
        group = self._groups.get(akey)
        if group is None or now - group.last_seen > AGGREGATE_INTERVAL:
            group = _Group()
        group.messages.add(new.message)
        group.last_seen = now
        self._groups.put(akey, group)
        if len(group.messages) < AGGREGATE_MAX_EVENTS:
            return new, event_key(new)
        group.messages.pop()  # the set never grows past the threshold
        combined = core_pb2.Event()
        combined.CopyFrom(new)
        combined.message = COMBINED_PREFIX + new.message
        return combined, ("aggregate", *akey)

    def _observe(self, event: core_pb2.Event, key: tuple) -> Decision:
        seen = self._seen.get(key)
        if seen is None:
            self._seen.put(key, _Seen(1, event.SerializeToString()))
            return Decision(event, key, existing=False)
        existing = core_pb2.Event.FromString(seen.event)
        existing.count = seen.count + 1
        existing.last_timestamp.CopyFrom(event.last_timestamp)
        existing.message = event.message
        # Counted even when the spam filter then drops it: the next write carries the true count.
        self._seen.put(key, _Seen(existing.count, existing.SerializeToString()))
        return Decision(existing, key, existing=True)

    def _allowed(self, new: core_pb2.Event, now: float) -> bool:
        key = spam_key(new)
        bucket = self._buckets.get(key) or TokenBucket(tokens=float(SPAM_BURST), last=now)
        accepted = bucket.try_accept(now)
        self._buckets.put(key, bucket)
        return accepted
