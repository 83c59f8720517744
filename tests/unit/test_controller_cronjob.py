"""The CronJob controller's reconcile(key) on the fake client, with its clock set by the test."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message

from control.apiserver.defaults import default_cron_job
from control.client import cron
from control.client.convert import from_dict
from control.client.fake import owner_reference
from control.client.printers import CRONJOB
from control.client.testing import on_fake
from control.client.wellknown import CRONJOB_SCHEDULED_TIMESTAMP, is_being_deleted
from control.controllers.cronjob import CronJobController, most_recent_start

KEY = "default/tick"
CREATED = datetime(2026, 1, 1, 10, 0, 30, tzinfo=UTC)


def cronjob(**spec) -> Message:
    body = {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": "default", "uid": "uid-tick",
                         "creationTimestamp": CREATED.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"metadata": {"labels": {"app": "tick"}}, "spec": {
                "template": {"spec": {"restartPolicy": "OnFailure",
                                      "containers": [{"name": "c", "image": "busybox:1"}]}}}}, **spec}}
    obj = from_dict(body)
    default_cron_job(obj)
    return obj


def running(cj: Message, name: str) -> tuple[Message, Message]:
    """The CronJob with a Job of its own still running (in its status.active), and that Job."""
    started = job(name, cj)
    cj.status.active.add(kind="Job", namespace="default", name=name, uid=started.metadata.uid, api_version="batch/v1")
    return cj, started


def job(name: str, owner: Message, finished: str = "", started: int = 0) -> Message:
    body: dict = {"apiVersion": "batch/v1", "kind": "Job",
                  "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}, "spec": {}, "status": {}}
    if finished:
        body["status"] = {"conditions": [{"type": finished, "status": "True"}],
                          "startTime": datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "completionTime": datetime.fromtimestamp(started + 5, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    obj = from_dict(body)
    obj.metadata.owner_references.append(owner_reference(owner))
    return obj


def jobs(client) -> list[Message]:
    return [j for j in client.objects("Job", "default") if not is_being_deleted(j)]


def at_minute(minute: int, second: int = 5) -> float:
    return datetime(2026, 1, 1, 10, minute, second, tzinfo=UTC).timestamp()


async def test_creates_the_job_of_the_scheduled_minute_then_waits_for_the_next() -> None:
    async with on_fake(CronJobController, cronjob()) as run:
        run.controller.clock = lambda: at_minute(0, 50)
        await run.reconcile(KEY)
        assert jobs(run.client) == []
        run.controller.clock = lambda: at_minute(1, 2)
        await run.reconcile(KEY)
        [created] = jobs(run.client)
        scheduled = datetime(2026, 1, 1, 10, 1, tzinfo=UTC)
        assert created.metadata.name == f"tick-{int(scheduled.timestamp()) // 60}"
        assert created.metadata.annotations[CRONJOB_SCHEDULED_TIMESTAMP] == "2026-01-01T10:01:00Z"
        assert created.metadata.labels["app"] == "tick" and created.metadata.owner_references[0].kind == "CronJob"
        assert created.spec.template.spec.restart_policy == "OnFailure"
        cj = await run.client.get("CronJob", "tick", "default")
        assert [r.name for r in cj.status.active] == [created.metadata.name]
        assert cj.status.last_schedule_time.seconds == int(scheduled.timestamp())
        await run.reconcile(KEY)
        assert len(jobs(run.client)) == 1
        row = CRONJOB.row(cj, at_minute(1, 30))
        assert row[:6] == ["tick", "* * * * *", "<none>", "False", "1", "30s"]
        assert ("Normal", "SuccessfulCreate", f"Created job {created.metadata.name}") in await run.events()


async def test_forbid_skips_while_a_job_runs() -> None:
    async with on_fake(CronJobController, *running(cronjob(concurrencyPolicy="Forbid"), "tick-old")) as run:
        run.controller.clock = lambda: at_minute(1, 2)
        await run.reconcile(KEY)
        assert [j.metadata.name for j in jobs(run.client)] == ["tick-old"]
        reasons = {reason for _, reason, _ in await run.events()}
        assert "JobAlreadyActive" in reasons


async def test_replace_deletes_the_running_job_and_starts_a_new_one() -> None:
    async with on_fake(CronJobController, *running(cronjob(concurrencyPolicy="Replace"), "tick-old")) as run:
        run.controller.clock = lambda: at_minute(1, 2)
        await run.reconcile(KEY)
        names = [j.metadata.name for j in jobs(run.client)]
        assert "tick-old" not in names and len(names) == 1
        cj = await run.client.get("CronJob", "tick", "default")
        assert [r.name for r in cj.status.active] == names


async def test_allow_runs_jobs_side_by_side_and_records_the_last_success() -> None:
    cj, old = running(cronjob(), "tick-old")
    done = job("tick-done", cj, finished="Complete", started=int(at_minute(0, 40)))
    async with on_fake(CronJobController, cj, old, done) as run:
        run.controller.clock = lambda: at_minute(1, 2)
        await run.reconcile(KEY)
        assert len(jobs(run.client)) == 3
        cj = await run.client.get("CronJob", "tick", "default")
        assert len(cj.status.active) == 2
        assert cj.status.last_successful_time.seconds == int(at_minute(0, 45))


async def test_suspended_cronjob_starts_nothing() -> None:
    async with on_fake(CronJobController, cronjob(suspend=True)) as run:
        run.controller.clock = lambda: at_minute(5)
        await run.reconcile(KEY)
        assert jobs(run.client) == []


async def test_starting_deadline_skips_a_start_that_is_too_late() -> None:
    async with on_fake(CronJobController, cronjob(startingDeadlineSeconds=10)) as run:
        run.controller.clock = lambda: at_minute(1, 30)
        await run.reconcile(KEY)
        assert jobs(run.client) == []
        run.controller.clock = lambda: at_minute(2, 5)
        await run.reconcile(KEY)
        assert len(jobs(run.client)) == 1


async def test_too_many_missed_starts_are_reported_and_the_latest_runs() -> None:
    async with on_fake(CronJobController, cronjob()) as run:
        run.controller.clock = lambda: at_minute(0) + 3 * 3600
        await run.reconcile(KEY)
        [created] = jobs(run.client)
        assert created.metadata.annotations[CRONJOB_SCHEDULED_TIMESTAMP] == "2026-01-01T13:00:00Z"
        events = await run.events()
        assert ("Warning", "TooManyMissedTimes", "too many missed start times: 180. Set or decrease "
                ".spec.startingDeadlineSeconds or check clock skew") in events


async def test_history_limits_remove_the_oldest_finished_jobs() -> None:
    cj = cronjob(successfulJobsHistoryLimit=1, failedJobsHistoryLimit=0, suspend=True)
    finished = [job("tick-1", cj, "Complete", 100), job("tick-2", cj, "Complete", 200),
                job("tick-3", cj, "Failed", 300)]
    async with on_fake(CronJobController, cj, *finished) as run:
        run.controller.clock = lambda: at_minute(5)
        await run.reconcile(KEY)
        assert [j.metadata.name for j in jobs(run.client)] == ["tick-2"]


async def test_time_zone_sets_the_scheduled_timestamp_offset() -> None:
    async with on_fake(CronJobController, cronjob(timeZone="Asia/Tokyo")) as run:
        run.controller.clock = lambda: at_minute(1, 2)
        await run.reconcile(KEY)
        [created] = jobs(run.client)
        assert created.metadata.annotations[CRONJOB_SCHEDULED_TIMESTAMP] == "2026-01-01T19:01:00+09:00"


def test_most_recent_start_counts_missed_starts() -> None:
    every_minute = cron.parse("* * * * *")
    start = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    recent, count = most_recent_start(every_minute, UTC, start, datetime(2026, 1, 1, 10, 5, 30, tzinfo=UTC))
    assert recent == datetime(2026, 1, 1, 10, 5, tzinfo=UTC) and count == 5
    assert most_recent_start(every_minute, UTC, start, datetime(2026, 1, 1, 10, 0, 59, tzinfo=UTC)) == (None, 0)


async def test_a_job_it_did_not_start_is_reported_not_adopted() -> None:
    cj = cronjob(concurrencyPolicy="Forbid")
    async with on_fake(CronJobController, cj, job("stray", cj)) as run:
        run.controller.clock = lambda: at_minute(1, 2)
        await run.reconcile(KEY)
        assert len(jobs(run.client)) == 2  # Forbid counts only the Jobs in status.active
        events = await run.events()
        assert ("Warning", "UnexpectedJob", "Saw a job that the controller did not create or forgot: stray") in events


async def test_finished_active_job_leaves_the_active_list() -> None:
    cj, old = running(cronjob(suspend=True), "tick-old")
    old.status.conditions.add(type="Complete", status="True")
    old.status.completion_time.FromSeconds(int(at_minute(0, 50)))
    async with on_fake(CronJobController, cj, old) as run:
        run.controller.clock = lambda: at_minute(1, 2)
        await run.reconcile(KEY)
        cj = await run.client.get("CronJob", "tick", "default")
        assert list(cj.status.active) == [] and cj.status.last_successful_time.seconds == int(at_minute(0, 50))
        assert ("Normal", "SawCompletedJob", "Saw completed job: tick-old, status: Complete") in await run.events()


async def test_a_schedule_stored_before_it_was_checked_is_reported() -> None:
    async with on_fake(CronJobController, cronjob(schedule="61 * * * *")) as run:
        run.controller.clock = lambda: at_minute(5)
        await run.reconcile(KEY)
        assert jobs(run.client) == []
        assert ("Warning", "UnparseableSchedule",
                'unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61') in await run.events()
