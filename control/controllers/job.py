"""The Job controller: runs a Job's pods to completion.

reconcile(key) claims the Job's pods, counts the ones that terminated (each pod carries the
`batch.kubernetes.io/job-tracking` finalizer until its outcome is recorded: first in
status.uncountedTerminatedPods, then in the counters once the finalizer is gone), applies the pod
failure policy, the backoff limits (per Job or per index), the active deadline and the success
policy, then either finishes the Job (FailureTarget or SuccessCriteriaMet first, Failed or Complete
once no pod runs), holds it suspended, or keeps `parallelism` pods running with exponential
back-off after failures. Indexed Jobs give each pod its completion index.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from control.client import controllerref
from control.client.controller import Controller, ControllerContext, option
from control.client.controllerref import controller_ref, resolve_controller_ref
from control.client.events import NORMAL, WARNING
from control.client.expectations import Expectations
from control.client.finalizers import without_finalizer
from control.client.informer import copy_of, key_of
from control.client.jobindexes import format_indexes, parse_indexes
from control.client.kinds import KINDS
from control.client.podutil import is_pod_ready
from control.client.selectors import from_label_selector
from control.client.wellknown import (
    CONDITION_FALSE,
    CONDITION_TRUE,
    FINALIZER_JOB_TRACKING,
    JOB_COMPLETE,
    JOB_FAILED,
    JOB_FAILURE_TARGET,
    JOB_INDEX_FAILURE_COUNT,
    JOB_SUCCESS_CRITERIA_MET,
    JOB_SUSPENDED,
    get_condition,
    is_being_deleted,
    set_condition,
)
from control.controllers import jobutil
from control.controllers.jobutil import completion_index, is_active, is_failed, is_indexed, is_succeeded
from control.controllers.replicaset import slow_start_batch

log = logging.getLogger(__name__)

_POD = KINDS["Pod"]
MAX_POD_CHANGES = 500  # pods created or deleted per sync, as Kubernetes' Job controller
BACKOFF_LIMIT_MSG = "Job has reached the specified backoff limit"
DEADLINE_MSG = "Job was active longer than specified deadline"
MAX_FAILED_INDEXES_MSG = "Job has exceeded the specified maximal number of failed indexes"
FAILED_INDEXES_MSG = "Job has failed indexes"
COMPLETIONS_MSG = "Reached expected number of succeeded pods"


@dataclass(frozen=True)
class JobOptions:
    concurrent_job_syncs: int = option(5, "Jobs synced at once")


@dataclass
class Tally:
    """What a sync learns from the Job's pods."""
    pods: list[Message]
    succeeded: set[int] = field(default_factory=set)  # completed indexes (Indexed)
    failed_indexes: set[int] = field(default_factory=set)
    index_failures: dict[int, int] = field(default_factory=dict)  # failures so far, per index
    failure: tuple[str, str] | None = None  # (reason, message) that fails the Job
    new_failures: int = 0
    last_failure: float = 0.0


