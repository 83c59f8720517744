"""The lab's image registry: Debian's docker-registry on port 5000, holding the images build-images makes."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess

from lablib import procs
from lablib.config import REGISTRY_PORT, ROOT, STATE_DIR, VENV_BIN

NAME = "registry"
IMAGES = {"busybox": "busybox:1", "whoami": "whoami:1", "pause": "pause:1"}


def images_dir() -> str:
    return os.path.join(STATE_DIR, "images")


def _dir() -> str:
    return os.path.join(STATE_DIR, "registry")


def _config() -> str:
    return f"""version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {_dir()}/data
  delete:
    enabled: true
http:
  addr: :{REGISTRY_PORT}
"""


def port_open(host: str = "127.0.0.1", port: int = REGISTRY_PORT) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def start() -> None:
    if procs.running_pid(NAME) is not None:
        return
    if port_open():
        raise RuntimeError(f"port {REGISTRY_PORT} is taken by a process the lab did not start "
                           "(Debian's docker-registry service? stop it: systemctl stop docker-registry)")
    os.makedirs(os.path.join(_dir(), "data"), exist_ok=True)
    config = os.path.join(_dir(), "config.yml")
    with open(config, "w") as f:
        f.write(_config())
    procs.start(NAME, ["/usr/bin/docker-registry", "serve", config])
    procs.must_wait(port_open, 15, "the registry on port 5000", log=NAME)


def build_images() -> dict[str, str]:
    """Image stem -> OCI archive, built offline from busybox-static (cached by scripts/build-images)."""
    out = subprocess.run([os.path.join(VENV_BIN, "python"), os.path.join(ROOT, "scripts", "build-images"),
                          images_dir()], check=True, capture_output=True, text=True).stdout.split()
    return {os.path.basename(p).removesuffix(".tar"): p for p in out}


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def push_images(archives: dict[str, str]) -> None:
    """skopeo copies each archive to localhost:5000 unless that very archive was pushed already."""
    stamp_file = os.path.join(_dir(), "pushed.json")
    try:
        with open(stamp_file) as f:
            pushed = json.load(f)
    except (OSError, ValueError):
        pushed = {}
    for stem, ref in IMAGES.items():
        digest = _digest(archives[stem])
        if pushed.get(ref) == digest:
            continue
        subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci-archive:{archives[stem]}",
                        f"docker://localhost:{REGISTRY_PORT}/{ref}"], check=True, capture_output=True, text=True)
        pushed[ref] = digest
    with open(stamp_file, "w") as f:
        json.dump(pushed, f)
