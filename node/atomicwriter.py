"""The kubelet's atomic writer: a directory of files from API objects that a container sees change
all at once.

The files live in a timestamped version directory; `..data` is a symlink to the current one and
each user-visible name is a symlink through `..data`, so swapping the one `..data` link publishes a
whole new version in a single rename.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from collections.abc import Mapping

DATA_DIR_NAME = "..data"


def write_atomic(target: str, payload: Mapping[str, tuple[bytes, int]]) -> bool:
    """Makes target show exactly payload, switching versions with one rename; False when nothing changed."""
    data_link = os.path.join(target, DATA_DIR_NAME)
    old = os.readlink(data_link) if os.path.islink(data_link) else None
    if old is not None and _matches(os.path.join(target, old), payload):
        _sync_user_links(target, payload)
        return False
    version = _new_version_dir(target, payload)
    tmp_link = os.path.join(target, "..data_tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp_link)
    os.symlink(version, tmp_link)
    os.rename(tmp_link, data_link)
    _sync_user_links(target, payload)
    if old is not None:
        shutil.rmtree(os.path.join(target, old), ignore_errors=True)
    return True


def _new_version_dir(target: str, payload: Mapping[str, tuple[bytes, int]]) -> str:
    stamp = time.strftime("%Y_%m_%d_%H_%M_%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}"
    name = f"..{stamp}"
    path = os.path.join(target, name)
    os.mkdir(path, 0o755)
    for rel, (content, mode) in payload.items():
        file = os.path.join(path, rel)
        os.makedirs(os.path.dirname(file), mode=0o755, exist_ok=True)
        with open(file, "wb") as f:
            f.write(content)
        os.chmod(file, mode)
    return name


def _matches(version_dir: str, payload: Mapping[str, tuple[bytes, int]]) -> bool:
    present = set()
    for dirpath, _dirs, files in os.walk(version_dir):
        present.update(os.path.relpath(os.path.join(dirpath, f), version_dir) for f in files)
    if present != set(payload):
        return False
    for rel, (content, mode) in payload.items():
        file = os.path.join(version_dir, rel)
        if stat.S_IMODE(os.stat(file).st_mode) != mode:
            return False
        with open(file, "rb") as f:
            if f.read() != content:
                return False
    return True


def _sync_user_links(target: str, payload: Mapping[str, tuple[bytes, int]]) -> None:
    """One symlink per top-level name into ..data; stale ones from an older version go."""
    wanted = {rel.split("/", 1)[0] for rel in payload}
    for name in os.listdir(target):
        if not name.startswith("..") and name not in wanted:
            path = os.path.join(target, name)
            if os.path.islink(path):
                os.unlink(path)
    for name in wanted:
        path = os.path.join(target, name)
        if not os.path.islink(path):
            os.symlink(os.path.join(DATA_DIR_NAME, name), path)
