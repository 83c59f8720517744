"""A pod's claims on the node: which claim backs a volume, and where its PersistentVolume keeps the data."""

from __future__ import annotations

from collections.abc import Mapping

from skiff.v1 import core_pb2, pod_pb2


def claim_name(pod: pod_pb2.Pod, volume: pod_pb2.Volume) -> str | None:
    """The claim behind a volume: its persistentVolumeClaim, or `<pod>-<volume>` for an ephemeral one."""
    if volume.HasField("persistent_volume_claim"):
        return volume.persistent_volume_claim.claim_name
    if volume.HasField("ephemeral"):
        return f"{pod.metadata.name}-{volume.name}"
    return None


def unmanaged(volume: pod_pb2.Volume, claimed: Mapping[str, core_pb2.PersistentVolume]) -> bool:
    """A hostPath or nfs volume, or a claim whose volume is one: fsGroup leaves their ownership alone, as the
    kubelet's plugins for them do."""
    pv = claimed.get(volume.name)
    return volume.HasField("host_path") or volume.HasField("nfs") or (
        pv is not None and (pv.spec.HasField("host_path") or pv.spec.HasField("nfs")))


def volume_dir(pv: core_pb2.PersistentVolume) -> tuple[str, str]:
    """The directory of a PersistentVolume on this node and its hostPath type check."""
    if pv.spec.HasField("host_path"):
        return pv.spec.host_path.path, pv.spec.host_path.type
    if pv.spec.HasField("local"):
        return pv.spec.local.path, "Directory"
    raise ValueError(f'persistentvolume "{pv.metadata.name}": unsupported volume source '
                     '(supported: hostPath, local, nfs)')
