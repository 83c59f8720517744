"""skiffctl events against a real apiserver: kubectl's columns, order, filters and watch."""

from __future__ import annotations

import asyncio
import re
import sys
import time

import pytest
import yaml

from control.client.convert import from_dict
from tests.fixtures.skiffctl import ROOT, Result, run_skiffctl, skiffctl_env


def _ts(seconds_ago: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds_ago))


def _event(name: str, ns: str, kind: str, api: str, obj: str, type_: str, reason: str, ago: int, count: int = 1,
           first: int | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
            "involvedObject": {"kind": kind, "apiVersion": api, "name": obj, "namespace": ns},
            "type": type_, "reason": reason, "message": f"{reason} happened ", "count": count,
            "firstTimestamp": _ts(first if first is not None else ago), "lastTimestamp": _ts(ago)}


@pytest.fixture
def env(apiserver, tmp_path):
    return skiffctl_env(apiserver.target, tmp_path)


@pytest.fixture
def ctl(env):
    async def run(*args: str) -> Result:
        return await run_skiffctl(env, *args)
    return run


async def test_events_table_filters(ctl, client):
    r = await ctl("events")
    assert (r.code, r.out, r.err) == (0, "", "No events found in default namespace.\n")
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}))
    for ev in (_event("a", "default", "Pod", "v1", "web", "Normal", "Pulled", 120),
               _event("b", "default", "Deployment", "apps/v1", "web", "Warning", "Failed", 30, count=3, first=600),
               _event("c", "other", "Pod", "v1", "db", "Normal", "Started", 60)):
        await client.create(from_dict(ev))
    r = await ctl("events")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    # Ages move on while the test runs: 2m, then 2m1s...
    assert re.fullmatch(r"2m\d*s? +Normal +Pulled +Pod/web +Pulled happened", lines[1])
    assert re.fullmatch(r"3\ds \(x3 over 10m\d*s?\) +Warning +Failed +Deployment/web +Failed happened", lines[2])
    r = await ctl("events", "-A")
    assert [line.split()[0] for line in r.out.splitlines()] == ["NAMESPACE", "default", "other", "default"]
    r = await ctl("events", "--types", "Warning")
    assert [line.split()[-3] for line in r.out.splitlines()[1:]] == ["Deployment/web"]
    r = await ctl("events", "--for", "deploy/web")
    assert len(r.out.splitlines()) == 2 and "Deployment/web" in r.out
    r = await ctl("events", "--for", "pod/web", "-o", "name")
    assert r.out == "event/a\n"
    r = await ctl("events", "--types", "Normal", "-o", "yaml")
    listed = yaml.safe_load(r.out)
    assert listed["kind"] == "EventList" and [e["metadata"]["name"] for e in listed["items"]] == ["a"]
    r = await ctl("events", "--types", "Error")
    assert (r.code, r.err) == (1, "error: valid --types are Normal or Warning\n")
    r = await ctl("events", "--for", "web")
    assert (r.code, r.err) == (1, "error: --for must be in resource/name form\n")


async def test_events_watch(env, client):
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "watched"}}))
    await client.create(from_dict(_event("w1", "watched", "Pod", "v1", "x", "Normal", "Seen", 5)))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "control.cli.main", "events", "-w", "-n",
                                                "watched", "--types", "Warning", cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await client.create(from_dict(_event("w2", "watched", "Pod", "v1", "x", "Warning", "BackOff", 1)))
        header = await asyncio.wait_for(proc.stdout.readline(), 20)
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert header.decode().split()[:2] == ["LAST", "SEEN"]
        assert line.decode().split()[1:4] == ["Warning", "BackOff", "Pod/x"]
    finally:
        proc.kill()
        await proc.wait()
