"""VolumeRestrictions: a claim with the ReadWriteOncePod access mode is used by one pod in the
cluster at a time; another pod using it fits no node while that pod is there."""

from __future__ import annotations

from control.client.informer import Store
from control.client.volumeutil import claims_of
from control.scheduler.framework import SKIP, SUCCESS, FilterPlugin, NodeInfo, Snapshot, Status, unschedulable
from control.scheduler.podinfo import PodInfo

PLUGIN = "VolumeRestrictions"
READ_WRITE_ONCE_POD = "ReadWriteOncePod"
ERR_READ_WRITE_ONCE_POD_CONFLICT = ("node has pod using PersistentVolumeClaim with the same name and "
                                    "ReadWriteOncePod access mode")


class VolumeRestrictions:
    def __init__(self, claims: Store) -> None:
        self.claims = claims

    def plugin(self) -> FilterPlugin:
        return FilterPlugin(PLUGIN, self.filter, self.pre_filter)

    def _exclusive_claims(self, pod: PodInfo) -> set[str]:
        names = set()
        for name in claims_of(pod.pod):
            pvc = self.claims.get(f"{pod.namespace}/{name}")
            if pvc is not None and READ_WRITE_ONCE_POD in pvc.spec.access_modes:
                names.add(name)
        return names

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> int | object:
        """How many other pods already use one of the pod's ReadWriteOncePod claims."""
        exclusive = self._exclusive_claims(pod)
        if not exclusive:
            return SKIP
        return sum(1 for node in snapshot.nodes.values() for other in node.pods.values()
                   if other.key != pod.key and other.namespace == pod.namespace
                   and exclusive.intersection(claims_of(other.pod)))

    def filter(self, pod: PodInfo, node: NodeInfo, conflicts: int) -> Status:
        return unschedulable(PLUGIN, ERR_READ_WRITE_ONCE_POD_CONFLICT) if conflicts else SUCCESS
