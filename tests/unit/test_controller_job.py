"""The Job controller's reconcile(key) on the fake client: pods are marked Succeeded or Failed by
writing their status, as a kubelet would."""

from __future__ import annotations

import time

import grpc
import pytest
from google.protobuf.message import Message

from control.apiserver.defaults import default_job
from control.apiserver.registry.job import generate_selector
from control.client.convert import from_dict
from control.client.fake import api_error
from control.client.printers import job_completions_text, job_status_text
from control.client.testing import on_fake
from control.client.wellknown import (
    FINALIZER_JOB_TRACKING,
    JOB_COMPLETION_INDEX,
    get_condition,
    is_being_deleted,
)
from control.controllers.job import JobController
from control.controllers.jobutil import backoff_delay

KEY = "default/work"


def job(**spec) -> Message:
    body = {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "work", "namespace": "default", "uid": "uid-work"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "c", "image": "busybox:1"}]}}, **spec}}
    obj = from_dict(body)
    default_job(obj)
    generate_selector(obj)
    return obj


def pods(client) -> list[Message]:
    return [p for p in client.objects("Pod", "default") if not is_being_deleted(p)]


async def finish(run, pod: Message, phase: str, exit_code: int = 0, conditions: tuple = ()) -> None:
    pod = await run.client.get("Pod", pod.metadata.name, "default")
    pod.status.phase = phase
    cs = pod.status.container_statuses.add(name="c")
    cs.state.terminated.exit_code = 0 if phase == "Succeeded" else exit_code
    for type_ in conditions:
        pod.status.conditions.add(type=type_, status="True")
    await run.client.update_status(pod)


async def settle(run, times: int = 4) -> Message:
    for _ in range(times):
        await run.reconcile(KEY)
    return await run.client.get("Job", "work", "default")


def condition(j: Message, type_: str) -> tuple[str, str] | None:
    c = get_condition(j.status, type_)
    return (c.status, c.reason) if c is not None else None


async def test_non_indexed_job_runs_its_completions_one_at_a_time_then_completes() -> None:
    async with on_fake(JobController, job(completions=2)) as run:
        await run.reconcile(KEY)
        [first] = pods(run.client)
        assert FINALIZER_JOB_TRACKING in first.metadata.finalizers
        assert first.metadata.labels["batch.kubernetes.io/job-name"] == "work"
        assert first.metadata.owner_references[0].kind == "Job"
        await finish(run, first, "Succeeded")
        j = await settle(run, 2)
        assert j.status.succeeded == 1 and j.status.HasField("start_time")
        done = await run.client.get("Pod", first.metadata.name, "default")
        assert FINALIZER_JOB_TRACKING not in done.metadata.finalizers
        second = next(p for p in pods(run.client) if p.metadata.name != first.metadata.name)
        await finish(run, second, "Succeeded")
        j = await settle(run)
        assert condition(j, "SuccessCriteriaMet") == ("True", "CompletionsReached")
        assert condition(j, "Complete") == ("True", "CompletionsReached")
        assert j.status.HasField("completion_time") and j.status.active == 0 and j.status.succeeded == 2
        assert job_status_text(j) == "Complete" and job_completions_text(j) == "2/2"
        assert ("Normal", "Completed", "Job completed") in await run.events()


async def test_indexed_job_gives_each_pod_its_index_and_completes_when_all_indexes_do() -> None:
    async with on_fake(JobController, job(completions=3, parallelism=3, completionMode="Indexed")) as run:
        await run.reconcile(KEY)
        created = pods(run.client)
        by_index = {int(p.metadata.annotations[JOB_COMPLETION_INDEX]): p for p in created}
        assert sorted(by_index) == [0, 1, 2]
        for index, p in by_index.items():
            assert p.metadata.labels[JOB_COMPLETION_INDEX] == str(index)
            assert p.spec.hostname == f"work-{index}" and p.metadata.name.startswith(f"work-{index}-")
            env = {e.name: e.value_from.field_ref.field_path for e in p.spec.containers[0].env}
            assert env["JOB_COMPLETION_INDEX"] == f"metadata.annotations['{JOB_COMPLETION_INDEX}']"
        await finish(run, by_index[1], "Succeeded")
        j = await settle(run, 2)
        assert j.status.completed_indexes == "1" and len(pods(run.client)) == 3
        for index in (0, 2):
            await finish(run, by_index[index], "Succeeded")
        j = await settle(run)
        assert j.status.completed_indexes == "0-2" and condition(j, "Complete") == ("True", "CompletionsReached")


