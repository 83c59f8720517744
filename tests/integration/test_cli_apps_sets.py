"""skiffctl for DaemonSets and StatefulSets against a real apiserver and controller manager:
rollout status|history|undo, scale, get all, describe."""

from __future__ import annotations

import grpc
import pytest

from control.client.convert import from_dict
from control.client.informer import copy_of
from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually
from tests.fixtures.skiffctl import run_skiffctl, skiffctl_env

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def ctl(apiserver, client, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)
    async with running_controllers(apiserver.target, ["daemonset", "statefulset"]):
        yield lambda *args: run_skiffctl(env, *args, timeout=40)
    for kind, name in (("DaemonSet", "logs"), ("StatefulSet", "db")):
        try:
            await client.delete(kind, name, "default")
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise


def workload(kind: str, name: str, image: str, **spec) -> object:
    return from_dict({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "default"},
                      "spec": {"selector": {"matchLabels": {"app": name}}, **spec,
                               "template": {"metadata": {"labels": {"app": name}},
                                            "spec": {"containers": [{"name": "c", "image": image}]}}}})


async def revisions_of(client, name: str) -> list[int]:
    items, _ = await client.list_all("ControllerRevision", "default")
    return sorted(r.revision for r in items if r.metadata.owner_references
                  and r.metadata.owner_references[0].name == name)


async def set_image(client, kind: str, name: str, image: str) -> None:
    """Changes the template, again from a fresh read when the controller wrote status in between."""
    for _ in range(5):
        obj = copy_of(await client.get(kind, name, "default"))
        obj.spec.template.spec.containers[0].image = image
        try:
            await client.update(obj)
            return
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ABORTED:
                raise
    raise AssertionError(f"could not update {kind} {name}")


@pytest.mark.parametrize("kind,name,qualified", [("DaemonSet", "logs", "daemonset.apps"),
                                                 ("StatefulSet", "db", "statefulset.apps")])
async def test_rollout_history_and_undo(ctl, client, kind, name, qualified):
    extra = {"serviceName": name, "replicas": 0} if kind == "StatefulSet" else {}
    await client.create(workload(kind, name, "busybox:1", **extra))
    await eventually(lambda: _equals(revisions_of(client, name), [1]), timeout=20, what="revision 1")
    await set_image(client, kind, name, "busybox:2")
    await eventually(lambda: _equals(revisions_of(client, name), [1, 2]), timeout=20, what="revision 2")
    history = await ctl("rollout", "history", f"{kind.lower()}/{name}")
    assert history.code == 0, history.err
    assert history.out.splitlines() == [f"{qualified}/{name} ", "REVISION  CHANGE-CAUSE", "1         <none>",
                                           "2         <none>", ""]
    one = await ctl("rollout", "history", f"{kind.lower()}/{name}", "--revision", "1")
    assert one.out.startswith(f"{qualified}/{name} with revision #1\nPod Template:\n")
    assert "image: busybox:1" in one.out and "controller-revision-hash" not in one.out
    undo = await ctl("rollout", "undo", f"{kind.lower()}/{name}")
    assert (undo.code, undo.out) == (0, f"{qualified}/{name} rolled back\n")
    obj = await client.get(kind, name, "default")
    assert obj.spec.template.spec.containers[0].image == "busybox:1"
    await eventually(lambda: _equals(revisions_of(client, name), [2, 3]), timeout=20,
                     what="revision 1 renumbered as 3")
    again = await ctl("rollout", "undo", f"{kind.lower()}/{name}", "--to-revision", "3")
    assert again.out == f"{qualified}/{name} skipped rollback (current template already matches revision 3)\n"
    missing = await ctl("rollout", "undo", f"{kind.lower()}/{name}", "--to-revision", "9")
    assert (missing.code, missing.err) == (1, "error: unable to find specified revision 9 in history\n")


async def _equals(value, expected) -> bool:
    return await value == expected


async def test_rollout_status_scale_get_all_and_describe(ctl, client):
    await client.create(workload("StatefulSet", "db", "busybox:1", serviceName="db", replicas=2))
    waiting = await ctl("rollout", "status", "sts/db", "--timeout", "2s")
    assert waiting.code == 1
    assert "Waiting for 2 pods to be ready..." in waiting.out
    assert waiting.err == "error: timed out waiting for the condition\n"
    scaled = await ctl("scale", "statefulset/db", "--replicas", "0")
    assert (scaled.code, scaled.out) == (0, "statefulset.apps/db scaled\n")

    async def done() -> bool:
        result = await ctl("rollout", "status", "statefulset/db", "--timeout", "5s")
        return result.code == 0 and result.out.endswith(
            "partitioned roll out complete: 0 new pods have been updated...\n")
    await eventually(done, timeout=30, what="rollout status complete after scaling to 0")
    listing = await ctl("get", "all")  # the only object of the category: printed without its kind
    assert ["db", "0/0"] in [line.split()[-3:-1] for line in listing.out.splitlines()]
    described = await ctl("describe", "sts", "db")
    assert "Replicas:" in described.out and "0 desired | 0 total" in described.out
    assert "Update Strategy:" in described.out and "Partition:" in described.out
    await client.create(workload("DaemonSet", "logs", "busybox:1"))
    ds = await ctl("get", "ds", "logs")
    assert ds.out.splitlines()[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE",
                                                 "NODE", "SELECTOR", "AGE"]
    described = await ctl("describe", "daemonset/logs")
    assert "Desired Number of Nodes Scheduled:" in described.out
    assert "deprecated.daemonset.template.generation: 1" in described.out
    paused = await ctl("rollout", "pause", "ds/logs")
    assert (paused.code, paused.err) == (1, 'error: daemonsets.apps "logs" pausing is not supported\n')
