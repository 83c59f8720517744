"""The committed protobuf modules (skiff/, cri/) must be what scripts/gen-proto makes from proto/."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("skiff", "cri")


def _generated(tree: Path) -> set[str]:
    """Paths (relative to tree) of generated modules: *_pb2*.py(i) and package __init__ files (not their
    bytecode, which scripts/install-deps compiles and git ignores)."""
    found: set[str] = set()
    for package in PACKAGES:
        for path in (tree / package).rglob("*"):
            if "__pycache__" in path.parts:
                continue
            if path.is_file() and ("_pb2" in path.name or path.name == "__init__.py"):
                found.add(str(path.relative_to(tree)))
    return found


def test_services_proto_is_generated_from_the_kind_table() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen" / "services_proto.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_kubernetes_types_are_generated_from_the_field_lists() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen" / "schema_proto.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_committed_modules_match_fresh_generation(tmp_path: Path) -> None:
    result = subprocess.run([str(ROOT / "scripts" / "gen-proto"), str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"scripts/gen-proto failed:\n{result.stderr}"
    fresh = _generated(tmp_path)
    assert fresh, "scripts/gen-proto produced no modules"
    committed = _generated(ROOT)
    problems = [f"missing (run scripts/gen-proto): {p}" for p in sorted(fresh - committed)]
    problems += [f"stale, no .proto makes it: {p}" for p in sorted(committed - fresh) if "_pb2" in p]
    problems += [f"differs from a fresh generation (run scripts/gen-proto): {p}"
                 for p in sorted(fresh & committed)
                 if "_pb2" in p and not filecmp.cmp(tmp_path / p, ROOT / p, shallow=False)]
    assert not problems, "\n".join(problems)
