"""PV protection (kube-controller-manager's pv-protection): a volume keeps the
`kubernetes.io/pv-protection` finalizer while it lives; once deleted, the finalizer goes when the
volume is no longer Bound to a claim."""

from __future__ import annotations

from control.client.controller import Controller, ControllerContext
from control.client.finalizers import protect
from control.client.volumeutil import VOLUME_BOUND
from control.client.wellknown import FINALIZER_PV_PROTECTION


class PVProtectionController(Controller):
    name = "pv-protection"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)
        self.volumes = ctx.informers.get("PersistentVolume")
        self.volumes.add_handler(**self.enqueue_handlers())

    async def reconcile(self, key: str) -> None:
        pv = self.volumes.store.get(key)
        if pv is not None:
            async def bound() -> bool:
                return pv.status.phase == VOLUME_BOUND
            await protect(self.client, pv, FINALIZER_PV_PROTECTION, bound)
