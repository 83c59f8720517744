"""skiffctl config: a kubeconfig with several clusters, users and contexts, built and switched with the
config verbs, then used against a real apiserver."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.fixtures.pki import SERVER_NAME
from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def config_file(tmp_path) -> Path:
    return tmp_path / "kubeconfig"


@pytest.fixture
def ctl(apiserver, tmp_path, config_file):
    env = {**skiffctl_env(apiserver.target, tmp_path), "SKIFFCONFIG": str(config_file)}

    async def run(*args: str) -> Result:
        return await run_skiffctl(env, *args)
    return run


async def _build(ctl, pki, target: str) -> None:
    steps = [
        ("config", "set-cluster", "test", "--server", f"https://{target}", "--certificate-authority", pki.ca,
         "--embed-certs", "--tls-server-name", SERVER_NAME),
        ("config", "set-cluster", "gone", "--server", "https://127.0.0.1:1", "--certificate-authority", pki.ca),
        ("config", "set-credentials", "admin", "--client-certificate", pki.file("admin.crt"),
         "--client-key", pki.file("admin.key"), "--embed-certs"),
        ("config", "set-credentials", "nobody", "--token", "not-a-token"),
        ("config", "set-context", "main", "--cluster", "test", "--user", "admin", "--namespace", "team"),
        ("config", "set-context", "offline", "--cluster", "gone", "--user", "admin"),
        ("config", "set-context", "stranger", "--cluster", "test", "--user", "nobody"),
    ]
    for step in steps:
        r = await ctl(*step)
        assert r.code == 0, (step, r.err)


async def test_contexts_switch_clusters_and_users(ctl, pki, apiserver, config_file):
    await _build(ctl, pki, apiserver.target)
    r = await ctl("config", "current-context")
    assert (r.code, r.err) == (1, "error: current-context is not set\n")
    assert (await ctl("config", "use-context", "main")).out == 'Switched to context "main".\n'
    r = await ctl("config", "get-contexts")
    assert [line.split() for line in r.out.splitlines()] == [
        ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"], ["*", "main", "test", "admin", "team"],
        ["offline", "gone", "admin"], ["stranger", "test", "nobody"]]

    r = await ctl("create", "namespace", "team")
    assert (r.code, r.out) == (0, "namespace/team created\n"), r.err
    r = await ctl("create", "configmap", "c", "--from-literal", "a=b")  # into the context's namespace
    assert (r.code, r.out) == (0, "configmap/c created\n")
    r = await ctl("get", "cm", "c", "-n", "team", "-o", "name")
    assert r.out == "configmap/c\n"

    r = await ctl("get", "cm", "c", "--context", "offline")
    assert r.code == 1 and "The connection to the server 127.0.0.1:1 was refused" in r.err
    r = await ctl("get", "cm", "--context", "stranger")
    assert (r.code, r.err) == (1, "error: You must be logged in to the server (Unauthorized)\n")
    r = await ctl("get", "cm", "--context", "missing")
    assert r.code == 1 and "context was not found for specified context: missing" in r.err

    r = await ctl("config", "set-context", "--current", "--namespace", "default")
    assert r.out == 'Context "main" modified.\n'
    assert (await ctl("get", "cm", "c")).code == 1  # now looked up in default

    view = yaml.safe_load((await ctl("config", "view", "--minify")).out)
    assert view["current-context"] == "main" and [c["name"] for c in view["clusters"]] == ["test"]
    assert view["clusters"][0]["cluster"]["certificate-authority-data"] == "DATA+OMITTED"
    assert view["users"][0]["user"]["client-key-data"] == "DATA+OMITTED"
    raw = yaml.safe_load((await ctl("config", "view", "--raw")).out)
    assert raw["users"][1]["user"]["token"] == "not-a-token"
    assert yaml.safe_load(config_file.read_text())["current-context"] == "main"


async def test_flat_config_edited_as_kubeconfig(ctl, pki, apiserver, config_file):
    pki.write_config(config_file, apiserver.target, namespace="default")
    r = await ctl("config", "get-contexts", "-o", "name")
    assert r.out == "default\n"
    r = await ctl("config", "set-context", "--current", "--namespace", "kube-system")
    assert r.out == 'Context "default" modified.\n'
    assert yaml.safe_load(config_file.read_text())["kind"] == "Config"
    r = await ctl("get", "ns", "kube-system", "-o", "name")
    assert (r.code, r.out) == (0, "namespace/kube-system\n"), r.err
