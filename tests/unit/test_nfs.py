"""nfs volumes short of the kernel's client (this host's kernel has no NFS; tests/vm mounts a real export):
mount(8)'s arguments as the kubelet's nfs plugin builds them, and a failed mount reported as FailedMount."""

from __future__ import annotations

import pytest

from node import nfs, volumes
from skiff.v1 import core_pb2, pod_pb2


def _pv(**nfs_fields) -> core_pb2.PersistentVolume:
    pv = core_pb2.PersistentVolume()
    pv.metadata.name = "shared"
    pv.spec.nfs.CopyFrom(core_pb2.NFSVolumeSource(**nfs_fields))
    return pv


def test_inline_volume_mounts_server_and_path() -> None:
    spec = nfs.inline(core_pb2.NFSVolumeSource(server="192.168.56.10", path="/srv/nfs"))
    assert spec.mount_args("/v") == ["-t", "nfs", "192.168.56.10:/srv/nfs", "/v"]


def test_inline_read_only_adds_ro() -> None:
    spec = nfs.inline(core_pb2.NFSVolumeSource(server="nfs.example", path="/e", read_only=True))
    assert spec.mount_args("/v") == ["-t", "nfs", "-o", "ro", "nfs.example:/e", "/v"]


def test_persistent_volume_takes_mount_options_and_the_claims_read_only() -> None:
    pv = _pv(server="10.0.0.5", path="/exports", read_only=True)
    pv.spec.mount_options.extend(["nfsvers=4.1", "hard"])
    assert nfs.persistent(pv, claim_read_only=False).mount_args("/v") == \
        ["-t", "nfs", "-o", "nfsvers=4.1,hard", "10.0.0.5:/exports", "/v"]
    assert nfs.persistent(pv, claim_read_only=True).mount_args("/v") == \
        ["-t", "nfs", "-o", "nfsvers=4.1,hard,ro", "10.0.0.5:/exports", "/v"]


def test_ipv6_server_is_bracketed() -> None:
    assert nfs.inline(core_pb2.NFSVolumeSource(server="fd00::5", path="/e")).source == "[fd00::5]:/e"


def _pod_with(volume: pod_pb2.Volume) -> pod_pb2.Pod:
    pod = pod_pb2.Pod()
    pod.metadata.name, pod.metadata.uid = "reader", "uid-nfs-1"
    pod.spec.volumes.append(volume)
    return pod


def test_failed_mount_is_a_volume_error_naming_the_command(tmp_path) -> None:
    # This kernel has no NFS client, so mount(8) fails for real (exit status 32) before any traffic.
    volume = pod_pb2.Volume(name="data", nfs=core_pb2.NFSVolumeSource(server="127.0.0.1", path="/exports"))
    with pytest.raises(volumes.VolumeError) as e:
        volumes.setup_volumes_sync(str(tmp_path), _pod_with(volume), {}, {})
    target = volumes.volume_path(str(tmp_path), "uid-nfs-1", "data")
    message = str(e.value)
    assert message.startswith('MountVolume.SetUp failed for volume "data": mount failed: exit status 32\n'), message
    assert f"Mounting command: mount\nMounting arguments: -t nfs 127.0.0.1:/exports {target}\nOutput: " in message
    assert not volumes.is_mount_point(target)


def test_claim_bound_to_an_nfs_volume_mounts_in_the_pods_directory(tmp_path) -> None:
    volume = pod_pb2.Volume(name="shared")
    volume.persistent_volume_claim.claim_name = "shared"
    volume.persistent_volume_claim.read_only = True
    with pytest.raises(volumes.VolumeError) as e:
        volumes.setup_volumes_sync(str(tmp_path), _pod_with(volume), {}, {},
                                   claimed={"shared": _pv(server="127.0.0.1", path="/exports")})
    target = volumes.volume_path(str(tmp_path), "uid-nfs-1", "shared")
    assert f"Mounting arguments: -t nfs -o ro 127.0.0.1:/exports {target}\n" in str(e.value)
