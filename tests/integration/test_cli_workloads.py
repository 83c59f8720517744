"""skiffctl scale, rollout status|history|undo, cordon, uncordon and drain against a real apiserver."""

from __future__ import annotations

import asyncio
import re
import sys

import pytest

from control.client.convert import from_dict
from tests.fixtures.procs import eventually
from tests.fixtures.skiffctl import ROOT, Result, run_skiffctl, skiffctl_env


@pytest.fixture
def env(apiserver, tmp_path):
    return skiffctl_env(apiserver.target, tmp_path)


@pytest.fixture
def ctl(env):
    def start(*args: str) -> asyncio.Task:
        return asyncio.ensure_future(_run(env, args))
    return start


async def _run(env, args, timeout: float = 40) -> Result:
    return await run_skiffctl(env, *args, timeout=timeout)


def template(app: str, image: str, extra_labels: dict | None = None) -> dict:
    return {"metadata": {"labels": {"app": app, **(extra_labels or {})}},
            "spec": {"containers": [{"name": "web", "image": image}]}}


def deployment(name: str, image: str, replicas: int = 2) -> object:
    return from_dict({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": name, "namespace": "default"},
                      "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                               "template": template(name, image)}})


async def replicaset(client, d, revision: int, image: str, cause: str = ""):
    name = f"{d.metadata.name}-r{revision}"
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if cause:
        annotations["kubernetes.io/change-cause"] = cause
    return await client.create(from_dict({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": d.metadata.name,
                                          "uid": d.metadata.uid, "controller": True}]},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": d.metadata.name, "pod-template-hash": name}},
                 "template": template(d.metadata.name, image, {"pod-template-hash": name})}}))


async def test_scale(ctl, client):
    await client.create(deployment("sc", "nginx:1"))
    result = await ctl("scale", "deploy/sc", "--replicas", "5")
    assert (result.code, result.out) == (0, "deployment.apps/sc scaled\n")
    assert (await client.get("deploy", "sc", "default")).spec.replicas == 5
    wrong = await ctl("scale", "deployment", "sc", "--replicas", "1", "--current-replicas", "3")
    assert wrong.code == 1 and "Expected replicas to be 3, was 5" in wrong.err
    assert (await client.get("deploy", "sc", "default")).spec.replicas == 5
    missing = await ctl("scale", "rs/none", "--replicas", "1")
    assert missing.code == 1 and "NotFound" in missing.err


async def test_rollout_history_and_undo(ctl, client):
    d = await client.create(deployment("roll", "nginx:2"))
    await replicaset(client, d, 1, "nginx:1", cause="first")
    await replicaset(client, d, 2, "nginx:2")
    history = await ctl("rollout", "history", "deploy/roll")
    assert history.code == 0, history.err
    assert history.out.splitlines() == ["deployment.apps/roll ", "REVISION  CHANGE-CAUSE", "1         first",
                                        "2         <none>", ""]
    one = await ctl("rollout", "history", "deploy/roll", "--revision", "1")
    assert one.out.startswith("deployment.apps/roll with revision #1\nPod Template:\n")
    assert "image: nginx:1" in one.out and "pod-template-hash" not in one.out
    described = (await ctl("describe", "deploy", "roll")).out
    assert "Replicas:" in described and "2 desired" in described
    assert re.search(r"^NewReplicaSet:\s+roll-r2 \(0/0 replicas created\)$", described, re.M)
    assert re.search(r"^StrategyType:\s+RollingUpdate$", described, re.M)
    undo = await ctl("rollout", "undo", "deployment/roll")
    assert (undo.code, undo.out) == (0, "deployment.apps/roll rolled back\n"), undo.err
    live = await client.get("deploy", "roll", "default")
    assert live.spec.template.spec.containers[0].image == "nginx:1"
    assert dict(live.spec.template.metadata.labels) == {"app": "roll"}
    assert live.metadata.annotations["kubernetes.io/change-cause"] == "first"
    back = await ctl("rollout", "undo", "deploy/roll", "--to-revision", "2")
    assert back.out == "deployment.apps/roll rolled back\n"
    assert (await client.get("deploy", "roll", "default")).spec.template.spec.containers[0].image == "nginx:2"
    same = await ctl("rollout", "undo", "deploy/roll", "--to-revision", "2")
    assert "skipped rollback" in same.out
    missing = await ctl("rollout", "undo", "deploy/roll", "--to-revision", "9")
    assert missing.code == 1 and "unable to find specified revision 9" in missing.err


