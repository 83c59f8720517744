"""Cross-language check: the Node.js client in tests/xlang talks to a real skiff-apiserver."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.apiserver import ApiServer
from tests.fixtures.pki import session_pki

XLANG = Path(__file__).resolve().parents[1] / "xlang"


def test_node_client_speaks_the_api(apiserver: ApiServer) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: run scripts/install-deps")
    if not (XLANG / "node_modules" / "@grpc" / "grpc-js").is_dir():
        pytest.fail("tests/xlang/node_modules is missing: run scripts/install-deps (npm ci)")
    pki = session_pki()
    result = subprocess.run([node, "--test-reporter=tap", str(XLANG / "test.js"), apiserver.target, pki.ca,
                             pki.file("admin.crt"), pki.file("admin.key")], cwd=XLANG,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"node test failed:\n{result.stdout}\n{result.stderr}"
    assert "# fail 0" in result.stdout and "# pass 5" in result.stdout, result.stdout
