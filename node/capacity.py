"""Real capacity for local-path volumes: each is an ext4 filesystem image of its PersistentVolume's
size (`<dir>.img` beside the volume's directory), loop-mounted on the directory, so a 64Mi claim
cannot hold 100Mi; when the volume's capacity is raised (an expanded claim) the image and its
filesystem grow, online. The mount is made when a pod on this node first uses the volume and undone when
the last such pod is gone; which volumes a pod holds is written in its pod directory, so a restarted
agent still knows. The image stays with the data until the volume's helper pod removes both."""

from __future__ import annotations

import glob
import json
import logging
import os
import subprocess

from control.client.quantity import bytes_of
from control.client.volumeutil import STORAGE
from control.client.wellknown import ANNOTATION_PROVISIONED_BY

LOCAL_PATH_PROVISIONER = "rancher.io/local-path"
IMAGE_SUFFIX = ".img"
MIN_IMAGE_BYTES = 8 << 20  # ext4 needs room for its own metadata
HELD = "local-path-mounts.json"
log = logging.getLogger(__name__)
_online_refused: set[str] = set()  # images whose online growth the kernel refused, until remounted


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
    _online_refused.discard(image)
    if os.path.exists(image):
        grow(pv)  # raised while no pod used it: grown offline before the mount
    else:
        with open(image + ".tmp", "wb") as f:
            f.truncate(wanted_bytes(pv))
        _run("mkfs.ext4", "-q", "-F", "-m", "0", image + ".tmp")
        os.rename(image + ".tmp", image)
    _run("mount", "-o", "loop", image, path)
    os.chmod(path, 0o777)  # as local-path-provisioner makes its directories: any container user may write


def wanted_bytes(pv) -> int:
    return max(bytes_of(pv.spec.capacity.get(STORAGE, "0")), MIN_IMAGE_BYTES)


def grow(pv) -> bool:
    """Grows the volume's filesystem to its PersistentVolume's capacity once that is raised (the
    kubelet's NodeExpandVolume): offline when it is not mounted, else online (the image, its loop
    device, ext4) where the kernel allows it. A kernel that refuses online growth leaves it for the
    next mount, when the claim's pod is restarted, as Kubernetes' offline expansion. True when it grew."""
    image = image_of(pv.spec.host_path.path)
    want = wanted_bytes(pv)
    if not os.path.exists(image) or os.path.getsize(image) >= want or image in _online_refused:
        return False
    loop = _loop_device(image)
    if not loop:
        _resize(image, want, ["e2fsck", "-f", "-p", image], ["resize2fs", image])
        return True
    try:
        _resize(image, want, ["losetup", "-c", loop], ["resize2fs", loop])
    except CapacityError as e:
        _online_refused.add(image)
        log.info("online growth of %s refused, left for its next mount: %s", image, e)
        return False
    return True


def _resize(image: str, size: int, *steps: list[str]) -> None:
    """Extends the image to size and runs steps; the image is put back when one fails."""
    before = os.path.getsize(image)
    with open(image, "r+b") as f:
        f.truncate(size)
    try:
        for argv in steps:
            _run(*argv, ok=(0, 1) if argv[0] == "e2fsck" else (0,))  # e2fsck's 1: errors corrected
    except CapacityError:
        with open(image, "r+b") as f:
            f.truncate(before)
        if steps[0][:2] == ["losetup", "-c"]:
            subprocess.run(steps[0], capture_output=True)
        raise


def _loop_device(image: str) -> str:
    """The loop device backing the image (`losetup -j`), or "" when it is not attached."""
    proc = subprocess.run(["losetup", "-j", image], capture_output=True, text=True)
    first = proc.stdout.splitlines()[0] if proc.returncode == 0 and proc.stdout.strip() else ""
    return first.split(":", 1)[0]


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


def _run(*argv: str, ok: tuple[int, ...] = (0,)) -> None:
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode not in ok:
        raise CapacityError(f"{' '.join(argv)}: {proc.stderr.strip()}")
