"""Helm (helm-sdkpy: Helm v4's Go library, in a venv of its own) against the REST API: install,
upgrade, list, status and uninstall of a small chart kept in tests/integration/helm/ (a Deployment, a
Service and a ConfigMap with values), with client-side and server-side apply. Helm keeps its
releases in Secrets of type helm.sh/release.v1."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer, write_kubeconfig

HERE = Path(__file__).resolve().parent / "helm"
ROOT = HERE.parents[2]
HELM_PYTHON = ROOT / ".venv-helm" / "bin" / "python"


@pytest.fixture(scope="module")
def kube(rest: RestServer, pki: Pki, tmp_path_factory) -> Path:
    if not HELM_PYTHON.exists():
        raise RuntimeError(f"{HELM_PYTHON} is missing: scripts/install-deps makes the Helm venv")
    return write_kubeconfig(tmp_path_factory.mktemp("helm") / "config", pki, rest.url)


@pytest.fixture(scope="module")
def api(kube: Path):
    c = k8s_config.new_client_from_config(config_file=str(kube))
    yield c
    c.close()


def helm(kube: Path, action: str, *args: str, ok: bool = True):
    result = subprocess.run([str(HELM_PYTHON), str(HERE / "driver.py"), str(kube), "default", action, *args],
                            capture_output=True, text=True, timeout=180, env={"HOME": str(kube.parent)})
    if ok:
        assert result.returncode == 0, f"helm {action}: {result.stdout} {result.stderr[-3000:]}"
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.mark.parametrize("ssa", [False, True], ids=["client-side", "server-side"])
def test_install_upgrade_list_uninstall(kube: Path, api, ssa: bool) -> None:
    release, chart = f"greet-{'ssa' if ssa else 'csa'}", str(HERE / "chart")
    flag = "true" if ssa else "false"
    installed = helm(kube, "install", release, chart, json.dumps({"greeting": "hi"}), flag)
    assert installed["name"] == release, installed
    apps, core = k8s.AppsV1Api(api), k8s.CoreV1Api(api)
    assert apps.read_namespaced_deployment(release, "default").spec.replicas == 1
    assert core.read_namespaced_config_map(f"{release}-greeting", "default").data == {"greeting": "hi"}
    assert core.read_namespaced_service(release, "default").spec.ports[0].port == 80
    secrets = core.list_namespaced_secret("default", label_selector=f"owner=helm,name={release}").items
    assert [s.type for s in secrets] == ["helm.sh/release.v1"]
    deployment = apps.read_namespaced_deployment(release, "default")
    owners = {(e.manager, e.operation) for e in deployment.metadata.managed_fields}
    # Helm as a library names its writes after the program it runs in (its os.Args[0]): here Python
    assert (HELM_PYTHON.name, "Apply" if ssa else "Update") in owners

    helm(kube, "upgrade", release, chart, json.dumps({"greeting": "bye", "replicaCount": 2}), flag)
    assert apps.read_namespaced_deployment(release, "default").spec.replicas == 2
    assert core.read_namespaced_config_map(f"{release}-greeting", "default").data == {"greeting": "bye"}
    listed = helm(kube, "list")
    assert release in json.dumps(listed)

    helm(kube, "uninstall", release)
    selector = f"app.kubernetes.io/instance={release}"
    assert not core.list_namespaced_config_map("default", label_selector=selector).items
    assert not core.list_namespaced_service("default", label_selector=selector).items
    assert not apps.list_namespaced_deployment("default", label_selector=selector).items
    assert release not in json.dumps(helm(kube, "list"))
