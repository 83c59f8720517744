"""skiffctl create service|secret|configmap with dry runs, against a real apiserver."""

from __future__ import annotations

import pytest
import yaml

from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)

    async def run(*args: str) -> Result:
        return await run_skiffctl(env, *args)
    return run


async def test_create_services(ctl, client):
    r = await ctl("create", "service", "clusterip", "web", "--tcp", "80:8080")
    assert (r.code, r.out, r.err) == (0, "service/web created\n", "")
    svc = await client.get("svc", "web", "default")
    assert svc.spec.cluster_ip and dict(svc.spec.selector) == {"app": "web"}
    assert (svc.spec.ports[0].name, svc.spec.ports[0].port) == ("80-8080", 80)
    r = await ctl("create", "svc", "nodeport", "np", "--tcp", "80:8080", "--node-port", "30080", "-o", "yaml")
    assert r.code == 0, r.err
    printed = yaml.safe_load(r.out)
    assert printed["spec"]["ports"][0]["nodePort"] == 30080 and printed["metadata"]["uid"]
    r = await ctl("create", "service", "clusterip", "head", "--clusterip", "None")
    assert r.code == 0 and (await client.get("svc", "head", "default")).spec.cluster_ip == "None"


async def test_dry_runs_do_not_create(ctl, client):
    r = await ctl("create", "deployment", "dry", "--image", "nginx", "--dry-run=client", "-o", "yaml")
    assert r.code == 0 and yaml.safe_load(r.out)["metadata"] == {"creationTimestamp": None, "labels": {"app": "dry"},
                                                                 "name": "dry"}
    r = await ctl("create", "deployment", "dry", "--image", "nginx", "--dry-run=client")
    assert r.out == "deployment.apps/dry created (dry run)\n"
    r = await ctl("create", "deployment", "dry", "--image", "nginx", "--dry-run=server")
    assert (r.code, r.out) == (0, "deployment.apps/dry created (server dry run)\n")
    r = await ctl("get", "deploy", "dry")
    assert r.code == 1 and "NotFound" in r.err


async def test_create_secrets_and_configmaps(ctl, client, tmp_path):
    env = tmp_path / "app.env"
    env.write_text("MODE=fast\n# ignored\nLEVEL=3\n")
    r = await ctl("create", "configmap", "settings", "--from-env-file", str(env))
    assert (r.code, r.out) == (0, "configmap/settings created\n")
    assert dict((await client.get("cm", "settings", "default")).data) == {"MODE": "fast", "LEVEL": "3"}
    r = await ctl("create", "secret", "docker-registry", "pull", "--docker-server", "localhost:5000",
                  "--docker-username", "u", "--docker-password", "p")
    assert (r.code, r.out) == (0, "secret/pull created\n")
    pull = await client.get("secret", "pull", "default")
    assert pull.type == "kubernetes.io/dockerconfigjson" and b'"localhost:5000"' in pull.data[".dockerconfigjson"]
    (tmp_path / "tls.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "tls.key").write_text("-----BEGIN PRIVATE KEY-----\n")
    r = await ctl("create", "secret", "tls", "cert", "--cert", str(tmp_path / "tls.crt"),
                  "--key", str(tmp_path / "tls.key"))
    assert r.code == 0, r.err
    assert (await client.get("secret", "cert", "default")).type == "kubernetes.io/tls"
    r = await ctl("create", "secret", "generic", "x", "--from-env-file", str(env), "--from-literal", "a=b")
    assert (r.code, r.err) == (1, "error: from-env-file cannot be combined with from-file or from-literal\n")
