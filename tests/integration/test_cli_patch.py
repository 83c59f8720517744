"""skiffctl patch against a real apiserver: strategic, merge and json patches."""

from __future__ import annotations

import json

import pytest

from control.client.convert import from_dict, to_dict
from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)

    async def run(*args: str) -> Result:
        return await run_skiffctl(env, *args)
    return run


DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                       {"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]},
                       {"name": "log", "image": "busybox:1"}]}}}}


async def test_patch_types(ctl, client):
    await client.create(from_dict(DEPLOY))
    strategic = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:2", "env": [{"name": "B", "value": "2"}]}]}}}}
    r = await ctl("patch", "deployment", "web", "-p", json.dumps(strategic))
    assert (r.code, r.out, r.err) == (0, "deployment.apps/web patched\n", "")
    spec = to_dict(await client.get("deploy", "web", "default"))["spec"]["template"]["spec"]
    assert [(c["name"], c["image"]) for c in spec["containers"]] == [("web", "nginx:2"), ("log", "busybox:1")]
    assert [e["name"] for e in spec["containers"][0]["env"]] == ["A", "B"]

    r = await ctl("patch", "deploy/web", "-p", json.dumps(strategic))
    assert (r.code, r.out) == (0, "deployment.apps/web patched (no change)\n")

    r = await ctl("patch", "deploy", "web", "--type", "strategic",
                  "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"log","$patch":"delete"}]}}}}')
    assert r.code == 0, r.err
    spec = to_dict(await client.get("deploy", "web", "default"))["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["web"]

    r = await ctl("patch", "deploy", "web", "--type", "merge", "-p", "{metadata: {labels: {tier: fe, app: null}}}")
    assert r.code == 0, r.err
    assert dict((await client.get("deploy", "web", "default")).metadata.labels) == {"tier": "fe"}

    r = await ctl("patch", "deploy", "web", "--type", "json",
                  "-p", '[{"op":"replace","path":"/spec/replicas","value":3}]', "-o", "jsonpath={.spec.replicas}")
    assert (r.code, r.out) == (0, "3")

    r = await ctl("patch", "deploy", "web", "--subresource", "status", "--type", "merge",
                  "-p", '{"status":{"observedGeneration":42}}')
    assert (r.code, r.out) == (0, "deployment.apps/web patched\n"), r.err
    assert (await client.get("deploy", "web", "default")).status.observed_generation == 42


async def test_patch_errors(ctl, client):
    r = await ctl("patch", "deploy", "web", "--type", "foo", "-p", "{}")
    assert (r.code, r.err) == (1, 'error: --type must be one of [json merge strategic], not "foo"\n')
    r = await ctl("patch", "deploy", "web")
    assert (r.code, r.err) == (1, "error: must specify --patch or --patch-file containing the contents of the "
                                  "patch\n")
    r = await ctl("patch", "deploy", "nothere", "-p", "{}")
    assert r.code == 1 and r.err.startswith("Error from server (NotFound): deployments") and \
        r.err.endswith('"nothere" not found\n')
    r = await ctl("patch", "deploy", "web", "-p", '{"spec":{"replicas":-1}}')
    assert r.code == 1 and 'The Deployment "web" is invalid: spec.replicas: Invalid value: -1' in r.err
