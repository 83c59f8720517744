"""PV protection (kube-controller-manager's pv-protection): a volume keeps the
`kubernetes.io/pv-protection` finalizer while it lives; once deleted, the finalizer goes when the
volume is no longer Bound to a claim."""

from __future__ import annotations

from control.client.controller import Controller, ControllerContext
from control.client.informer import copy_of
from control.client.volumeutil import VOLUME_BOUND
from control.client.wellknown import FINALIZER_PV_PROTECTION, is_being_deleted
from control.controllers.pvcprotection import without_finalizer


class PVProtectionController(Controller):
    name = "pv-protection"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)
        self.volumes = ctx.informers.get("PersistentVolume")
        self.volumes.add_handler(**self.enqueue_handlers())

    async def reconcile(self, key: str) -> None:
        pv = self.volumes.store.get(key)
        if pv is None:
            return
        has = FINALIZER_PV_PROTECTION in pv.metadata.finalizers
        if not is_being_deleted(pv) and not has:
            updated = copy_of(pv)
            updated.metadata.finalizers.append(FINALIZER_PV_PROTECTION)
            await self.client.update(updated)
        elif is_being_deleted(pv) and has and pv.status.phase != VOLUME_BOUND:
            await self.client.update(without_finalizer(pv, FINALIZER_PV_PROTECTION))
