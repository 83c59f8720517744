"""Leader election on a coordination.k8s.io Lease, like client-go's leaderelection.

One candidate holds the Lease `namespace/name` and renews it every
retry_period. Others take it over once renewTime + leaseDurationSeconds has
passed. Every write is an Update carrying the resourceVersion that was read,
so two candidates can never both win the same round (the loser gets ABORTED).
A leader that cannot renew within renew_deadline stops leading: its `lead()`
is cancelled and run() returns, and the component is expected to exit.

Like client-go's ReleaseOnCancel, a leader that is cancelled (a clean shutdown)
first stops renewing — an in-flight renewal is let finish, never abandoned on the
wire — and then releases the Lease from a fresh read, retrying on conflict.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from control.client.client import Client
from control.client.kinds import KINDS
from skiff.v1 import coordination_pb2, meta_pb2

log = logging.getLogger(__name__)

_LEASE = KINDS["Lease"]


def _now() -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(time.time_ns())
    return ts


class LeaderElector:
    def __init__(self, client: Client, name: str, identity: str, namespace: str = "kube-system",
                 lease_duration: float = 15, renew_deadline: float = 10, retry_period: float = 2) -> None:
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError("need lease_duration > renew_deadline > retry_period > 0")
        self.client = client
        self.name = name
        self.identity = identity
        self.namespace = namespace
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.is_leader = False
        self.transitions = 0
        self._renewal: asyncio.Task[bool] | None = None

    async def run(self, lead: Callable[[], Awaitable[None]]) -> None:
        """Waits to become leader, runs lead() while renewing; returns when leadership ends."""
        await self._acquire()
        log.info("%s: became leader of %s/%s", self.identity, self.namespace, self.name)
        task = asyncio.create_task(lead())
        lost = False
        try:
            lost = await self._renew_until_lost(task)
        finally:
            self.is_leader = False
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self._stop_renewing()
            # After a failed renewal the apiserver is likely unreachable: one short try, not a retry loop.
            await self._release(self.retry_period if lost else self.renew_deadline)
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()

    async def _acquire(self) -> None:
        while True:
            if await self._try_acquire_or_renew():
                self.is_leader = True
                return
            await asyncio.sleep(self.retry_period)

    async def _renew_until_lost(self, task: asyncio.Task) -> bool:
        """Renews until lead() ends (False) or no renewal succeeded within renew_deadline (True)."""
        last_renew = time.monotonic()
        while not task.done():
            await asyncio.wait({task}, timeout=self.retry_period)
            if task.done():
                return False
            remaining = self.renew_deadline - (time.monotonic() - last_renew)
            renewed = await self._renew(max(remaining, 0.001))
            if renewed:
                last_renew = time.monotonic()
            elif time.monotonic() - last_renew >= self.renew_deadline:
                log.error("%s: failed to renew lease %s/%s within %.1fs; stopping leading",
                          self.identity, self.namespace, self.name, self.renew_deadline)
                return True
        return False

    async def _renew(self, timeout: float) -> bool:
        """One renewal, in a task of its own: cancelling run() must not cut it off mid-write."""
        self._renewal = asyncio.create_task(self._try_acquire_or_renew())
        done, _ = await asyncio.wait({self._renewal}, timeout=timeout)
        if not done:
            await self._stop_renewing()
            return False
        return self._renewal.result()

    async def _stop_renewing(self) -> None:
        """Lets a renewal in flight finish (bounded by retry_period) so that the release reads after it."""
        renewal, self._renewal = self._renewal, None
        if renewal is None or renewal.done():
            return
        done, _ = await asyncio.wait({renewal}, timeout=self.retry_period)
        if not done:
            renewal.cancel()
            await asyncio.gather(renewal, return_exceptions=True)

    async def _try_acquire_or_renew(self) -> bool:
        try:
            lease = await self.client.get(_LEASE, self.name, self.namespace)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                log.warning("%s: error reading lease: %s", self.identity, e.details())
                return False
            return await self._create()
        spec = lease.spec
        if spec.holder_identity and spec.holder_identity != self.identity and not self._expired(spec):
            return False
        updated = coordination_pb2.Lease()
        updated.CopyFrom(lease)
        now = _now()
        if updated.spec.holder_identity != self.identity:
            updated.spec.acquire_time.CopyFrom(now)
            updated.spec.lease_transitions = spec.lease_transitions + 1
            updated.spec.holder_identity = self.identity
        updated.spec.lease_duration_seconds = self._duration_seconds()
        updated.spec.renew_time.CopyFrom(now)
        return await self._write(self.client.update(updated))

    async def _create(self) -> bool:
        now = _now()
        lease = _LEASE.new(metadata=meta_pb2.ObjectMeta(name=self.name, namespace=self.namespace),
                           spec=coordination_pb2.LeaseSpec(
                               holder_identity=self.identity,
                               lease_duration_seconds=self._duration_seconds(),
                               acquire_time=now, renew_time=now, lease_transitions=0))
        return await self._write(self.client.create(lease))

    async def _write(self, call: Awaitable) -> bool:
        try:
            lease = await call
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.ABORTED, grpc.StatusCode.ALREADY_EXISTS):
                log.warning("%s: error writing lease: %s", self.identity, e.details())
            return False
        self.transitions = lease.spec.lease_transitions
        return True

    def _expired(self, spec: coordination_pb2.LeaseSpec) -> bool:
        duration = spec.lease_duration_seconds if spec.HasField("lease_duration_seconds") else \
            self._duration_seconds()
        renewed = spec.renew_time.ToNanoseconds() if spec.HasField("renew_time") else 0
        return time.time_ns() > renewed + duration * 1_000_000_000

    def _duration_seconds(self) -> int:
        return max(1, math.ceil(self.lease_duration))

    async def _release(self, within: float) -> None:
        """Clears holderIdentity so that a standby need not wait for the lease to expire.

        Each attempt reads the Lease afresh; a conflict (ABORTED) means someone wrote it after our
        read, so read again. Gives up after `within` seconds; the lease then simply expires."""
        deadline = time.monotonic() + within
        while True:
            remaining = deadline - time.monotonic()
            try:
                if await asyncio.wait_for(self._release_once(), max(remaining, 0.001)):
                    log.info("%s: released lease %s/%s", self.identity, self.namespace, self.name)
                return
            except (grpc.aio.AioRpcError, TimeoutError) as e:
                if time.monotonic() >= deadline:
                    log.warning("%s: could not release lease %s/%s: %s", self.identity, self.namespace,
                                self.name, e)
                    return
                conflict = isinstance(e, grpc.aio.AioRpcError) and e.code() == grpc.StatusCode.ABORTED
                if not conflict:
                    await asyncio.sleep(min(self.retry_period, max(deadline - time.monotonic(), 0)))

    async def _release_once(self) -> bool:
        """Returns False when there is nothing to release (the Lease is gone or held by another)."""
        try:
            lease = await self.client.get(_LEASE, self.name, self.namespace)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        if lease.spec.holder_identity != self.identity:
            return False
        lease.spec.holder_identity = ""
        lease.spec.lease_duration_seconds = 1
        now = _now()
        lease.spec.renew_time.CopyFrom(now)
        lease.spec.acquire_time.CopyFrom(now)
        await self.client.update(lease)
        return True
