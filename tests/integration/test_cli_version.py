"""skiffctl version and cluster-info against a real apiserver."""

from __future__ import annotations

import json

import pytest
import yaml

from control.client.convert import from_dict
from control.client.version import GIT_VERSION, MINOR
from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def env(apiserver, tmp_path):
    return skiffctl_env(apiserver.target, tmp_path)


@pytest.fixture
def ctl(env):
    async def run(*args: str, **extra: str) -> Result:
        return await run_skiffctl({**env, **extra}, *args)
    return run


async def test_version(ctl, pki, apiserver, tmp_path):
    r = await ctl("version")
    assert (r.code, r.out, r.err) == (0, f"Client Version: {GIT_VERSION}\nServer Version: {GIT_VERSION}\n", "")
    r = await ctl("version", "-o", "json")
    report = json.loads(r.out)
    assert report["serverVersion"]["gitVersion"] == GIT_VERSION and report["serverVersion"]["minor"] == MINOR
    assert set(report["clientVersion"]) == {"major", "minor", "gitVersion", "gitCommit", "gitTreeState",
                                            "buildDate", "goVersion", "compiler", "platform"}
    r = await ctl("version", "--client", "-o", "yaml")
    assert list(yaml.safe_load(r.out)) == ["clientVersion"]
    r = await ctl("version", "-o", "wide")
    assert (r.code, r.err) == (1, "error: --output must be 'yaml' or 'json'\n")
    # /version is open: a caller with no credentials at all still gets it.
    anonymous = pki.write_config(tmp_path / "anonymous.conf", apiserver.target, cert=None)
    r = await ctl("version", SKIFFCONFIG=str(anonymous))
    assert (r.code, r.out.splitlines()[1]) == (0, f"Server Version: {GIT_VERSION}")
    r = await ctl("get", "pods", SKIFFCONFIG=str(anonymous))
    assert r.code == 1 and "Unauthorized" in r.err


async def test_version_without_server(ctl, tmp_path):
    r = await ctl("version", "-s", "127.0.0.1:1")
    assert r.code == 1 and r.out == f"Client Version: {GIT_VERSION}\n"
    assert r.err == "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n"


async def test_cluster_info(ctl, client, apiserver):
    r = await ctl("cluster-info")
    assert (r.code, r.err) == (0, "")
    assert r.out == (f"Kubernetes control plane is running at https://{apiserver.target}\n\n"
                     "To further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n")
    await client.create(from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "kube-dns", "namespace": "kube-system",
        "labels": {"kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}},
        "spec": {"selector": {"k8s-app": "kube-dns"}, "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}}))
    r = await ctl("cluster-info")
    assert r.out.splitlines()[1] == (f"CoreDNS is running at https://{apiserver.target}"
                                     "/api/v1/namespaces/kube-system/services/kube-dns:dns/proxy")
