"""Every Kubernetes example manifest in shared/k8s-examples applies unchanged through skiffctl."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest

from control.cli.manifests import load_paths
from tests.fixtures.examples import EXAMPLES as EXAMPLES_DIR
from tests.fixtures.skiffctl import ROOT, skiffctl_env

EXAMPLES = str(EXAMPLES_DIR)


def _ctl(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "control.cli.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _expected_names() -> list[str]:
    from control.client.kinds import for_object
    names = []
    for path in sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml"))):
        for doc in load_paths([path]):
            kind = for_object(doc.data["apiVersion"], doc.data["kind"])
            names.append(f"{kind.qualified}/{doc.data['metadata']['name']}")
    return names


@pytest.fixture
def env(apiserver, tmp_path):
    return skiffctl_env(apiserver.target, tmp_path)


def test_every_example_applies_with_server_dry_run(env):
    # The namespaces the examples name must exist first, as for a real user.
    namespaces = sorted({doc.data["metadata"]["namespace"] for doc in load_paths([EXAMPLES])
                         if doc.data["metadata"].get("namespace", "default") != "default"})
    for ns in namespaces:
        made = subprocess.run(
            [sys.executable, "-m", "control.cli.main", "apply", "-f", "-"], cwd=ROOT, env=env, text=True,
            input=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n", capture_output=True, timeout=60)
        assert made.returncode == 0, made.stderr
    result = _ctl(env, "apply", "--dry-run=server", "-f", EXAMPLES)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.rsplit(" created (server dry run)", 1)[0] for line in lines] == _expected_names()
    assert all(line.endswith(" created (server dry run)") for line in lines)
    listed = _ctl(env, "get", "all", "-A", "-o", "name")
    assert listed.stdout == ""  # a dry run stores nothing


def test_examples_apply_then_reapply_unchanged(env):
    first = _ctl(env, "apply", "-f", EXAMPLES)
    assert first.returncode == 0, first.stderr
    second = _ctl(env, "apply", "-f", EXAMPLES)
    assert second.returncode == 0, second.stderr
    # Two example files share the names nginx-service and nginx-deployment: those differ, so they
    # are reconfigured by whichever file comes later; everything else must come back unchanged.
    names = _expected_names()
    duplicated = {n for n in names if names.count(n) > 1}
    for line in second.stdout.splitlines():
        name, _, verdict = line.partition(" ")
        assert verdict == ("configured" if name in duplicated else "unchanged"), line