async def test_failures_back_off_then_stop_at_the_backoff_limit() -> None:
    async with on_fake(JobController, job(backoffLimit=1)) as run:
        start = time.time()
        run.controller.clock = lambda: start
        await run.reconcile(KEY)
        [first] = pods(run.client)
        await finish(run, first, "Failed", exit_code=1)
        j = await settle(run, 2)
        assert j.status.failed == 1 and condition(j, "Failed") is None
        assert [p for p in pods(run.client) if p.status.phase != "Failed"] == []  # waiting out 10 s
        run.controller.clock = lambda: start + 11
        await run.reconcile(KEY)
        [second] = [p for p in pods(run.client) if p.status.phase != "Failed"]
        await finish(run, second, "Failed", exit_code=1)
        j = await settle(run)
        assert j.status.failed == 2
        assert condition(j, "FailureTarget") == ("True", "BackoffLimitExceeded")
        assert condition(j, "Failed") == ("True", "BackoffLimitExceeded")
        assert get_condition(j.status, "Failed").message == "Job has reached the specified backoff limit"
        assert job_status_text(j) == "Failed" and not j.status.HasField("completion_time")


@pytest.mark.parametrize(("failures", "delay"), [(0, 0), (1, 10), (2, 20), (3, 40), (6, 320), (7, 360), (30, 360)])
def test_backoff_doubles_from_ten_seconds_up_to_six_minutes(failures: int, delay: float) -> None:
    assert backoff_delay(failures) == delay


async def test_pod_failure_policy_fails_the_job_on_a_matching_exit_code() -> None:
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}
    async with on_fake(JobController, job(podFailurePolicy=policy, parallelism=2, completions=4)) as run:
        await run.reconcile(KEY)
        first, second = pods(run.client)
        await finish(run, first, "Failed", exit_code=42)
        j = await settle(run)
        assert condition(j, "Failed") == ("True", "PodFailurePolicy")
        message = get_condition(j.status, "Failed").message
        assert message == (f"Container c for pod default/{first.metadata.name} failed with exit code 42 "
                           "matching FailJob rule at index 0")
        assert pods(run.client) == [p for p in pods(run.client) if p.status.phase == "Failed"]


async def test_pod_failure_policy_ignores_disruptions() -> None:
    policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
    async with on_fake(JobController, job(podFailurePolicy=policy, backoffLimit=0)) as run:
        await run.reconcile(KEY)
        [first] = pods(run.client)
        await finish(run, first, "Failed", exit_code=137, conditions=("DisruptionTarget",))
        j = await settle(run, 2)
        assert j.status.failed == 0 and condition(j, "Failed") is None
        assert len([p for p in pods(run.client) if p.status.phase != "Failed"]) == 1  # replaced at once


async def test_active_deadline_fails_the_job_and_deletes_its_pods() -> None:
    async with on_fake(JobController, job(activeDeadlineSeconds=30, parallelism=2, completions=2)) as run:
        start = time.time()
        run.controller.clock = lambda: start
        await run.reconcile(KEY)
        assert len(pods(run.client)) == 2
        run.controller.clock = lambda: start + 31
        await run.reconcile(KEY)
        j = await run.client.get("Job", "work", "default")
        assert condition(j, "FailureTarget") == ("True", "DeadlineExceeded")
        assert pods(run.client) == []


async def test_suspended_job_runs_nothing_until_resumed() -> None:
    async with on_fake(JobController, job(suspend=True)) as run:
        j = await settle(run, 1)
        assert pods(run.client) == [] and condition(j, "Suspended") == ("True", "JobSuspended")
        assert job_status_text(j) == "Suspended" and not j.status.HasField("start_time")
        j.spec.suspend = False
        await run.client.update(j)
        j = await settle(run, 1)
        assert condition(j, "Suspended") == ("False", "JobResumed") and len(pods(run.client)) == 1


async def test_suspending_a_running_job_stops_its_pods_without_counting_failures() -> None:
    async with on_fake(JobController, job(parallelism=2, completions=2)) as run:
        await run.reconcile(KEY)
        assert len(pods(run.client)) == 2
        j = await run.client.get("Job", "work", "default")
        j.spec.suspend = True
        await run.client.update(j)
        j = await settle(run, 3)
        assert pods(run.client) == [] and run.client.objects("Pod") == []
        assert j.status.failed == 0 and condition(j, "Suspended") == ("True", "JobSuspended")


async def test_backoff_limit_per_index_fails_indexes_then_the_job() -> None:
    spec = {"completions": 2, "parallelism": 2, "completionMode": "Indexed", "backoffLimitPerIndex": 0,
            "maxFailedIndexes": 0}
    async with on_fake(JobController, job(**spec)) as run:
        await run.reconcile(KEY)
        by_index = {int(p.metadata.annotations[JOB_COMPLETION_INDEX]): p for p in pods(run.client)}
        assert by_index[0].metadata.annotations["batch.kubernetes.io/job-index-failure-count"] == "0"
        await finish(run, by_index[0], "Failed", exit_code=1)
        j = await settle(run)
        assert j.status.failed_indexes == "0"
        assert condition(j, "Failed") == ("True", "MaxFailedIndexesExceeded")


