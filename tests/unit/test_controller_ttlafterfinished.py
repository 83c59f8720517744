"""The TTL-after-finished controller's reconcile(key) on the fake client."""

from __future__ import annotations

import time

from google.protobuf.message import Message

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.ttlafterfinished import TTLAfterFinishedController

KEY = "default/done"
FINISHED = 1_800_000_000


def job(ttl: int | None, condition: str = "Complete") -> Message:
    spec = {} if ttl is None else {"ttlSecondsAfterFinished": ttl}
    status = {"conditions": [{"type": condition, "status": "True",
                              "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(FINISHED))}]}
    return from_dict({"apiVersion": "batch/v1", "kind": "Job",
                      "metadata": {"name": "done", "namespace": "default"}, "spec": spec, "status": status})


async def test_a_finished_job_goes_once_its_ttl_has_passed() -> None:
    async with on_fake(TTLAfterFinishedController, job(60)) as run:
        run.controller.clock = lambda: FINISHED + 30
        await run.reconcile(KEY)
        assert len(run.client.objects("Job")) == 1
        run.controller.clock = lambda: FINISHED + 61
        await run.reconcile(KEY)
        assert ("delete", "Job", KEY) in run.client.actions


async def test_failed_jobs_expire_too_but_not_running_ones_or_those_without_ttl() -> None:
    async with on_fake(TTLAfterFinishedController, job(0, "Failed")) as run:
        run.controller.clock = lambda: FINISHED
        await run.reconcile(KEY)
        assert ("delete", "Job", KEY) in run.client.actions
    for obj in (job(None), job(0, "Suspended")):
        async with on_fake(TTLAfterFinishedController, obj) as run:
            run.controller.clock = lambda: FINISHED + 1000
            await run.reconcile(KEY)
            assert not any(verb == "delete" for verb, _, _ in run.client.actions)
