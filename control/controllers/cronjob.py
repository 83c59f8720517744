"""The CronJob controller: creates a Job at each start of a CronJob's schedule.

reconcile(key) brings status.active in line with the CronJob's Jobs (and lastSuccessfulTime with
the ones that completed), then, unless the CronJob is suspended or its schedule or time zone is
bad, finds the most recent start time that is due (at most startingDeadlineSeconds old), honours
concurrencyPolicy (Allow, Forbid: skip while a Job runs, Replace: delete the running ones), creates
the Job `<cronjob>-<scheduled time in minutes since the epoch>`, removes finished Jobs beyond the
history limits and requeues itself for the next start. `clock` is injectable for tests.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from control.client import cron
from control.client.controller import Controller, ControllerContext, option
from control.client.controllerref import controller_ref, new_controller_ref
from control.client.events import NORMAL, WARNING
from control.client.humanize import timestamp_text
from control.client.informer import copy_of
from control.client.kinds import KINDS
from control.client.wellknown import (
    CONDITION_TRUE,
    CRONJOB_SCHEDULED_TIMESTAMP,
    JOB_COMPLETE,
    JOB_FAILED,
    is_being_deleted,
)
from skiff.v1 import meta_pb2

log = logging.getLogger(__name__)

_JOB = KINDS["Job"]
MAX_MISSED = 100
NEXT_SLACK = 0.1  # seconds past the start time, so the start is due when the key comes back


@dataclass(frozen=True)
class CronJobOptions:
    concurrent_cron_job_syncs: int = option(5, "CronJobs synced at once")


def finished_condition(job: Message) -> str | None:
    for c in job.status.conditions:
        if c.type in (JOB_COMPLETE, JOB_FAILED) and c.status == CONDITION_TRUE:
            return c.type
    return None


def job_name(cronjob: Message, scheduled: datetime) -> str:
    return f"{cronjob.metadata.name}-{int(scheduled.timestamp()) // 60}"


def most_recent_start(schedule: cron.Schedule, tz, earliest: datetime, now: datetime) -> tuple[datetime | None, int]:
    """The latest start in (earliest, now] and how many starts that range holds; past
    MAX_MISSED the count is estimated from the interval between two starts, as Kubernetes does."""
    first = cron.next_after(schedule, earliest, tz)
    if first is None or first > now:
        return None, 0
    recent, count = first, 1
    while count <= MAX_MISSED:
        after = cron.next_after(schedule, recent, tz)
        if after is None or after > now:
            return recent, count
        recent, count = after, count + 1
    second = cron.next_after(schedule, first, tz)
    interval = (second - first).total_seconds() if second else 60.0
    count = int((now - first).total_seconds() // interval) + 1
    recent = datetime.fromtimestamp(first.timestamp() + (count - 1) * interval, UTC)
    while (after := cron.next_after(schedule, recent, tz)) is not None and after <= now:
        recent = after
    return recent, count


def _dt(ts: Timestamp) -> datetime:
    return datetime.fromtimestamp(ts.seconds, UTC)


def _ts(when: datetime) -> Timestamp:
    return Timestamp(seconds=int(when.timestamp()))


class CronJobController(Controller):
    name = "cronjob"
    Options = CronJobOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_cron_job_syncs)
        self.cronjobs = ctx.informers.get("CronJob")
        self.jobs = ctx.informers.get("Job")
        self.clock = time.time  # tests may replace it
        self.cronjobs.add_handler(**self.enqueue_handlers())
        self.jobs.add_handler(**self.enqueue_owner("CronJob"))

    async def reconcile(self, key: str) -> None:
        cj = self.cronjobs.store.get(key)
        if cj is None:
            return
        jobs = self._owned_jobs(cj)
        status = copy_of(cj).status
        self._sync_active(cj, status, jobs)
        if not is_being_deleted(cj):
            requeue = await self._maybe_start(cj, status, jobs)
            await self._clean_history(cj, jobs)
        else:
            requeue = None
        if status != cj.status and await self.write_status(cj, status) is None:
            return
        if requeue is not None:
            self.queue.add_after(key, max(requeue, 0) + NEXT_SLACK)

    def _owned_jobs(self, cj: Message) -> list[Message]:
        uid = cj.metadata.uid
        return [j for j in self.jobs.store.by_index("namespace", cj.metadata.namespace)
                if (ref := controller_ref(j)) is not None and ref.uid == uid]

    def _sync_active(self, cj: Message, status: Message, jobs: list[Message]) -> None:
        by_uid = {j.metadata.uid: j for j in jobs}
        kept = []
        for ref in status.active:
            job = by_uid.get(ref.uid)
            if job is None:
                self.recorder.event(cj, NORMAL, "MissingJob", f"Active job went missing: {ref.name}")
            elif finished_condition(job) is not None:
                self.recorder.event(cj, NORMAL, "SawCompletedJob",
                                    f"Saw completed job: {job.metadata.name}, status: {finished_condition(job)}")
            else:
                kept.append(ref)
        known = {r.uid for r in kept}
        for job in jobs:
            if finished_condition(job) is None and job.metadata.uid not in known:
                # Not adopted (Kubernetes neither): concurrency rules only count the Jobs it started.
                self.recorder.event(cj, WARNING, "UnexpectedJob",
                                    f"Saw a job that the controller did not create or forgot: {job.metadata.name}")
            if finished_condition(job) == JOB_COMPLETE:
                done = job.status.completion_time
                if not status.HasField("last_successful_time") or done.seconds > status.last_successful_time.seconds:
                    status.last_successful_time.CopyFrom(done)
        del status.active[:]
        status.active.extend(kept)

    async def _maybe_start(self, cj: Message, status: Message, jobs: list[Message]) -> float | None:
        """Starts a Job when one is due; returns the seconds until the next start (None: never)."""
        spec = cj.spec
        try:
            tz = cron.zone(spec.time_zone if spec.HasField("time_zone") else None)
        except cron.CronError as e:
            self.recorder.event(cj, WARNING, "UnknownTimeZone", f"invalid timeZone: {json.dumps(spec.time_zone)}: {e}")
            return None
        if spec.suspend:
            return None
        try:
            schedule = cron.parse(spec.schedule)
        except cron.CronError as e:
            self.recorder.event(cj, WARNING, "UnparseableSchedule",
                                f"unparseable schedule: {json.dumps(spec.schedule)} : {e}")
            return None
        now = datetime.fromtimestamp(self.clock(), UTC)
        scheduled = self._due(cj, status, schedule, tz, now)
        nxt = cron.next_after(schedule, now, tz)
        wait = (nxt - now).total_seconds() if nxt is not None else None
        if scheduled is None:
            return wait
        if spec.HasField("starting_deadline_seconds") and \
                (now - scheduled).total_seconds() > spec.starting_deadline_seconds:
            self.recorder.event(cj, WARNING, "MissSchedule",
                                f"Missed scheduled time to start a job: {timestamp_text(_ts(scheduled))}")
            return wait
        name = job_name(cj, scheduled)
        if any(r.name == name for r in status.active) or (
                status.HasField("last_schedule_time") and status.last_schedule_time.seconds >= scheduled.timestamp()):
            return wait
        if spec.concurrency_policy == "Forbid" and status.active:
            self.recorder.event(cj, NORMAL, "JobAlreadyActive",
                                "Not starting job because prior execution is running and concurrency policy is Forbid")
            return wait
        if spec.concurrency_policy == "Replace":
            await self._replace_active(cj, status)
        await self._create_job(cj, status, scheduled, tz)
        return wait

    def _due(self, cj: Message, status: Message, schedule: cron.Schedule, tz, now: datetime) -> datetime | None:
        earliest = _dt(status.last_schedule_time if status.HasField("last_schedule_time")
                       else cj.metadata.creation_timestamp)
        if cj.spec.HasField("starting_deadline_seconds"):
            earliest = max(earliest, datetime.fromtimestamp(now.timestamp() - cj.spec.starting_deadline_seconds, UTC))
        scheduled, missed = most_recent_start(schedule, tz, earliest, now)
        if missed > MAX_MISSED:
            self.recorder.event(cj, WARNING, "TooManyMissedTimes",
                                f"too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds "
                                "or check clock skew")
        return scheduled

    async def _replace_active(self, cj: Message, status: Message) -> None:
        for ref in list(status.active):
            try:
                await self.client.delete(_JOB, ref.name, cj.metadata.namespace, propagation_policy="Background")
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            self.recorder.event(cj, NORMAL, "SuccessfulDelete", f"Deleted job {ref.name}")
        del status.active[:]

    async def _create_job(self, cj: Message, status: Message, scheduled: datetime, tz) -> None:
        job = job_from_template(cj, scheduled, tz)
        try:
            created = await self.client.create(job)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                self.recorder.event(cj, WARNING, "FailedCreate", f"Error creating job: {e.details()}")
                raise
            created = await self.client.get(_JOB, job.metadata.name, cj.metadata.namespace)
            ref = controller_ref(created)
            if ref is None or ref.uid != cj.metadata.uid or finished_condition(created) is not None:
                status.last_schedule_time.CopyFrom(_ts(scheduled))
                return
        else:
            self.recorder.event(cj, NORMAL, "SuccessfulCreate", f"Created job {created.metadata.name}")
        status.active.append(_reference(created))
        status.last_schedule_time.CopyFrom(_ts(scheduled))

    async def _clean_history(self, cj: Message, jobs: list[Message]) -> None:
        for kind, field in ((JOB_COMPLETE, "successful_jobs_history_limit"),
                            (JOB_FAILED, "failed_jobs_history_limit")):
            if not cj.spec.HasField(field):
                continue
            finished = [j for j in jobs if finished_condition(j) == kind and not is_being_deleted(j)]
            finished.sort(key=lambda j: (j.status.start_time.seconds, j.metadata.creation_timestamp.seconds))
            surplus = len(finished) - getattr(cj.spec, field)
            for job in finished[:max(surplus, 0)]:
                try:
                    await self.client.delete(_JOB, job.metadata.name, job.metadata.namespace,
                                             propagation_policy="Background")
                except grpc.aio.AioRpcError as e:
                    if e.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    continue
                self.recorder.event(cj, NORMAL, "SuccessfulDelete", f"Deleted job {job.metadata.name}")


def job_from_template(cj: Message, scheduled: datetime, tz) -> Message:
    template = cj.spec.job_template
    meta = meta_pb2.ObjectMeta(name=job_name(cj, scheduled), namespace=cj.metadata.namespace,
                               labels=dict(template.metadata.labels),
                               annotations=dict(template.metadata.annotations))
    meta.annotations[CRONJOB_SCHEDULED_TIMESTAMP] = scheduled.astimezone(tz).isoformat().replace("+00:00", "Z")
    meta.owner_references.append(new_controller_ref(cj))
    job = _JOB.new(metadata=meta)
    job.spec.CopyFrom(template.spec)
    return job


def _reference(job: Message) -> meta_pb2.ObjectReference:
    return meta_pb2.ObjectReference(kind="Job", namespace=job.metadata.namespace, name=job.metadata.name,
                                    uid=job.metadata.uid, api_version="batch/v1",
                                    resource_version=job.metadata.resource_version)
