"""skiffctl create job|cronjob, get, describe and wait for Jobs and CronJobs against a real apiserver."""

from __future__ import annotations

import json
import uuid

import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.skiffctl import run_skiffctl, skiffctl_env


@pytest.fixture
async def ns(client: Client) -> str:
    name = f"cli-batch-{uuid.uuid4().hex[:6]}"
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    return name


@pytest.fixture
def ctl(apiserver, tmp_path, ns):
    env = skiffctl_env(apiserver.target, tmp_path, namespace=ns)

    async def run(*args: str):
        return await run_skiffctl(env, *args)
    return run


async def test_create_job_with_a_command(ctl):
    created = await ctl("create", "job", "hello", "--image", "busybox:1", "--", "echo", "hi")
    assert (created.code, created.out, created.err) == (0, "job.batch/hello created\n", "")
    job = json.loads((await ctl("get", "job", "hello", "-o", "json")).out)
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["containers"][0] == {**pod["containers"][0], "name": "hello", "image": "busybox:1",
                                    "command": ["echo", "hi"]}
    assert job["spec"]["backoffLimit"] == 6 and job["spec"]["completions"] == 1
    assert job["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "hello"
    listed = await ctl("get", "jobs")
    assert listed.out.split("\n")[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert listed.out.split("\n")[1].split()[:3] == ["hello", "Running", "0/1"]
    both = await ctl("create", "job", "x", "--image", "a", "--from", "cronjob/y")
    assert (both.code, both.err) == (1, "error: either --image or --from must be specified\n")


async def test_create_cronjob_then_a_job_from_it(ctl):
    created = await ctl("create", "cronjob", "tick", "--image", "busybox:1", "--schedule", "*/5 * * * *",
                        "--", "date")
    assert (created.code, created.out) == (0, "cronjob.batch/tick created\n"), created.err
    listed = await ctl("get", "cj")
    header, row = listed.out.splitlines()[:2]
    assert header.split() == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]
    assert row.split()[:9] == ["tick", "*/5", "*", "*", "*", "*", "<none>", "False", "0"]
    manual = await ctl("create", "job", "tick-manual", "--from=cronjob/tick")
    assert (manual.code, manual.out) == (0, "job.batch/tick-manual created\n"), manual.err
    job = json.loads((await ctl("get", "job", "tick-manual", "-o", "json")).out)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    described = await ctl("describe", "cronjob", "tick")
    assert described.code == 0, described.err
    assert "Schedule:" in described.out and "*/5 * * * *" in described.out
    assert "Concurrency Policy:" in described.out and "Allow" in described.out
    job_text = (await ctl("describe", "job", "tick-manual")).out
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in job_text.splitlines() if ":" in line}
    assert lines["Controlled By"] == "CronJob/tick"
    assert lines["Pods Statuses"] == "0 Active (0 Ready) / 0 Succeeded / 0 Failed"


async def test_invalid_schedule_is_refused_with_the_field_path(ctl):
    bad = await ctl("create", "cronjob", "bad", "--image", "busybox:1", "--schedule", "61 * * * *")
    assert bad.code == 1
    assert 'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61' in bad.err
    restart = await ctl("create", "cronjob", "bad", "--image", "x", "--schedule", "@daily", "--restart", "Always")
    assert (restart.code, restart.err) == (1, "error: invalid restart policy: Always\n")


async def test_wait_for_a_job_to_complete(ctl, client: Client, ns: str):
    await ctl("create", "job", "done", "--image", "busybox:1")
    job = await client.get("Job", "done", ns)
    cond = job.status.conditions.add(type="Complete", status="True", reason="CompletionsReached")
    cond.last_transition_time.GetCurrentTime()
    await client.update_status(job)
    waited = await ctl("wait", "--for=condition=complete", "job/done", "--timeout=10s")
    assert (waited.code, waited.out) == (0, "job.batch/done condition met\n"), waited.err
    assert (await ctl("get", "job", "done", "--no-headers")).out.split()[1] == "Complete"