async def _set_status(client, name: str, **status):
    d = await client.get("deploy", name, "default")
    d.status.Clear()
    for key, value in status.items():
        if key == "conditions":
            for cond in value:
                d.status.conditions.add(**cond)
        else:
            setattr(d.status, key, value)
    await client.update_status(d)


async def test_rollout_status_follows_progress(env, client):
    await client.create(deployment("st", "nginx:1", replicas=2))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "control.cli.main", "rollout", "status", "deploy/st", "--timeout", "30s", cwd=ROOT,
        env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert first.decode() == "Waiting for deployment spec update to be observed...\n"
        await _set_status(client, "st", observed_generation=1, replicas=2, updated_replicas=2, ready_replicas=1,
                          available_replicas=1)
        progress = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert progress.decode() == \
            'Waiting for deployment "st" rollout to finish: 1 of 2 updated replicas are available...\n'
        await _set_status(client, "st", observed_generation=1, replicas=2, updated_replicas=2, ready_replicas=2,
                          available_replicas=2)
        rest, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err
    assert rest.decode() == 'deployment "st" successfully rolled out\n'


async def test_rollout_status_fails_on_deadline_and_timeout(ctl, client):
    await client.create(deployment("stuck", "nginx:1", replicas=2))
    timed_out = await ctl("rollout", "status", "deploy/stuck", "--timeout", "3s")
    assert timed_out.code == 1
    assert timed_out.out == "Waiting for deployment spec update to be observed...\n"
    assert "timed out waiting for the condition" in timed_out.err
    await _set_status(client, "stuck", observed_generation=1, replicas=2, updated_replicas=1, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}])
    failed = await ctl("rollout", "status", "deploy/stuck")
    assert failed.code == 1 and 'deployment "stuck" exceeded its progress deadline' in failed.err


async def _node(client, name: str):
    await client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}))
    node = await client.get("no", name)
    node.status.conditions.add(type="Ready", status="True")
    await client.update_status(node)


async def test_cordon_uncordon(ctl, client):
    await _node(client, "cn-1")
    result = await ctl("cordon", "cn-1")
    assert (result.code, result.out) == (0, "node/cn-1 cordoned\n")
    assert (await client.get("no", "cn-1")).spec.unschedulable
    table = await ctl("get", "nodes", "cn-1")
    assert table.out.splitlines()[1].split()[:2] == ["cn-1", "Ready,SchedulingDisabled"]
    assert (await ctl("cordon", "cn-1")).out == "node/cn-1 already cordoned\n"
    described = (await ctl("describe", "node", "cn-1")).out
    assert "Unschedulable:" in described and "true" in described and "Ready,SchedulingDisabled" in described
    assert (await ctl("uncordon", "cn-1")).out == "node/cn-1 uncordoned\n"
    assert not (await client.get("no", "cn-1")).spec.unschedulable
    missing = await ctl("cordon", "nope")
    assert missing.code == 1 and missing.err == 'Error from server (NotFound): nodes "nope" not found\n'


def _pod(name: str, node: str, owner_kind: str = ""):
    meta = {"name": name, "namespace": "default"}
    if owner_kind:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner_kind, "name": "owner",
                                    "uid": f"uid-{name}", "controller": True}]
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                      "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}})


