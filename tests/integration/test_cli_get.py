"""skiffctl get (tables, -o json|yaml|name|wide, -A, -l, --field-selector, -w) and describe."""

from __future__ import annotations

import asyncio
import json
import sys

import grpc
import pytest
import yaml

from control.client.convert import from_dict
from tests.fixtures.skiffctl import ROOT, Result, run_skiffctl, skiffctl_env


@pytest.fixture
def env(apiserver, tmp_path):
    return skiffctl_env(apiserver.target, tmp_path, namespace="default")


async def _spawn(env, *args: str):
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "control.cli.main", *args, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


@pytest.fixture
def ctl(env):
    async def run(*args: str, timeout: float = 30) -> Result:
        return await run_skiffctl(env, *args, timeout=timeout)
    return run


def pod(name: str, namespace: str = "default", labels: dict | None = None, node: str = ""):
    spec = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return from_dict({"apiVersion": "v1", "kind": "Pod", "spec": spec,
                      "metadata": {"name": name, "namespace": namespace, "labels": labels or {}}})


@pytest.fixture
async def pods(client):
    """Two pods in `default`, one in `get-other`, with a status the agent would have written."""
    try:
        await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "get-other"}}))
    except grpc.aio.AioRpcError as e:  # made by an earlier test in this module
        assert e.code() == grpc.StatusCode.ALREADY_EXISTS
    a = await client.create(pod("get-a", labels={"app": "web"}, node="node-1"))
    a.status.phase = "Running"
    a.status.pod_ip = "10.244.1.7"
    a.status.container_statuses.add(name="c", ready=True, restart_count=2).state.running.SetInParent()
    await client.update_status(a)
    b = await client.create(pod("get-b", labels={"app": "db"}))
    b.status.phase = "Pending"
    b.status.container_statuses.add(name="c").state.waiting.reason = "ContainerCreating"
    await client.update_status(b)
    await client.create(pod("get-c", "get-other", labels={"app": "web"}))
    yield
    for ns, name in (("default", "get-a"), ("default", "get-b"), ("get-other", "get-c")):
        await client.delete("po", name, ns, grace_period_seconds=0)


async def test_get_table_wide_and_short_names(ctl, pods):
    table = await ctl("get", "po")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["get-a"][1:4] == ["1/1", "Running", "2"]
    assert rows["get-b"][1:4] == ["0/1", "ContainerCreating", "0"]
    assert "get-c" not in rows
    wide = await ctl("get", "pods", "get-a", "-o", "wide")
    assert wide.out.splitlines()[1].split()[5:8] == ["10.244.1.7", "node-1", "<none>"]
    assert (await ctl("get", "pod/get-a", "po/get-b", "-o", "name")).out == "pod/get-a\npod/get-b\n"


async def test_get_all_namespaces_and_selectors(ctl, pods):
    everywhere = await ctl("get", "po", "-A", "-l", "app=web")
    lines = everywhere.out.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert sorted((line.split()[0], line.split()[1]) for line in lines[1:]) == \
        [("default", "get-a"), ("get-other", "get-c")]
    by_field = await ctl("get", "po", "--field-selector", "spec.nodeName=node-1", "-o", "name")
    assert by_field.out == "pod/get-a\n"
    other = await ctl("get", "po", "-n", "get-other", "-o", "name")
    assert other.out == "pod/get-c\n"
    none = await ctl("get", "po", "-l", "app=nothing")
    assert (none.code, none.out, none.err) == (0, "", "No resources found in default namespace.\n")


