"""PVC protection (kube-controller-manager's pvc-protection): a claim keeps the
`kubernetes.io/pvc-protection` finalizer while it lives; once deleted, the finalizer goes only when
no pod that has not terminated uses it (directly, or as a pod's generic ephemeral volume)."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext
from control.client.finalizers import protect
from control.client.volumeutil import claims_of
from control.client.wellknown import FINALIZER_PVC_PROTECTION, is_terminal


class PVCProtectionController(Controller):
    name = "pvc-protection"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)
        self.claims = ctx.informers.get("PersistentVolumeClaim")
        self.pods = ctx.informers.get("Pod")
        self.claims.add_handler(**self.enqueue_handlers())
        self.pods.add_handler(self._pod_changed, lambda _old, new: self._pod_changed(new), self._pod_changed)

    def _pod_changed(self, pod: Message) -> None:
        for name in claims_of(pod):
            self.queue.add(f"{pod.metadata.namespace}/{name}")

    @staticmethod
    def _used_by(pvc: Message, pods) -> bool:
        return any(not is_terminal(pod) and pvc.metadata.name in claims_of(pod) for pod in pods)

    async def _in_use(self, pvc: Message) -> bool:
        """The informer first; when it sees no user, the apiserver (a pod just created may not have
        reached the informer yet), as Kubernetes' controller asks before letting a claim go."""
        if self._used_by(pvc, self.pods.store.by_index("namespace", pvc.metadata.namespace)):
            return True
        pods, _ = await self.client.list_all("Pod", pvc.metadata.namespace)
        return self._used_by(pvc, pods)

    async def reconcile(self, key: str) -> None:
        pvc = self.claims.store.get(key)
        if pvc is not None:
            await protect(self.client, pvc, FINALIZER_PVC_PROTECTION, lambda: self._in_use(pvc))
