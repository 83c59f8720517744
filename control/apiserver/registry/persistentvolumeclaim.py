"""PersistentVolumeClaims (v1): Pending on create; admission as Kubernetes' DefaultStorageClass (a
claim without storageClassName gets the default class), StorageObjectInUseProtection (the
`kubernetes.io/pvc-protection` finalizer) and PersistentVolumeClaimResize (a bound claim grows only
when its class allows volume expansion)."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults, errors
from control.apiserver.context import ApiContext
from control.apiserver.registry.base import Strategy
from control.apiserver.registry.persistentvolume import add_finalizer
from control.apiserver.validation import storage
from control.client.volumeutil import BETA_STORAGE_CLASS, CLAIM_PENDING, claim_class, claim_request, default_class
from control.client.wellknown import FINALIZER_PVC_PROTECTION

RESIZE_FORBIDDEN = ("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc "
                    "must support resize")


def _classes(api: ApiContext) -> dict[str, Message]:
    objects, _ = api.cache.caches["StorageClass"].snapshot()
    return {sc.metadata.name: sc for sc in objects}


def set_default_class(pvc: Message, classes: list[Message]) -> None:
    if pvc.spec.HasField("storage_class_name") or BETA_STORAGE_CLASS in pvc.metadata.annotations:
        return
    chosen = default_class(classes)
    if chosen is not None:
        pvc.spec.storage_class_name = chosen.metadata.name


class ClaimStrategy(Strategy):
    def prepare_for_create(self, obj: Message) -> None:
        obj.ClearField("status")
        obj.status.phase = CLAIM_PENDING

    async def admit(self, obj: Message, api: ApiContext) -> None:
        set_default_class(obj, list(_classes(api).values()))
        add_finalizer(obj, FINALIZER_PVC_PROTECTION)

    def admit_update(self, new: Message, old: Message, api: ApiContext) -> None:
        if claim_request(new) <= claim_request(old):
            return
        sc = _classes(api).get(claim_class(old))
        if not old.spec.volume_name or sc is None or not sc.allow_volume_expansion:
            raise errors.forbidden(f'persistentvolumeclaims "{new.metadata.name}" is forbidden: {RESIZE_FORBIDDEN}')


strategy = ClaimStrategy(default=defaults.default_claim, validate=storage.validate_claim,
                         validate_update=storage.validate_claim_update)