async def test_success_policy_completes_the_job_early() -> None:
    spec = {"completions": 3, "parallelism": 3, "completionMode": "Indexed",
            "successPolicy": {"rules": [{"succeededIndexes": "0,2", "succeededCount": 1}]}}
    async with on_fake(JobController, job(**spec)) as run:
        await run.reconcile(KEY)
        by_index = {int(p.metadata.annotations[JOB_COMPLETION_INDEX]): p for p in pods(run.client)}
        await finish(run, by_index[2], "Succeeded")
        j = await settle(run)
        assert condition(j, "SuccessCriteriaMet") == ("True", "SuccessPolicy")
        assert condition(j, "Complete") == ("True", "SuccessPolicy")
        assert [p for p in pods(run.client) if p.status.phase not in ("Succeeded", "Failed")] == []


async def test_fail_index_rule_fails_only_that_index() -> None:
    spec = {"completions": 2, "parallelism": 2, "completionMode": "Indexed", "backoffLimitPerIndex": 3,
            "podFailurePolicy": {"rules": [{"action": "FailIndex",
                                            "onExitCodes": {"operator": "In", "values": [7]}}]}}
    async with on_fake(JobController, job(**spec)) as run:
        await run.reconcile(KEY)
        by_index = {int(p.metadata.annotations[JOB_COMPLETION_INDEX]): p for p in pods(run.client)}
        await finish(run, by_index[0], "Failed", exit_code=7)
        await finish(run, by_index[1], "Succeeded")
        j = await settle(run)
        assert (j.status.failed_indexes, j.status.completed_indexes) == ("0", "1")
        assert condition(j, "Failed") == ("True", "FailedIndexes")
        assert get_condition(j.status, "Failed").message == "Job has failed indexes"


async def test_pods_of_a_deleted_job_lose_their_tracking_finalizer() -> None:
    async with on_fake(JobController, job(parallelism=2, completions=2)) as run:
        await run.reconcile(KEY)
        assert len(pods(run.client)) == 2
        await run.client.delete("Job", "work", "default")
        for p in pods(run.client):
            await run.client.delete("Pod", p.metadata.name, "default")
        await run.reconcile(KEY)
        assert run.client.objects("Pod") == []  # nothing held them once the finalizer went


async def test_a_pod_is_counted_once_even_while_the_pod_cache_lags() -> None:
    async with on_fake(JobController, job(completions=3, parallelism=1)) as run:
        await run.reconcile(KEY)
        [first] = pods(run.client)
        await finish(run, first, "Succeeded")
        await run.synced()
        stale = run.controller.pods.store.get(f"default/{first.metadata.name}")
        await run.reconcile(KEY)  # counted, its finalizer removed
        # The pod watch lags behind the Job's: the cache still shows the finalizer.
        run.controller.pods.store._put(f"default/{first.metadata.name}", stale)
        await run.controller.reconcile(KEY)
        j = await run.client.get("Job", "work", "default")
        assert j.status.succeeded == 1


@pytest.mark.parametrize(("policy", "replaced"), [("TerminatingOrFailed", True), ("Failed", False)])
async def test_a_terminating_pod_is_replaced_at_once_unless_only_failed_pods_are(policy: str, replaced: bool) -> None:
    async with on_fake(JobController, job(podReplacementPolicy=policy)) as run:
        await run.reconcile(KEY)
        [first] = pods(run.client)
        first.spec.node_name = "n1"  # on a node, its deletion is graceful: it terminates for a while
        await run.client.update(first)
        await run.client.delete("Pod", first.metadata.name, "default")
        later = time.time() + 11
        run.controller.clock = lambda: later  # past the back-off of a failure
        j = await settle(run, 2)
        assert (len(pods(run.client)) == 1) == replaced
        assert j.status.terminating == 1


async def test_replacements_are_created_while_finalizers_go_counting_uncounted_successes() -> None:
    async with on_fake(JobController, job(completions=3, parallelism=2)) as run:
        await run.reconcile(KEY)
        first, second = pods(run.client)
        for pod in (first, second):
            await finish(run, pod, "Succeeded")
        await run.synced()
        update = run.client.update

        async def refuse_second(obj: Message, dry_run: bool = False) -> Message:
            if obj.metadata.name == second.metadata.name:
                raise api_error(grpc.StatusCode.UNAVAILABLE, "etcd is away")
            return await update(obj, dry_run)
        run.client.update = refuse_second
        with pytest.raises(grpc.aio.AioRpcError):
            await run.controller.reconcile(KEY)
        # Both successes are recorded (uncountedTerminatedPods): one pod is left to run, not two.
        j = await run.client.get("Job", "work", "default")
        assert sorted(j.status.uncounted_terminated_pods.succeeded) == sorted([first.metadata.uid, second.metadata.uid])
        assert len(pods(run.client)) == 3
        run.client.update = update
        j = await settle(run, 2)
        assert j.status.succeeded == 2 and not j.status.uncounted_terminated_pods.succeeded
        assert len(pods(run.client)) == 3
        [third] = [p for p in pods(run.client) if p.metadata.name not in (first.metadata.name, second.metadata.name)]
        await finish(run, third, "Succeeded")
        j = await settle(run)
        assert j.status.succeeded == 3 and condition(j, "Complete") == ("True", "CompletionsReached")