async def test_drain(ctl, client):
    await _node(client, "dn-1")
    await client.create(_pod("dn-managed", "dn-1", "ReplicaSet"))
    await client.create(_pod("dn-bare", "dn-1"))
    await client.create(_pod("dn-daemon", "dn-1", "DaemonSet"))
    await client.create(_pod("elsewhere", "dn-2"))
    refused = await ctl("drain", "dn-1")
    assert refused.code == 1
    assert "cannot delete Pods that declare no controller (use --force to override): default/dn-bare" in refused.err
    assert "cannot delete DaemonSet-managed Pods" in refused.err
    assert not (await client.get("po", "dn-managed", "default")).metadata.HasField("deletion_timestamp")
    task = ctl("drain", "dn-1", "--force", "--ignore-daemonsets", "--timeout", "30s")

    async def terminating() -> bool:
        pods = [await client.get("po", n, "default") for n in ("dn-managed", "dn-bare")]
        return all(p.metadata.HasField("deletion_timestamp") for p in pods)
    await eventually(terminating, timeout=20, what="pods marked for deletion")
    assert not task.done()  # drain waits until the pods are really gone
    for name in ("dn-managed", "dn-bare"):  # what the node's agent does once the containers stopped
        await client.delete("po", name, "default", grace_period_seconds=0)
    result = await task
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "node/dn-1 cordoned" or lines[0] == "node/dn-1 already cordoned"
    assert set(lines[1:3]) == {"evicting pod default/dn-managed", "evicting pod default/dn-bare"}
    assert set(lines[3:5]) == {"pod/dn-managed evicted", "pod/dn-bare evicted"}
    assert lines[5] == "node/dn-1 drained"
    assert "ignoring DaemonSet-managed Pods: default/dn-daemon" in result.err
    assert (await client.get("no", "dn-1")).spec.unschedulable
    assert not (await client.get("po", "dn-daemon", "default")).metadata.HasField("deletion_timestamp")
    assert not (await client.get("po", "elsewhere", "default")).metadata.HasField("deletion_timestamp")


async def test_wait(ctl, client):
    await client.create(deployment("waited", "nginx:1", replicas=1))
    task = ctl("wait", "--for=condition=Available", "deploy/waited", "--timeout", "30s")
    await _set_status(client, "waited", observed_generation=1, replicas=1, updated_replicas=1, ready_replicas=1,
                      available_replicas=1, conditions=[{"type": "Available", "status": "True"}])
    result = await task
    assert (result.code, result.out) == (0, "deployment.apps/waited condition met\n"), result.err
    by_path = await ctl("wait", "--for=jsonpath={.status.readyReplicas}=1", "deploy/waited")
    assert by_path.out == "deployment.apps/waited condition met\n"
    timed_out = await ctl("wait", "--for=condition=Progressing", "deploy/waited", "--timeout", "1s")
    assert timed_out.code == 1
    assert timed_out.err == "error: timed out waiting for the condition on deployments/waited\n"
    gone = ctl("wait", "--for=delete", "deployment/waited", "--timeout", "30s")
    await client.delete("deploy", "waited", "default")
    assert (await gone).out == "deployment.apps/waited condition met\n"


async def test_rollout_restart_pause_resume(ctl, client):
    await client.create(deployment("rr", "nginx:1"))
    assert (await ctl("rollout", "restart", "deploy/rr")).out == "deployment.apps/rr restarted\n"
    live = await client.get("deploy", "rr", "default")
    assert "kubectl.kubernetes.io/restartedAt" in live.spec.template.metadata.annotations
    assert (await ctl("rollout", "pause", "deploy/rr")).out == "deployment.apps/rr paused\n"
    assert (await client.get("deploy", "rr", "default")).spec.paused
    assert (await ctl("rollout", "pause", "deploy/rr")).out == "deployment.apps/rr already paused\n"
    refused = await ctl("rollout", "undo", "deploy/rr")
    assert refused.code == 1 and "you cannot rollback a paused deployment" in refused.err
    assert (await ctl("rollout", "resume", "deploy/rr")).out == "deployment.apps/rr resumed\n"
    assert not (await client.get("deploy", "rr", "default")).spec.paused
