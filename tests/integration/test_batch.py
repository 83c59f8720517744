"""Jobs and CronJobs against a real apiserver, the controller manager's job, cronjob and
ttl-after-finished controllers and the scheduler, with hollow nodes: the test plays the kubelet by
writing the status of pods bound to its nodes (Succeeded or Failed); no container runs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.message import Message

from control.client.client import Client
from control.client.convert import from_dict
from control.client.wellknown import FINALIZER_JOB_TRACKING, JOB_COMPLETION_INDEX, get_condition
from control.scheduler.scheduler import Scheduler
from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually

CONTAINER = {"name": "c", "image": "busybox:1"}
CONTROLLERS = ["job", "cronjob", "ttl-after-finished", "garbagecollector"]


def node(name: str) -> Message:
    return from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                      "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                                 "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                                 "conditions": [{"type": "Ready", "status": "True"}]}})


@pytest.fixture
async def cluster(apiserver, client: Client) -> AsyncIterator[tuple[Client, str, object]]:
    """A namespace of its own, two hollow nodes, the scheduler, the batch controllers and the garbage
    collector (which finishes the TTL controller's foreground deletions)."""
    ns = f"batch-{uuid.uuid4().hex[:6]}"
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
    names = [f"{ns}-n{i}" for i in range(2)]
    for name in names:
        created = await client.create(node(name))
        created.status.CopyFrom(node(name).status)
        await client.update_status(created)
    sched_client = Client(apiserver.target)
    scheduler = Scheduler(sched_client)
    task = asyncio.create_task(scheduler.run())
    try:
        async with running_controllers(apiserver.target, CONTROLLERS) as manager:
            await eventually(lambda: _started(manager), timeout=10, what="controllers started")
            yield client, ns, manager
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await sched_client.close()
        for name in names:
            await _ignore_missing(client.delete("Node", name))


async def _started(manager) -> bool:
    return set(CONTROLLERS) <= set(manager.controllers)


async def _ignore_missing(call) -> None:
    try:
        await call
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise


async def bound_pods(client: Client, ns: str, phase: str = "Pending") -> list[Message]:
    pods, _ = await client.list_all("Pod", ns)
    return [p for p in pods if p.spec.node_name and p.status.phase in (phase, "")]


async def finish(client: Client, pod: Message, phase: str, exit_code: int = 0) -> None:
    """The kubelet's part: the pod ran on its node and ended."""
    pod = await client.get("Pod", pod.metadata.name, pod.metadata.namespace)
    pod.status.phase = phase
    cs = pod.status.container_statuses.add(name="c", image="busybox:1", ready=False)
    cs.state.terminated.exit_code = exit_code
    cs.state.terminated.reason = "Completed" if phase == "Succeeded" else "Error"
    cs.state.terminated.finished_at.GetCurrentTime()
    await client.update_status(pod)


def job(name: str, ns: str, **spec) -> Message:
    return from_dict({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": ns},
                      "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [CONTAINER]}},
                               **spec}})


async def condition(client: Client, name: str, ns: str, type_: str) -> Message | None:
    j = await client.get("Job", name, ns)
    c = get_condition(j.status, type_)
    return c if c is not None and c.status == "True" else None


async def test_indexed_job_runs_every_index_to_completion(cluster):
    client, ns, _ = cluster
    await client.create(job("idx", ns, completions=3, parallelism=2, completionMode="Indexed"))
    done: set[int] = set()

    async def run_pods() -> bool:
        for pod in await bound_pods(client, ns):
            index = int(pod.metadata.annotations[JOB_COMPLETION_INDEX])
            assert pod.spec.hostname == f"idx-{index}"
            await finish(client, pod, "Succeeded")
            done.add(index)
        return await condition(client, "idx", ns, "Complete") is not None

    await eventually(run_pods, timeout=30, what="indexed job complete")
    j = await client.get("Job", "idx", ns)
    assert done == {0, 1, 2}
    assert j.status.completed_indexes == "0-2" and j.status.succeeded == 3 and j.status.active == 0
    assert j.status.HasField("completion_time")
    assert get_condition(j.status, "SuccessCriteriaMet").reason == "CompletionsReached"
    pods, _ = await client.list_all("Pod", ns)
    assert all(FINALIZER_JOB_TRACKING not in p.metadata.finalizers for p in pods)


