"""skiffctl run and expose against a real apiserver."""

from __future__ import annotations

import pytest
import yaml

from control.client.convert import from_dict, to_dict
from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)

    async def run(*args: str) -> Result:
        return await run_skiffctl(env, *args)
    return run


async def test_run_makes_a_pod(ctl, client):
    r = await ctl("run", "web", "--image", "nginx:1", "--env", "A=1", "--port", "80", "--labels", "app=web,tier=fe",
                  "--restart", "Never", "--", "nginx", "-g", "daemon off;")
    assert (r.code, r.out, r.err) == (0, "pod/web created\n", "")
    pod = to_dict(await client.get("pod", "web", "default"))
    c = pod["spec"]["containers"][0]
    assert (c["name"], c["image"], c["args"], c["env"], c["ports"][0]["containerPort"]) == \
        ("web", "nginx:1", ["nginx", "-g", "daemon off;"], [{"name": "A", "value": "1"}], 80)
    assert pod["metadata"]["labels"] == {"app": "web", "tier": "fe"} and pod["spec"]["restartPolicy"] == "Never"

    r = await ctl("run", "cmd", "--image", "busybox", "--command", "--", "sleep", "3600")
    assert r.code == 0
    pod = to_dict(await client.get("pod", "cmd", "default"))
    assert pod["spec"]["containers"][0]["command"] == ["sleep", "3600"] and pod["metadata"]["labels"] == {"run": "cmd"}

    r = await ctl("run", "both", "--image", "nginx", "--port", "8080", "--expose")
    assert (r.code, r.out) == (0, "service/both created\npod/both created\n")
    svc = await client.get("svc", "both", "default")
    assert dict(svc.spec.selector) == {"run": "both"} and svc.spec.ports[0].port == 8080


async def test_run_refusals(ctl):
    r = await ctl("run", "x", "--image", "nginx", "--restart", "Sometimes")
    assert (r.code, r.err) == (1, "error: invalid restart policy: Sometimes\n"
                                  "See 'skiffctl run -h' for help and examples\n")
    r = await ctl("run", "x")
    assert (r.code, r.err) == (1, 'error: required flag(s) "image" not set\n')
    r = await ctl("run", "x", "--image", "nginx", "--rm")
    assert r.code == 1 and r.err.startswith("error: --rm should only be used for attached containers\n")
    # Attached runs wait for the pod to run; with no node here it never does, as kubectl's would not.
    r = await ctl("run", "x", "--image", "nginx", "--rm", "-i", "--pod-running-timeout=1s")
    assert r.code == 1 and "timed out waiting for the condition" in r.err, r.err
    assert (await ctl("delete", "pod", "x")).code == 0
    r = await ctl("run", "x", "--image", "nginx", "--dry-run=client", "-o", "yaml")
    assert r.code == 0 and yaml.safe_load(r.out)["spec"]["dnsPolicy"] == "ClusterFirst"
    assert (await ctl("get", "pod", "x")).code == 1


async def test_expose(ctl, client):
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "api", "namespace": "default", "labels": {"team": "a"}},
              "spec": {"selector": {"matchLabels": {"app": "api"}},
                       "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [
                           {"name": "api", "image": "x", "ports": [{"containerPort": 8080},
                                                                   {"containerPort": 53, "protocol": "UDP"}]}]}}}}
    await client.create(from_dict(deploy))
    r = await ctl("expose", "deployment", "api")
    assert (r.code, r.out, r.err) == (0, "service/api exposed\n", "")
    svc = to_dict(await client.get("svc", "api", "default"))
    assert svc["metadata"]["labels"] == {"team": "a"} and svc["spec"]["selector"] == {"app": "api"}
    assert [(p["name"], p["port"], p["protocol"], p["targetPort"]) for p in svc["spec"]["ports"]] == \
        [("port-1", 8080, "TCP", 8080), ("port-2", 53, "UDP", 53)]

    r = await ctl("expose", "deploy/api", "--port", "80", "--target-port", "8080", "--name", "api-np",
                  "--type", "NodePort")
    assert r.code == 0, r.err
    np = to_dict(await client.get("svc", "api-np", "default"))
    assert np["spec"]["type"] == "NodePort" and np["spec"]["ports"][0]["nodePort"] >= 30000
    assert (np["spec"]["ports"][0]["port"], np["spec"]["ports"][0]["targetPort"]) == (80, 8080)

    r = await ctl("expose", "service", "api-np", "--name", "again", "--port", "81")
    assert r.code == 0 and (await client.get("svc", "again", "default")).spec.selector["app"] == "api"
    await ctl("run", "lone", "--image", "x")
    r = await ctl("expose", "pod", "lone")
    assert (r.code, r.err) == (1, "error: couldn't find port via --port flag or introspection\n")
    r = await ctl("expose", "node", "n1")
    assert r.code == 1 and "NotFound" in r.err