class JobController(Controller):
    name = "job"
    Options = JobOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_job_syncs)
        self.jobs = ctx.informers.get("Job")
        self.pods = ctx.informers.get("Pod")
        self.expectations = Expectations()
        self.clock = time.time  # tests may replace it
        self.backoff: dict[str, tuple[int, float]] = {}  # key -> (consecutive failures, last failure)
        # key -> uids whose tracking finalizer this controller removed and the cache may still show:
        # those pods are counted already (Kubernetes' finalizer-removal expectations).
        self.finalized: dict[str, set[str]] = {}
        self.jobs.add_handler(**self.enqueue_handlers())
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    def _owner_key(self, pod: Message) -> str | None:
        job = resolve_controller_ref(pod, "Job", self.jobs.store)
        if job is not None:
            return key_of(job)
        ref = controller_ref(pod)
        if ref is not None and ref.kind == "Job" and FINALIZER_JOB_TRACKING in pod.metadata.finalizers:
            return f"{pod.metadata.namespace}/{ref.name}"  # its Job is gone: the finalizer must go too
        return None

    def _pod_added(self, pod: Message) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)

    def _pod_updated(self, old: Message, new: Message) -> None:
        if is_being_deleted(new) and not is_being_deleted(old):
            key = self._owner_key(new)
            if key is not None:
                self.expectations.deletion_observed(key, new.metadata.uid)  # a graceful delete is seen at once
        for pod in (old, new):
            key = self._owner_key(pod)
            if key is not None:
                self.queue.add(key)

    def _pod_deleted(self, pod: Message) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod.metadata.uid)
            self.queue.add(key)

    # --- reconcile ----------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        job = self.jobs.store.get(key)
        if job is None:
            self.expectations.forget(key)
            self.backoff.pop(key, None)
            self.finalized.pop(key, None)
            await self._release_orphans(key)
            return
        job = copy_of(job)  # the cache's object stays as the watch delivered it
        pods = await self._claim_pods(job)
        if jobutil.is_finished(job):
            finalized = self.finalized.get(key, set())
            await self._remove_finalizers([p for p in pods if FINALIZER_JOB_TRACKING in p.metadata.finalizers
                                           and p.metadata.uid not in finalized])
            return
        status = copy_of(job).status
        recorded = await self._record_terminated(job, pods, status)
        if recorded is None:
            return  # the status write lost a race; requeued
        tally, done = recorded
        self._record_backoff(key, tally)
        now = self.clock()
        self._check_failure(job, status, tally, now)
        self._check_success(job, status, tally)
        active = [p for p in pods if is_active(p)]
        # The terminated pods are recorded in uncountedTerminatedPods: their finalizers go while pods
        # are created or deleted, and they move into the counters once the finalizers are gone.
        if self._finishing(status) or job.spec.suspend:
            await _together(self._delete_pods(key, job, active), self._remove_finalizers(done))
            self._flush_uncounted(job, tally.pods, status, done)
            self._finish_or_suspend(job, status, pods, now)
        else:
            self._resume(job, status, now)
            manage = self.expectations.satisfied(key) and not is_being_deleted(job)
            await _together(self._manage(key, job, status, tally, active, now) if manage else None,
                            self._remove_finalizers(done))
            self._flush_uncounted(job, tally.pods, status, done)
        jobutil.fill_counts(status, pods)
        await self._write(job, status)

    async def _release_orphans(self, key: str) -> None:
        """Removes the tracking finalizer from pods whose Job (named by the key) no longer exists."""
        namespace, _, name = key.partition("/")
        live = {j.metadata.uid for j in self.jobs.store.by_index("namespace", namespace)}
        orphans = [p for p in self.pods.store.by_index("namespace", namespace)
                   if FINALIZER_JOB_TRACKING in p.metadata.finalizers and (ref := controller_ref(p)) is not None
                   and ref.kind == "Job" and ref.name == name and ref.uid not in live]
        await self._remove_finalizers(orphans)

    async def _claim_pods(self, job: Message) -> list[Message]:
        candidates = self.pods.store.by_index("namespace", job.metadata.namespace)
        if is_being_deleted(job) or jobutil.is_finished(job):
            uid = job.metadata.uid
            return [p for p in candidates if (ref := controller_ref(p)) is not None and ref.uid == uid]
        return await controllerref.claim(self.client, job, from_label_selector(job.spec.selector), candidates)

    # --- counting terminated pods -------------------------------------------------------------

    async def _record_terminated(self, job: Message, pods: list[Message],
                                 status: Message) -> tuple[Tally, list[Message]] | None:
        """Records the pods that terminated since the last sync: their uids go to
        uncountedTerminatedPods, written before any of their finalizers is removed. Returns what the
        pods say about the Job and the pods whose finalizer may go now."""
        finalized = self.finalized.setdefault(key_of(job), set())
        finalized &= {p.metadata.uid for p in pods if FINALIZER_JOB_TRACKING in p.metadata.finalizers}
        pods = [without_finalizer(p, FINALIZER_JOB_TRACKING) if p.metadata.uid in finalized else p for p in pods]
        tally = self._tally(job, pods, status)
        uncounted = status.uncounted_terminated_pods
        recorded = set(uncounted.succeeded) | set(uncounted.failed)
        fresh = [p for p in pods if FINALIZER_JOB_TRACKING in p.metadata.finalizers
                 and p.metadata.uid not in recorded and (is_succeeded(p) or is_failed(p, job))]
        ignored: list[Message] = []
        for pod in fresh:
            self._record_pod(job, pod, status, tally, ignored)
        if fresh:
            _set_indexes(job, status, tally)
            written = await self._write(job, status)
            if written is None:
                return None
            job.CopyFrom(written)
        recorded = set(uncounted.succeeded) | set(uncounted.failed)
        done = [p for p in pods if FINALIZER_JOB_TRACKING in p.metadata.finalizers
                and (p.metadata.uid in recorded or p in ignored or is_being_deleted(p))]
        return tally, done

    def _flush_uncounted(self, job: Message, pods: list[Message], status: Message, done: list[Message]) -> None:
        """Moves the uids of pods whose finalizer is gone from uncountedTerminatedPods to the counters
        (`pods` as _record_terminated saw them, without the finalizers already removed)."""
        uncounted = status.uncounted_terminated_pods
        self.finalized.setdefault(key_of(job), set()).update(p.metadata.uid for p in done)
        still_tracked = {p.metadata.uid for p in pods if FINALIZER_JOB_TRACKING in p.metadata.finalizers} - {
            p.metadata.uid for p in done}
        for name in ("succeeded", "failed"):
            moved = [u for u in getattr(uncounted, name) if u not in still_tracked]
            setattr(status, name, getattr(status, name) + len(moved))
            kept = [u for u in getattr(uncounted, name) if u in still_tracked]
            del getattr(uncounted, name)[:]
            getattr(uncounted, name).extend(kept)

    def _tally(self, job: Message, pods: list[Message], status: Message) -> Tally:
        tally = Tally(pods)
        if is_indexed(job):
            tally.succeeded = parse_indexes(status.completed_indexes, job.spec.completions) \
                if status.completed_indexes else set()
            if status.failed_indexes:
                tally.failed_indexes = parse_indexes(status.failed_indexes, job.spec.completions)
        for pod in pods:
            index = completion_index(pod)
            if index is not None:
                count = int(pod.metadata.annotations.get(JOB_INDEX_FAILURE_COUNT, "0") or 0)
                count += 1 if is_failed(pod, job) and FINALIZER_JOB_TRACKING not in pod.metadata.finalizers else 0
                tally.index_failures[index] = max(tally.index_failures.get(index, 0), count)
        target = get_condition(status, JOB_FAILURE_TARGET)
        if target is not None and target.status == CONDITION_TRUE:
            tally.failure = (target.reason, target.message)
        return tally

    def _record_pod(self, job: Message, pod: Message, status: Message, tally: Tally,
                    ignored: list[Message]) -> None:
        uncounted = status.uncounted_terminated_pods
        index = completion_index(pod)
        if is_succeeded(pod):
            if is_indexed(job) and (index is None or index >= job.spec.completions or index in tally.succeeded):
                ignored.append(pod)
                return
            if index is not None:
                tally.succeeded.add(index)
            uncounted.succeeded.append(pod.metadata.uid)
            return
        match = jobutil.match_failure_policy(job, pod)
        if match is not None and match.action == "Ignore":
            ignored.append(pod)
            return
        uncounted.failed.append(pod.metadata.uid)
        tally.new_failures += 1
        tally.last_failure = max(tally.last_failure, jobutil.finished_at(pod))
        if match is not None and match.action == "FailJob" and tally.failure is None:
            tally.failure = ("PodFailurePolicy", match.message)
            return
        finishing = tally.failure is not None or jobutil.has_true(status, JOB_SUCCESS_CRITERIA_MET)
        if index is not None and job.spec.HasField("backoff_limit_per_index") and not finishing:
            failures = tally.index_failures.get(index, 0) + 1
            tally.index_failures[index] = failures
            if (match is not None and match.action == "FailIndex") or failures > job.spec.backoff_limit_per_index:
                tally.failed_indexes.add(index)

    async def _remove_finalizers(self, pods: list[Message]) -> None:
        async def remove(pod: Message) -> None:
            try:
                await self.client.update(without_finalizer(pod, FINALIZER_JOB_TRACKING))
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
        await asyncio.gather(*(remove(p) for p in pods))

    def _record_backoff(self, key: str, tally: Tally) -> None:
        if tally.new_failures:
            count, _ = self.backoff.get(key, (0, 0.0))
            self.backoff[key] = (count + tally.new_failures, tally.last_failure or self.clock())

    # --- failure and success --------------------------------------------------------------------

    def _check_failure(self, job: Message, status: Message, tally: Tally, now: float) -> None:
        if jobutil.has_true(status, JOB_FAILURE_TARGET) or jobutil.has_true(status, JOB_SUCCESS_CRITERIA_MET):
            return
        spec = job.spec
        failure = tally.failure
        if failure is None and spec.HasField("backoff_limit_per_index"):
            if spec.HasField("max_failed_indexes") and len(tally.failed_indexes) > spec.max_failed_indexes:
                failure = ("MaxFailedIndexesExceeded", MAX_FAILED_INDEXES_MSG)
        elif failure is None and (jobutil.failed_total(status) > spec.backoff_limit
                                  or self._past_limit_on_failure(job, tally)):
            failure = ("BackoffLimitExceeded", BACKOFF_LIMIT_MSG)
        if failure is None and spec.HasField("active_deadline_seconds") and status.HasField("start_time") \
                and not spec.suspend and now - status.start_time.seconds >= spec.active_deadline_seconds:
            failure = ("DeadlineExceeded", DEADLINE_MSG)
        if failure is not None:
            set_condition(status, JOB_FAILURE_TARGET, CONDITION_TRUE, *failure, when=_ts(now))
            self.recorder.event(job, WARNING, failure[0], failure[1])

    @staticmethod
    def _past_limit_on_failure(job: Message, tally: Tally) -> bool:
        if job.spec.template.spec.restart_policy != "OnFailure":
            return False
        count = jobutil.restarts([p for p in tally.pods if is_active(p)])
        return count > 0 if job.spec.backoff_limit == 0 else count >= job.spec.backoff_limit

    def _check_success(self, job: Message, status: Message, tally: Tally) -> None:
        if jobutil.has_true(status, JOB_FAILURE_TARGET) or jobutil.has_true(status, JOB_SUCCESS_CRITERIA_MET):
            return
        spec = job.spec
        reached: tuple[str, str] | None = None
        if is_indexed(job):
            if spec.HasField("success_policy") and jobutil.success_policy_met(job, tally.succeeded):
                reached = ("SuccessPolicy", "Matched rules at index 0")
            elif len(tally.succeeded | tally.failed_indexes) >= spec.completions:
                if tally.failed_indexes:
                    set_condition(status, JOB_FAILURE_TARGET, CONDITION_TRUE, "FailedIndexes", FAILED_INDEXES_MSG)
                    self.recorder.event(job, WARNING, "FailedIndexes", FAILED_INDEXES_MSG)
                    return
                reached = ("CompletionsReached", COMPLETIONS_MSG)
        elif spec.HasField("completions"):
            if jobutil.succeeded_total(status) >= spec.completions:
                reached = ("CompletionsReached", COMPLETIONS_MSG)
        elif jobutil.succeeded_total(status) > 0 and not any(is_active(p) for p in tally.pods):
            reached = ("CompletionsReached", COMPLETIONS_MSG)
        if reached is not None:
            set_condition(status, JOB_SUCCESS_CRITERIA_MET, CONDITION_TRUE, *reached, when=_ts(self.clock()))

    @staticmethod
    def _finishing(status: Message) -> bool:
        return jobutil.has_true(status, JOB_FAILURE_TARGET) or jobutil.has_true(status, JOB_SUCCESS_CRITERIA_MET)

    def _finish_or_suspend(self, job: Message, status: Message, pods: list[Message], now: float) -> None:
        if not self._finishing(status):
            if set_condition(status, JOB_SUSPENDED, CONDITION_TRUE, "JobSuspended", "Job suspended", _ts(now)):
                self.recorder.event(job, NORMAL, "Suspended", "Job suspended")
            return
        if any(p.status.phase not in ("Succeeded", "Failed") for p in pods):
            return  # Failed or Complete once every pod has stopped
        now_ts = _ts(now)
        if jobutil.has_true(status, JOB_FAILURE_TARGET):
            target = get_condition(status, JOB_FAILURE_TARGET)
            set_condition(status, JOB_FAILED, CONDITION_TRUE, target.reason, target.message, now_ts)
            return
        met = get_condition(status, JOB_SUCCESS_CRITERIA_MET)
        set_condition(status, JOB_COMPLETE, CONDITION_TRUE, met.reason, met.message, now_ts)
        status.completion_time.CopyFrom(now_ts)
        self.recorder.event(job, NORMAL, "Completed", "Job completed")

    def _resume(self, job: Message, status: Message, now: float) -> None:
        if jobutil.has_true(status, JOB_SUSPENDED):
            set_condition(status, JOB_SUSPENDED, CONDITION_FALSE, "JobResumed", "Job resumed", _ts(now))
            status.start_time.CopyFrom(_ts(now))  # the active deadline counts from the resumption
            self.recorder.event(job, NORMAL, "Resumed", "Job resumed")
        if not status.HasField("start_time"):
            status.start_time.CopyFrom(_ts(now))
        if job.spec.HasField("active_deadline_seconds"):
            left = status.start_time.seconds + job.spec.active_deadline_seconds - now
            self.queue.add_after(key_of(job), max(left, 0) + 0.1)

    # --- pods ----------------------------------------------------------------------------------

    async def _manage(self, key: str, job: Message, status: Message, tally: Tally,
                      active: list[Message], now: float) -> None:
        """Creates or deletes pods towards parallelism (after the back-off of recent failures)."""
        wanted = self._wanted_active(job, status, tally)
        if len(active) > wanted:
            surplus = sorted(active, key=lambda p: (is_pod_ready(p), p.metadata.creation_timestamp.seconds))
            victims = surplus[:min(len(active) - wanted, MAX_POD_CHANGES)]
            await self._delete_pods(key, job, victims)
            return
        # With podReplacementPolicy Failed a terminating pod is replaced only once it has failed.
        waiting = [p for p in tally.pods if jobutil.is_terminating(p)] \
            if job.spec.pod_replacement_policy == "Failed" else []
        count = min(wanted - len(active) - len(waiting), MAX_POD_CHANGES)
        if count <= 0:
            return
        failures, last = self.backoff.get(key, (0, 0.0))
        wait = jobutil.backoff_delay(failures) - (now - last) if failures else 0
        if wait > 0:
            self.queue.add_after(key, wait)
            return
        indexes: list[int | None] = [None] * count
        if is_indexed(job):
            busy = {completion_index(p) for p in [*active, *waiting]}
            free = (i for i in range(job.spec.completions)
                    if i not in tally.succeeded and i not in tally.failed_indexes and i not in busy)
            indexes = list(itertools.islice(free, count))
        await self._create_pods(key, job, indexes, tally)

    @staticmethod
    def _wanted_active(job: Message, status: Message, tally: Tally) -> int:
        spec = job.spec
        if is_indexed(job):
            return min(spec.parallelism, spec.completions - len(tally.succeeded) - len(tally.failed_indexes))
        if not spec.HasField("completions"):
            return 0 if jobutil.succeeded_total(status) > 0 else spec.parallelism
        return max(0, min(spec.parallelism, spec.completions - jobutil.succeeded_total(status)))

    async def _create_pods(self, key: str, job: Message, indexes: list[int | None], tally: Tally) -> None:
        if not indexes:
            return
        self.expectations.expect_creations(key, len(indexes))
        pending = list(indexes)

        async def create_one() -> None:
            index = pending.pop(0)
            pod = jobutil.new_pod(job, index, tally.index_failures.get(index, 0) if index is not None else 0)
            try:
                created = await self.client.create(pod)
            except grpc.aio.AioRpcError as e:
                self.expectations.creation_observed(key)
                self.recorder.event(job, WARNING, "FailedCreate", f"Error creating: {e.details()}")
                raise
            self.recorder.event(job, NORMAL, "SuccessfulCreate", f"Created pod: {created.metadata.name}")

        errors: list[BaseException] = []
        done, failed = await slow_start_batch(len(indexes), create_one, errors=errors)
        for _ in range(len(indexes) - done - failed):
            self.expectations.creation_observed(key)
        if errors:
            raise errors[0]

    async def _delete_pods(self, key: str, job: Message, pods: list[Message]) -> None:
        if not pods:
            return
        self.expectations.expect_deletions(key, [p.metadata.uid for p in pods])

        async def delete_one(pod: Message) -> None:
            try:
                await self.client.delete(_POD, pod.metadata.name, pod.metadata.namespace, uid=pod.metadata.uid)
            except grpc.aio.AioRpcError as e:
                self.expectations.deletion_observed(key, pod.metadata.uid)
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                return
            self.recorder.event(job, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}")

        await asyncio.gather(*(delete_one(p) for p in pods))

    async def _write(self, job: Message, status: Message) -> Message | None:
        if status == job.status:
            return job
        return await self.write_status(job, status)


async def _together(*calls: Awaitable[None] | None) -> None:
    """Awaits the calls concurrently, each to its end, then raises the first error."""
    results = await asyncio.gather(*(c for c in calls if c is not None), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _set_indexes(job: Message, status: Message, tally: Tally) -> None:
    if not is_indexed(job):
        return
    for name, indexes in (("completed_indexes", tally.succeeded), ("failed_indexes", tally.failed_indexes)):
        if indexes:
            setattr(status, name, format_indexes(indexes))
        else:
            status.ClearField(name)


def _ts(seconds: float) -> Timestamp:
    return Timestamp(seconds=int(seconds))