async def test_failing_job_backs_off_and_stops_at_its_backoff_limit(cluster):
    client, ns, _ = cluster
    await client.create(job("flaky", ns, backoffLimit=1))
    failed_at: list[float] = []

    async def fail_pods() -> bool:
        for pod in await bound_pods(client, ns):
            await finish(client, pod, "Failed", exit_code=3)
            failed_at.append(time.monotonic())
        return await condition(client, "flaky", ns, "Failed") is not None

    await eventually(fail_pods, timeout=40, what="job failed")
    j = await client.get("Job", "flaky", ns)
    failed = get_condition(j.status, "Failed")
    assert (failed.reason, failed.message) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert j.status.failed == 2 and j.status.active == 0 and len(failed_at) == 2
    assert failed_at[1] - failed_at[0] >= 9  # the second pod came after the 10 s back-off
    events, _ = await client.list_all("Event", ns)
    assert any(e.reason == "BackoffLimitExceeded" and e.involved_object.name == "flaky" for e in events)


async def test_finished_job_goes_after_its_ttl(cluster):
    client, ns, _ = cluster
    await client.create(job("brief", ns, ttlSecondsAfterFinished=0))

    async def gone() -> bool:
        for pod in await bound_pods(client, ns):
            await finish(client, pod, "Succeeded")
        try:
            await client.get("Job", "brief", ns)
        except grpc.aio.AioRpcError as e:
            return e.code() == grpc.StatusCode.NOT_FOUND
        return False

    await eventually(gone, timeout=30, what="job deleted after its TTL")

    async def no_pods() -> bool:
        return (await client.list_all("Pod", ns))[0] == []

    await eventually(no_pods, timeout=15, what="the job's pods deleted with it")


def cronjob(name: str, ns: str, policy: str) -> Message:
    return from_dict({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": ns},
                      "spec": {"schedule": "* * * * *", "concurrencyPolicy": policy, "jobTemplate": {"spec": {
                          "template": {"spec": {"restartPolicy": "OnFailure", "containers": [CONTAINER]}}}}}})


async def job_names(client: Client, ns: str) -> list[str]:
    jobs, _ = await client.list_all("Job", ns)
    return sorted(j.metadata.name for j in jobs if not j.metadata.HasField("deletion_timestamp"))


async def poke(client: Client, name: str, ns: str, value: str) -> None:
    """Any change to the CronJob brings it back to the controller (after the test moved its clock)."""
    for attempt in range(5):  # the controller writes its status meanwhile
        cj = await client.get("CronJob", name, ns)
        cj.metadata.labels["poke"] = value
        try:
            await client.update(cj)
            return
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ABORTED or attempt == 4:
                raise


@pytest.mark.parametrize("policy", ["Forbid", "Replace"])
async def test_cronjob_starts_a_job_when_its_schedule_fires(cluster, policy: str):
    client, ns, manager = cluster
    controller = manager.controllers["cronjob"]
    cj = await client.create(cronjob("tick", ns, policy))
    # Minutes counted from the creation itself, so that a minute boundary passing meanwhile changes nothing.
    first_minute = int(cj.metadata.creation_timestamp.seconds) // 60 + 1
    controller.clock = lambda: first_minute * 60 + 1  # the next minute has come
    await poke(client, "tick", ns, "0")
    await eventually(lambda: _names_are(client, ns, [f"tick-{first_minute}"]), timeout=15, what="first job")
    created = await client.get("Job", f"tick-{first_minute}", ns)
    assert created.metadata.owner_references[0].name == "tick"
    assert created.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"].endswith("Z")
    async def recorded_active() -> bool:  # the controller's status write is done before the next poke
        return [r.name for r in (await client.get("CronJob", "tick", ns)).status.active] == [f"tick-{first_minute}"]
    await eventually(recorded_active, timeout=15, what="the first job in status.active")
    controller.clock = lambda: (first_minute + 1) * 60 + 1  # one more minute: the first job still runs
    await poke(client, "tick", ns, "1")
    if policy == "Forbid":
        await eventually(lambda: _event(client, ns, "JobAlreadyActive"), timeout=15, what="JobAlreadyActive")
        assert await job_names(client, ns) == [f"tick-{first_minute}"]
    else:
        await eventually(lambda: _names_are(client, ns, [f"tick-{first_minute + 1}"]), timeout=15,
                         what="the running job replaced")
    async def status_caught_up() -> bool:  # the controller writes its status after the jobs it changed
        cj = await client.get("CronJob", "tick", ns)
        return [r.name for r in cj.status.active] == await job_names(client, ns) and \
            cj.status.HasField("last_schedule_time")
    await eventually(status_caught_up, timeout=15, what="status.active and lastScheduleTime as the jobs are")


async def _names_are(client: Client, ns: str, names: list[str]) -> bool:
    return await job_names(client, ns) == names


async def _event(client: Client, ns: str, reason: str) -> bool:
    events, _ = await client.list_all("Event", ns)
    return any(e.reason == reason for e in events)
