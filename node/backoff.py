"""Container restart back-off, with the kubelet's semantics.

The first restart of a crashed container is immediate; each later one waits
base, 2*base, 4*base ... up to max (10 s -> 300 s by default), counted from
the moment the container finished. An entry that has not been touched for
2*max is forgotten, so a container that stayed up long enough starts over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_BASE = 10.0
DEFAULT_MAX = 300.0


@dataclass
class _Entry:
    backoff: float
    last_update: float


class Backoff:
    def __init__(self, base: float = DEFAULT_BASE, maximum: float = DEFAULT_MAX,
                 clock: Callable[[], float] = time.time) -> None:
        self.base = base
        self.maximum = max(maximum, base)
        self.clock = clock
        self._entries: dict[str, _Entry] = {}

    def _expired(self, entry: _Entry, now: float) -> bool:
        return now - entry.last_update > 2 * self.maximum

    def get(self, key: str) -> float:
        """The current back-off for key (0 when none)."""
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def next(self, key: str, event_time: float) -> None:
        """Records a restart; the following one waits twice as long."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            self._entries[key] = _Entry(self.base, event_time)
            return
        entry.backoff = min(entry.backoff * 2, self.maximum)
        entry.last_update = event_time

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        """True while less than the current back-off has passed since event_time."""
        return self.remaining(key, event_time) > 0

    def remaining(self, key: str, event_time: float) -> float:
        entry = self._entries.get(key)
        now = self.clock()
        if entry is None or self._expired(entry, now):
            return 0.0
        return max(0.0, event_time + entry.backoff - now)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def gc(self) -> None:
        now = self.clock()
        for key in [k for k, e in self._entries.items() if self._expired(e, now)]:
            del self._entries[key]
