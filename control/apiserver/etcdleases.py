"""etcd leases that expire objects of kinds with a TTL (Events), shared between writes as kube-apiserver does.

Granting a lease per write would cost an etcd round trip each; instead one lease
serves every write in a short window. It is granted for the TTL plus that window,
so each object lives at least its TTL and at most the window longer. The window
is 5 % of the TTL, at most a minute (kube-apiserver's lease manager defaults).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

REUSE_FRACTION = 0.05
MAX_REUSE_SECONDS = 60.0

GrantFn = Callable[[int], Awaitable[int]]  # TTL in whole seconds -> lease ID


class LeaseManager:
    def __init__(self, grant: GrantFn, clock: Callable[[], float] = time.monotonic) -> None:
        self._grant = grant
        self._clock = clock
        self._lock = asyncio.Lock()
        self._leases: dict[int, tuple[int, float]] = {}  # ttl -> (lease ID, expiry)

    @staticmethod
    def reuse_window(ttl: int) -> float:
        return min(ttl * REUSE_FRACTION, MAX_REUSE_SECONDS)

    async def lease_for(self, ttl: int) -> int:
        """A lease that keeps a key written now alive for at least ttl seconds."""
        async with self._lock:
            now = self._clock()
            window = self.reuse_window(ttl)
            current = self._leases.get(ttl)
            if current and now + ttl <= current[1]:
                return current[0]
            lease_ttl = ttl + math.ceil(window)
            lease_id = await self._grant(lease_ttl)
            # Counted from before the grant, so the recorded expiry never overstates etcd's.
            self._leases[ttl] = (lease_id, now + lease_ttl)
            return lease_id
