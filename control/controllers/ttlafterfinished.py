"""The TTL-after-finished controller: deletes a finished Job (Complete or Failed) once
spec.ttlSecondsAfterFinished has passed since it finished, with its pods (foreground deletion).
The Job is read again from the apiserver before it goes, so a TTL just changed is honoured."""

from __future__ import annotations

import time

import grpc
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext
from control.client.kinds import KINDS
from control.client.wellknown import CONDITION_TRUE, JOB_COMPLETE, JOB_FAILED, is_being_deleted

_JOB = KINDS["Job"]


def finished_at(job: Message) -> float | None:
    for c in job.status.conditions:
        if c.type in (JOB_COMPLETE, JOB_FAILED) and c.status == CONDITION_TRUE:
            return float(c.last_transition_time.seconds)
    return None


def time_left(job: Message, now: float) -> float | None:
    """Seconds until the Job expires (<= 0: expired); None when it has no TTL or is not finished."""
    if not job.spec.HasField("ttl_seconds_after_finished") or is_being_deleted(job):
        return None
    finished = finished_at(job)
    if finished is None:
        return None
    return finished + job.spec.ttl_seconds_after_finished - now


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 5)
        self.jobs = ctx.informers.get("Job")
        self.clock = time.time  # tests may replace it
        self.jobs.add_handler(self.enqueue, lambda _old, new: self.enqueue(new))

    async def reconcile(self, key: str) -> None:
        job = self.jobs.store.get(key)
        if job is None or time_left(job, self.clock()) is None:
            return
        try:
            fresh = await self.client.get(_JOB, job.metadata.name, job.metadata.namespace)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return
            raise
        left = time_left(fresh, self.clock())
        if left is None:
            return
        if left > 0:
            self.queue.add_after(key, left + 0.1)
            return
        try:
            await self.client.delete(_JOB, fresh.metadata.name, fresh.metadata.namespace,
                                     propagation_policy="Foreground", uid=fresh.metadata.uid,
                                     resource_version=fresh.metadata.resource_version)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.ABORTED:
                self.queue.add_rate_limited(key)  # changed meanwhile: look again
            elif e.code() != grpc.StatusCode.NOT_FOUND:
                raise
