"""Real capacity for local-path volumes: each is an ext4 filesystem image of its PersistentVolume's
size (`<dir>.img` beside the volume's directory), loop-mounted on the directory, so a 64Mi claim
cannot hold 100Mi. The mount is made when a pod on this node first uses the volume and undone when
the last such pod is gone; which volumes a pod holds is written in its pod directory, so a restarted
agent still knows. The image stays with the data until the volume's helper pod removes both."""

from __future__ import annotations

import glob
import json
import os
import subprocess

from control.client.quantity import bytes_of
from control.client.volumeutil import STORAGE
from control.client.wellknown import ANNOTATION_PROVISIONED_BY

LOCAL_PATH_PROVISIONER = "rancher.io/local-path"
IMAGE_SUFFIX = ".img"
MIN_IMAGE_BYTES = 8 << 20  # ext4 needs room for its own metadata
HELD = "local-path-mounts.json"


class CapacityError(OSError):
    """The volume's filesystem cannot be made or mounted."""


def is_sized(pv) -> bool:
    return pv.metadata.annotations.get(ANNOTATION_PROVISIONED_BY) == LOCAL_PATH_PROVISIONER and \
        pv.spec.HasField("host_path")


def image_of(path: str) -> str:
    return path.rstrip("/") + IMAGE_SUFFIX


def ensure_mounted(pv) -> None:
    """The volume's directory as a mounted filesystem of the volume's capacity (idempotent)."""
    path = pv.spec.host_path.path
    os.makedirs(path, mode=0o777, exist_ok=True)
    if os.path.ismount(path):
        return
    image = image_of(path)
    if not os.path.exists(image):
        size = max(bytes_of(pv.spec.capacity.get(STORAGE, "0")), MIN_IMAGE_BYTES)
        with open(image + ".tmp", "wb") as f:
            f.truncate(size)
        _run("mkfs.ext4", "-q", "-F", "-m", "0", image + ".tmp")
        os.rename(image + ".tmp", image)
    _run("mount", "-o", "loop", image, path)
    os.chmod(path, 0o777)  # as local-path-provisioner makes its directories: any container user may write


def hold(pod_dir: str, paths: list[str]) -> None:
    """Notes the sized volumes a pod uses (in its own directory)."""
    os.makedirs(pod_dir, exist_ok=True)
    with open(os.path.join(pod_dir, HELD), "w") as f:
        json.dump(sorted(paths), f)


def held_by(pod_dir: str) -> list[str]:
    try:
        with open(os.path.join(pod_dir, HELD)) as f:
            return list(json.load(f))
    except (OSError, ValueError):
        return []


def release(pods_root: str, pod_dir: str) -> None:
    """Unmounts the pod's sized volumes that no other pod on this node holds."""
    others = {p for d in glob.glob(os.path.join(pods_root, "*")) if d != pod_dir for p in held_by(d)}
    for path in held_by(pod_dir):
        if path not in others and os.path.ismount(path):
            _run("umount", path)
    try:
        os.unlink(os.path.join(pod_dir, HELD))
    except FileNotFoundError:
        pass


def _run(*argv: str) -> None:
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise CapacityError(f"{' '.join(argv)}: {proc.stderr.strip()}")
