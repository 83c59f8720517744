"""The test run's scratch directory goes away without reaching through what a failed test left mounted."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from tests.fixtures.scratch import remove_scratch


def test_temporary_directories_live_in_the_runs_scratch_directory() -> None:
    assert os.path.basename(tempfile.gettempdir()).startswith("skiff-tests-")
    assert os.environ["TMPDIR"] == tempfile.gettempdir()


def test_a_leftover_bind_mount_is_detached_not_emptied(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "keep").write_text("data")
    root = Path(tempfile.mkdtemp(prefix="scratch-"))
    (root / "work" / "mnt").mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(source), str(root / "work" / "mnt")], check=True)
    remove_scratch(str(root))
    assert not root.exists()
    assert (source / "keep").read_text() == "data"
