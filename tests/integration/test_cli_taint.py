"""skiffctl taint against a real apiserver: kubectl's messages and exit codes."""

from __future__ import annotations

import pytest

from control.client.convert import from_dict, to_dict
from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)

    async def run(*args: str) -> Result:
        return await run_skiffctl(env, *args)
    return run


async def _taints(client, name: str) -> list[dict]:
    return to_dict(await client.get("Node", name)).get("spec", {}).get("taints", [])


async def test_taint_untaint_overwrite(ctl, client):
    for name in ("t1", "t2"):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Node",
                                       "metadata": {"name": name, "labels": {"pool": "x"}}}))
    r = await ctl("taint", "nodes", "t1", "dedicated=special-user:NoSchedule")
    assert (r.code, r.out, r.err) == (0, "node/t1 tainted\n", "")
    assert await _taints(client, "t1") == [{"key": "dedicated", "value": "special-user", "effect": "NoSchedule"}]

    r = await ctl("taint", "nodes", "t1", "dedicated=other:NoSchedule")
    assert (r.code, r.err) == (1, "error: node t1 already has dedicated taint(s) with same effect(s) and "
                                  "--overwrite is false\n")
    r = await ctl("taint", "node", "t1", "dedicated=other:NoSchedule", "--overwrite")
    assert (r.code, r.out) == (0, "node/t1 modified\n")
    assert (await _taints(client, "t1"))[0]["value"] == "other"

    r = await ctl("taint", "no", "t1", "gpu:NoExecute")
    assert r.out == "node/t1 tainted\n"
    r = await ctl("taint", "nodes", "t1", "gpu:NoExecute-")
    assert (r.code, r.out) == (0, "node/t1 untainted\n")
    r = await ctl("taint", "nodes", "t1", "dedicated-")
    assert (r.code, r.out) == (0, "node/t1 untainted\n")
    assert await _taints(client, "t1") == []
    r = await ctl("taint", "nodes", "t1", "dedicated-")
    assert (r.code, r.err) == (1, 'error: taint "dedicated" not found\n')

    r = await ctl("taint", "nodes", "-l", "pool=x", "zone=a:PreferNoSchedule")
    assert (r.code, r.out) == (0, "node/t1 tainted\nnode/t2 tainted\n")


async def test_taint_argument_errors(ctl):
    r = await ctl("taint", "nodes", "t9", "a=b:Sometimes")
    assert r.code == 1 and r.err == "error: invalid taint effect: Sometimes, unsupported taint effect\n" \
                                     "See 'skiffctl taint -h' for help and examples\n"
    r = await ctl("taint", "pods", "p", "a=b:NoSchedule")
    assert (r.code, r.err) == (1, "error: invalid resource type pods, only node types are supported\n")
    r = await ctl("taint", "nodes", "missing", "a=b:NoSchedule")
    assert (r.code, r.err) == (1, 'Error from server (NotFound): nodes "missing" not found\n')
