"""Leader election on a coordination.k8s.io Lease, like client-go's leaderelection.

One candidate holds the Lease `namespace/name` and renews it every
retry_period. Others take it over once renewTime + leaseDurationSeconds has
passed. Every write is an Update carrying the resourceVersion that was read,
so two candidates can never both win the same round (the loser gets ABORTED).
A leader that cannot renew within renew_deadline stops leading: its `lead()`
is cancelled and run() returns, and the component is expected to exit.
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

    async def run(self, lead: Callable[[], Awaitable[None]]) -> None:
        """Waits to become leader, runs lead() while renewing; returns when leadership ends."""
        await self._acquire()
        log.info("%s: became leader of %s/%s", self.identity, self.namespace, self.name)
        task = asyncio.create_task(lead())
        try:
            await self._renew_until_lost(task)
        finally:
            self.is_leader = False
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self._release()
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()

    async def _acquire(self) -> None:
        while True:
            if await self._try_acquire_or_renew():
                self.is_leader = True
                return
            await asyncio.sleep(self.retry_period)

    async def _renew_until_lost(self, task: asyncio.Task) -> None:
        last_renew = time.monotonic()
        while not task.done():
            await asyncio.wait({task}, timeout=self.retry_period)
            if task.done():
                return
            remaining = self.renew_deadline - (time.monotonic() - last_renew)
            try:
                renewed = await asyncio.wait_for(self._try_acquire_or_renew(), max(remaining, 0.001))
            except TimeoutError:
                renewed = False
            if renewed:
                last_renew = time.monotonic()
            elif time.monotonic() - last_renew >= self.renew_deadline:
                log.error("%s: failed to renew lease %s/%s within %.1fs; stopping leading",
                          self.identity, self.namespace, self.name, self.renew_deadline)
                return

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

    async def _release(self) -> None:
        """Clears holderIdentity so that a standby need not wait for the lease to expire."""
        try:
            lease = await asyncio.wait_for(self.client.get(_LEASE, self.name, self.namespace),
                                           self.retry_period)
            if lease.spec.holder_identity != self.identity:
                return
            lease.spec.holder_identity = ""
            lease.spec.lease_duration_seconds = 1
            lease.spec.renew_time.CopyFrom(_now())
            await asyncio.wait_for(self.client.update(lease), self.retry_period)
            log.info("%s: released lease %s/%s", self.identity, self.namespace, self.name)
        except (grpc.aio.AioRpcError, TimeoutError) as e:
            log.warning("%s: could not release lease: %s", self.identity, e)
