"""Volume expansion (kube-controller-manager's persistentvolume-expander with an external resizer's
part for the built-in local provisioner): a bound claim asking for more storage than its volume has,
whose class allows expansion, gets its PersistentVolume's capacity raised; the node then grows the
filesystem (online, node/capacity.py) and records the new capacity on the claim. Until it does, the
claim carries the condition FileSystemResizePending and `allocatedResourceStatuses[storage]`
NodeResizePending, as Kubernetes shows it."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext
from control.client.events import NORMAL
from control.client.informer import copy_of
from control.client.quantity import bytes_of
from control.client.volumeutil import CLAIM_BOUND, STORAGE, claim_class
from control.client.wellknown import ANNOTATION_PROVISIONED_BY, set_condition

FS_RESIZE_PENDING = "FileSystemResizePending"
NODE_RESIZE_PENDING = "NodeResizePending"
# The provisioners whose volumes this controller can grow (theirs is a directory on a node, grown there).
EXPANDABLE = frozenset({"rancher.io/local-path"})
WAITING = "Waiting for user to (re-)start a pod to finish file system resize of volume on node."


def requested(pvc: Message) -> int:
    return bytes_of(pvc.spec.resources.requests.get(STORAGE, "0"))


class VolumeExpandController(Controller):
    name = "persistentvolume-expander"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)
        self.claims = ctx.informers.get("PersistentVolumeClaim")
        self.volumes = ctx.informers.get("PersistentVolume")
        self.classes = ctx.informers.get("StorageClass")
        self.claims.add_handler(**self.enqueue_handlers())

    def _expandable(self, pvc: Message, pv: Message) -> bool:
        sc = self.classes.store.get(claim_class(pvc)) if claim_class(pvc) else None
        return sc is not None and sc.allow_volume_expansion and \
            pv.metadata.annotations.get(ANNOTATION_PROVISIONED_BY) in EXPANDABLE

    async def reconcile(self, key: str) -> None:
        pvc = self.claims.store.get(key)
        if pvc is None or pvc.status.phase != CLAIM_BOUND or not pvc.spec.volume_name:
            return
        pv = self.volumes.store.get(pvc.spec.volume_name)
        if pv is None or not self._expandable(pvc, pv):
            return
        want = pvc.spec.resources.requests[STORAGE]
        if requested(pvc) <= bytes_of(pvc.status.capacity.get(STORAGE, "0")):
            return
        if bytes_of(pv.spec.capacity.get(STORAGE, "0")) < requested(pvc):
            self.recorder.event(pvc, NORMAL, "Resizing", f"External resizer is resizing volume {pv.metadata.name}")
            grown = copy_of(pv)
            grown.spec.capacity[STORAGE] = want
            await self.client.update(grown)
            self.recorder.event(pvc, NORMAL, "FileSystemResizeRequired", "Require file system resize of volume on node")
        await self._mark_pending(pvc, want)

    async def _mark_pending(self, pvc: Message, want: str) -> None:
        status = copy_of(pvc).status
        if any(c.type == FS_RESIZE_PENDING for c in status.conditions) and \
                status.allocated_resources.get(STORAGE) == want:
            return
        set_condition(status, FS_RESIZE_PENDING, "True", message=WAITING)
        status.allocated_resources[STORAGE] = want
        status.allocated_resource_statuses[STORAGE] = NODE_RESIZE_PENDING
        await self.write_status(pvc, status)
