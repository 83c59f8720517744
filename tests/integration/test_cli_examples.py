"""The Kubernetes example corpus through skiffctl, as a user would apply it.

Every manifest in shared/k8s-examples applies unchanged. In its wave2/ folder, a file whose kinds are all
served (per the kind table) must apply unchanged too; a file with any kind not yet served gets kubectl's
`no matches for kind "X" in version "Y"` for each such object and exit code 1, never a traceback. Like
kubectl, which continues past an object it cannot map, skiffctl still applies the file's other objects (or
answers each with its own error). As kinds are added to control/client/kinds.py, their wave2 files move
from the second case to the first by themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from control.client.kinds import for_object
from tests.fixtures.examples import EXAMPLES, WAVE2, corpus_files, documents, ids, require_corpus, unserved
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import stop
from tests.fixtures.skiffctl import ROOT, skiffctl_env

WAVE2_FILES = corpus_files(WAVE2)


def _ctl(env, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "control.cli.main", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def _name(doc: dict) -> str:
    """skiffctl's (kubectl's) `kind.group/name` for a served object."""
    return f"{for_object(doc['apiVersion'], doc['kind']).qualified}/{doc['metadata']['name']}"


def _first_folder_docs() -> list[dict]:
    return [doc for path in corpus_files(EXAMPLES) for doc in documents(path)]


def _make_namespaces(env, docs: list[dict]) -> None:
    """The namespaces the examples name must exist first, as for a real user."""
    for ns in sorted({d["metadata"].get("namespace", "default") for d in docs} - {"default"}):
        made = _ctl(env, "apply", "-f", "-", stdin=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
        assert made.returncode == 0, made.stderr


def _verdicts(stdout: str) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in stdout.splitlines()]


@pytest.fixture(scope="module")
def protection_controllers(apiserver):
    """Deleting a claim or a volume waits for its protection finalizer, which these controllers remove,
    as in a cluster."""
    log = tempfile.NamedTemporaryFile(prefix="skiff-cm-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "control.controllers.main",
                             "--kubeconfig", session_pki().controller_manager_config, "--apiserver", apiserver.target,
                             "--controllers", "pv-protection,pvc-protection"],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    stop(proc)
    log.close()
    os.unlink(log.name)


@pytest.fixture
def env(apiserver, tmp_path, protection_controllers):
    return skiffctl_env(apiserver.target, tmp_path)


def test_every_first_folder_file_is_served() -> None:
    """shared/k8s-examples itself holds only kinds served since wave 1; new kinds' files go to wave2/."""
    refused = {f"{p.name}: {u}" for p in corpus_files(EXAMPLES) for d in documents(p) if (u := unserved(d))}
    assert not refused


def test_every_example_applies_with_server_dry_run(env):
    docs = _first_folder_docs()
    _make_namespaces(env, docs)
    result = _ctl(env, "apply", "--dry-run=server", "-f", str(require_corpus(EXAMPLES / "x.yaml").parent))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert _verdicts(result.stdout) == [(_name(d), "created (server dry run)") for d in docs]
    listed = _ctl(env, "get", "all", "-A", "-o", "name")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == ""  # a dry run stores nothing


def test_examples_apply_then_reapply_unchanged(env):
    docs = _first_folder_docs()
    _make_namespaces(env, docs)
    first = _ctl(env, "apply", "-f", str(EXAMPLES))
    assert first.returncode == 0, first.stderr
    names = [_name(d) for d in docs]
    assert [name for name, _ in _verdicts(first.stdout)] == names
    second = _ctl(env, "apply", "-f", str(EXAMPLES))
    assert second.returncode == 0, second.stderr
    # Two example files share the names nginx-service and nginx-deployment: those differ, so they
    # are reconfigured by whichever file comes later; everything else must come back unchanged.
    duplicated = {n for n in names if names.count(n) > 1}
    assert _verdicts(second.stdout) == [(n, "configured" if n in duplicated else "unchanged") for n in names]


@pytest.mark.parametrize("path", WAVE2_FILES, ids=ids(WAVE2_FILES))
def test_wave2_example_applies_or_is_refused_like_kubectl(env, path: Path):
    docs = documents(path)
    _make_namespaces(env, docs)
    refused = [u for d in docs if (u := unserved(d))]
    served = [_name(d) for d in docs if unserved(d) is None]
    try:
        result = _ctl(env, "apply", "-f", str(path))
        assert "Traceback" not in result.stderr, result.stderr
        if not refused:
            assert (result.returncode, result.stderr) == (0, "")
            assert _verdicts(result.stdout) == [(name, "created") for name in served]
            again = _ctl(env, "apply", "-f", str(path))
            assert (again.returncode, again.stderr) == (0, "")
            assert _verdicts(again.stdout) == [(name, "unchanged") for name in served]
            return
        assert result.returncode == 1, result.stderr
        for kind, version in refused:
            assert f'no matches for kind "{kind}" in version "{version}"' in result.stderr
        assert f'from "{path}": no matches for kind' in result.stderr  # kubectl's resource mapping line
        no_match = [e for e in result.stderr.splitlines() if "no matches for kind" in e]
        assert len(no_match) == len(refused), result.stderr
        # Served objects in the same file are each either applied or answered with their own error.
        applied = [name for name, _ in _verdicts(result.stdout)]
        assert applied == [n for n in served if n in applied]
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == len(refused) + len(served) - len(applied), result.stderr
    finally:
        # Files share names (zk-pdb, nginx, web): each starts from a cluster without the others' objects.
        _ctl(env, "delete", "--ignore-not-found", "-f", str(path))
