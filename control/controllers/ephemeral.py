"""Generic ephemeral volumes (kube-controller-manager's ephemeral-volume): each pod's `ephemeral`
volume gets its claim `<pod>-<volume>` from the volume's claim template, owned by the pod (so the
garbage collector deletes it with the pod). A claim of that name not owned by the pod is left alone and
reported, as Kubernetes does."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext
from control.client.events import WARNING
from control.client.kinds import KINDS
from control.client.wellknown import is_being_deleted
from skiff.v1 import meta_pb2


def claim_for(pod: Message, volume: Message) -> Message:
    template = volume.ephemeral.volume_claim_template
    meta = meta_pb2.ObjectMeta(name=f"{pod.metadata.name}-{volume.name}", namespace=pod.metadata.namespace,
                               labels=dict(template.metadata.labels),
                               annotations=dict(template.metadata.annotations))
    meta.owner_references.add(api_version="v1", kind="Pod", name=pod.metadata.name, uid=pod.metadata.uid,
                              controller=True, block_owner_deletion=True)
    return KINDS["PersistentVolumeClaim"].new(metadata=meta, spec=template.spec)


class EphemeralVolumeController(Controller):
    name = "ephemeral-volume"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)
        self.pods = ctx.informers.get("Pod")
        self.claims = ctx.informers.get("PersistentVolumeClaim")
        self.pods.add_handler(self.enqueue, lambda _old, new: self.enqueue(new))

    async def reconcile(self, key: str) -> None:
        pod = self.pods.store.get(key)
        if pod is None or is_being_deleted(pod):
            return
        for volume in pod.spec.volumes:
            if volume.HasField("ephemeral") and volume.ephemeral.HasField("volume_claim_template"):
                await self._ensure_claim(pod, volume)

    async def _ensure_claim(self, pod: Message, volume: Message) -> None:
        name = f"{pod.metadata.name}-{volume.name}"
        existing = self.claims.store.get(f"{pod.metadata.namespace}/{name}")
        if existing is not None:
            if not any(ref.uid == pod.metadata.uid for ref in existing.metadata.owner_references):
                self.recorder.event(pod, WARNING, "FailedBinding",
                                    f"PVC {pod.metadata.namespace}/{name} was not created for pod "
                                    f"{pod.metadata.namespace}/{pod.metadata.name} (pod is not owner)")
            return
        try:
            await self.client.create(claim_for(pod, volume))
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