async def test_get_json_round_trips_and_yaml(ctl, client, pods):
    one = await ctl("get", "po", "get-a", "-o", "json", "--show-managed-fields")
    data = json.loads(one.out)
    assert list(data)[:5] == ["apiVersion", "kind", "metadata", "spec", "status"]
    assert from_dict(data) == await client.get("po", "get-a", "default")
    assert data["metadata"]["managedFields"]  # who wrote what; left out unless asked for, as by kubectl
    assert "managedFields" not in json.loads((await ctl("get", "po", "get-a", "-o", "json")).out)["metadata"]
    many = json.loads((await ctl("get", "po", "-o", "json")).out)
    assert many["kind"] == "List" and many["apiVersion"] == "v1"
    assert many["metadata"] == {"resourceVersion": ""}
    assert sorted(i["metadata"]["name"] for i in many["items"]) == ["get-a", "get-b"]
    as_yaml = yaml.safe_load((await ctl("get", "po", "get-b", "-o", "yaml", "--show-managed-fields")).out)
    assert as_yaml["kind"] == "Pod" and as_yaml["status"]["phase"] == "Pending"
    assert from_dict(as_yaml) == await client.get("po", "get-b", "default")
    ip = await ctl("get", "po", "get-a", "-o", "jsonpath={.status.podIP}")
    assert ip.out == "10.244.1.7"
    names = await ctl("get", "po", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}")
    assert sorted(names.out.splitlines()) == ["get-a", "get-b"]
    columns = await ctl("get", "po", "get-a", "-o", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName")
    assert columns.out.splitlines() == ["NAME    NODE", "get-a   node-1"]


async def test_get_secret_shows_base64(ctl, client):
    await client.create(from_dict({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                   "metadata": {"name": "get-s", "namespace": "default"},
                                   "stringData": {"password": "hunter2"}}))
    data = json.loads((await ctl("get", "secret", "get-s", "-o", "json")).out)
    assert data["data"] == {"password": "aHVudGVyMg=="}
    table = (await ctl("get", "secrets", "get-s")).out.splitlines()
    assert table[1].split()[:3] == ["get-s", "Opaque", "1"]


async def test_get_missing_object(ctl):
    result = await ctl("get", "deploy", "nope")
    assert result.code == 1
    assert result.err == 'Error from server (NotFound): deployments.apps "nope" not found\n' or \
        result.err == 'Error from server (NotFound): deployments "nope" not found\n'
    unknown = await ctl("get", "gizmos")
    assert unknown.code == 1 and 'the server doesn\'t have a resource type "gizmos"' in unknown.err


async def test_get_watch_prints_updates(env, client):
    await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "watched", "namespace": "default"}, "data": {"a": "1"}}))
    # The newest write is of another kind, so the List's revision is newer than any ConfigMap event.
    await client.create(from_dict({"apiVersion": "v1", "kind": "Secret",
                                   "metadata": {"name": "watch-other-kind", "namespace": "default"}}))
    proc = await _spawn(env, "get", "cm", "watched", "-w")
    try:
        header = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert header.decode().split() == ["NAME", "DATA", "AGE"]
        first = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert first.decode().split()[:2] == ["watched", "1"]
        live = await client.get("cm", "watched", "default")
        live.data["b"] = "2"
        await client.update(live)
        update = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert update.decode().split()[:2] == ["watched", "2"]
    finally:
        proc.kill()
        await proc.wait()


async def test_describe_pod_with_events(ctl, client, pods):
    live = await client.get("po", "get-a", "default")
    for i, reason in enumerate(("Scheduled", "Pulled")):
        await client.create(from_dict({
            "apiVersion": "v1", "kind": "Event", "type": "Normal", "reason": reason,
            "message": f"step {i} for get-a", "source": {"component": "test"},
            "metadata": {"name": f"get-a.{i}", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "get-a", "namespace": "default", "uid": live.metadata.uid}}))
    await client.create(from_dict({
        "apiVersion": "v1", "kind": "Event", "reason": "Other", "message": "not about get-a",
        "metadata": {"name": "get-b.0", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "get-b", "namespace": "default"}}))
    result = await ctl("describe", "pod", "get-a")
    assert result.code == 0, result.err
    out = result.out
    assert out.startswith("Name:")
    for expected in ("Namespace:", "default", "Node:", "node-1", "Status:", "Running", "IP:", "10.244.1.7",
                     "Containers:", "Image:", "busybox", "Restart Count:"):
        assert expected in out
    events = out[out.index("Events:"):].splitlines()
    assert events[1].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert [line.split()[1] for line in events[3:]] == ["Scheduled", "Pulled"]
    assert "not about get-a" not in out
    listed = await ctl("get", "events")
    assert "pod/get-a" in listed.out and "LAST SEEN" in listed.out.splitlines()[0]
