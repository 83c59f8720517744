"""The lock files pin every dependency to one version, agree with pyproject.toml and with each other, and are
what this environment runs; the Node.js test's packages are exact too (scripts/lock, scripts/install-deps)."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    pins: dict[str, str] = {}
    for entry in entries:
        match = PIN.match(entry)
        if not match:
            continue
        assert "--hash=sha256:" in entry, f"{lock}: {match.group(1)} has no hash"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    requirement_lines = [e for e in entries if e and not e.startswith("#")]
    assert len(pins) == len(requirement_lines), f"{lock}: a requirement is not pinned with ==: {requirement_lines}"
    return pins


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _assert_locked(requirements: list[str], pins: dict[str, str], lock: str) -> None:
    for spec in requirements:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} lacks {name}: run scripts/lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"{lock} pins {name}=={pins[name]}, outside pyproject.toml's {requirement}: run scripts/lock"


def test_runtime_lock_covers_the_project_dependencies_and_build_backend() -> None:
    project = _project()
    pins = _pins("runtime.lock")
    _assert_locked(project["project"]["dependencies"] + project["build-system"]["requires"], pins, "runtime.lock")


def test_dev_lock_is_the_runtime_lock_plus_the_dev_extras() -> None:
    project = _project()
    runtime, dev = _pins("runtime.lock"), _pins("dev.lock")
    _assert_locked(project["project"]["optional-dependencies"]["dev"], dev, "dev.lock")
    differing = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert not differing, f"dev.lock disagrees with runtime.lock (name: (runtime, dev)): {differing}"


def test_this_environment_runs_the_dev_lock() -> None:
    wrong = {}
    for name, version in _pins("dev.lock").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert not wrong, f"installed versions differ from dev.lock (locked, installed); run scripts/install-deps: {wrong}"


def test_npm_dependencies_are_exact_and_match_the_package_lock() -> None:
    xlang = ROOT / "tests" / "xlang"
    declared = json.loads((xlang / "package.json").read_text())["dependencies"]
    lock = json.loads((xlang / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == declared, "package-lock.json is stale: run npm install there"
    for name, version in declared.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"package.json: {name} {version!r} is not an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    for path, package in lock["packages"].items():
        if path:
            assert package.get("integrity"), f"package-lock.json: {path} has no integrity hash"


def test_helm_lock_pins_requirements_helm_in_and_is_what_the_helm_venv_runs() -> None:
    pins = _pins("helm.lock")
    wanted = [line for line in (ROOT / "requirements" / "helm.in").read_text().splitlines()
              if line and not line.startswith("#")]
    _assert_locked(wanted, pins, "helm.lock")
    site = [str(p) for p in ROOT.glob(".venv-helm/lib/python*/site-packages")]
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions(path=site)}
    assert {name: installed.get(name) for name in pins} == pins, "run scripts/install-deps (.venv-helm)"
