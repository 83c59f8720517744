"""The pod lifecycle event generator (the kubelet's generic PLEG): one runtime listing per period.

Each relist fingerprints every pod's sandboxes and containers (id and state) and wakes the
pods whose fingerprint changed. Sandboxes of pods the agent does not know (deleted while it
was down) are handed to `remove_orphan` once the pod informer has synced.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from node import metrics
from node.cri import CRI, POD_UID_LABEL, CRIError
from node.runtime.state import RuntimeState

log = logging.getLogger(__name__)


class PLEG:
    def __init__(self, cri: CRI, state: RuntimeState, period: float, *, wake: Callable[[str], None],
                 is_orphan: Callable[[str], bool], remove_orphan: Callable[[str], Awaitable[None]]) -> None:
        self.cri = cri
        self.state = state
        self.period = period
        self._wake = wake
        self._is_orphan = is_orphan
        self._remove_orphan = remove_orphan
        self._fingerprints: dict[str, tuple] = {}

    async def run(self) -> None:
        while True:
            try:
                await self.relist()
            except CRIError as e:
                log.warning("relist failed: %s", e)
            except Exception:  # noqa: BLE001 - the loop must outlive one bad orphan cleanup
                log.exception("relist failed")
            await asyncio.sleep(self.period)

    async def relist(self) -> None:
        started = time.monotonic()
        sandboxes = await self.cri.list_pod_sandboxes()
        containers = await self.cri.list_containers()
        seen: dict[str, list] = {}
        for s in sandboxes:
            seen.setdefault(s.labels.get(POD_UID_LABEL, ""), []).append((s.id, s.state))
        for c in containers:
            seen.setdefault(c.labels.get(POD_UID_LABEL, ""), []).append((c.id, c.state))
        for uid, items in seen.items():
            fingerprint = tuple(sorted(items))
            if self._fingerprints.get(uid) != fingerprint:
                self._fingerprints[uid] = fingerprint
                self._wake(uid)
            if uid and self._is_orphan(uid):
                await self._remove_orphan(uid)
        for uid in set(self._fingerprints) - set(seen):
            del self._fingerprints[uid]
        self.state.retain({c.id for c in containers})
        metrics.relisted(started, sandboxes, containers)

    def forget(self, uid: str) -> None:
        self._fingerprints.pop(uid, None)
