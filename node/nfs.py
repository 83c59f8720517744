"""nfs volumes (the kubelet's kubernetes.io/nfs plugin): the kernel's NFS client mounts server:path on the
pod's volume directory (`mount -t nfs`, from nfs-common), read-only when the volume says so, with the
PersistentVolume's mountOptions. The mount goes with the pod (node/volumes.py unmounts whatever is
mounted under a pod's volumes)."""

from __future__ import annotations

import ipaddress
import os
import subprocess
from dataclasses import dataclass

from skiff.v1 import core_pb2


class MountError(OSError):
    """mount(8) failed; the message is the kubelet's (command, arguments, output)."""


@dataclass(frozen=True)
class NFSMount:
    server: str
    path: str
    read_only: bool = False
    options: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        server = f"[{self.server}]" if _is_ipv6(self.server) else self.server
        return f"{server}:{self.path}"

    def mount_args(self, target: str) -> list[str]:
        options = [*self.options, *(["ro"] if self.read_only else [])]
        return ["-t", "nfs", *(["-o", ",".join(options)] if options else []), self.source, target]


def _is_ipv6(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 6
    except ValueError:
        return False


def inline(source: core_pb2.NFSVolumeSource) -> NFSMount:
    """A pod's own nfs volume: its readOnly decides."""
    return NFSMount(source.server, source.path, source.read_only)


def persistent(pv: core_pb2.PersistentVolume, claim_read_only: bool) -> NFSMount:
    """A PersistentVolume's nfs source: the pod's claim decides readOnly (as the kubelet's spec.ReadOnly),
    the PersistentVolume gives the mount options."""
    nfs = pv.spec.nfs
    return NFSMount(nfs.server, nfs.path, claim_read_only, tuple(pv.spec.mount_options))


def mount(spec: NFSMount, target: str, is_mount_point) -> str:
    """Mounts spec on target unless something is mounted there already; returns target."""
    os.makedirs(target, mode=0o750, exist_ok=True)
    if is_mount_point(target):
        return target
    args = spec.mount_args(target)
    proc = subprocess.run(["mount", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise MountError(f"mount failed: exit status {proc.returncode}\nMounting command: mount\n"
                         f"Mounting arguments: {' '.join(args)}\nOutput: {proc.stdout.strip()}")
    return target
