"""Controller expectations (Kubernetes' ControllerExpectations): what a controller's own writes
should bring back through its informers.

Until the creations and deletions a controller asked for have been observed, its cache is
stale, and acting on it would double-create or double-delete; reconcile then only updates
status. Expectations older than five minutes are treated as satisfied (a lost watch event must
not wedge a controller forever).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

EXPECTATIONS_TIMEOUT = 300.0  # client-go's ExpectationsTimeout


@dataclass
class _Expected:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)  # UIDs
    at: float = field(default_factory=time.monotonic)


class Expectations:
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

    def expect(self, key: str, count: int, uids: list[str]) -> None:
        """Creations and deletions asked for in the same pass."""
        self._by_key[key] = _Expected(adds=count, deletes=set(uids))

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
