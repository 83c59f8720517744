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


# The data sources dataSource may name by itself; any other needs dataSourceRef (KEP 1495).
LEGACY_DATA_SOURCES = (("", "PersistentVolumeClaim"), ("snapshot.storage.k8s.io", "VolumeSnapshot"))


def normalize_data_sources(spec: Message, old: Message | None) -> None:
    """Kubernetes' handling of dataSource and dataSourceRef on create and update: a namespace in
    dataSourceRef is dropped (cross-namespace sources are an alpha feature, off), a dataSource given
    alone that dataSource never allowed is dropped (as if no source was asked for), and then each
    of the two fills the other."""
    if spec.HasField("data_source_ref") and not (old is not None and old.data_source_ref.namespace):
        spec.data_source_ref.ClearField("namespace")
    if spec.HasField("data_source") and not spec.HasField("data_source_ref") and not (
            old is not None and old.HasField("data_source")):
        if (spec.data_source.api_group, spec.data_source.kind) not in LEGACY_DATA_SOURCES:
            spec.ClearField("data_source")
    source, ref = spec.data_source, spec.data_source_ref
    if spec.HasField("data_source") and not spec.HasField("data_source_ref"):
        ref.kind, ref.name = source.kind, source.name
        if source.HasField("api_group"):
            ref.api_group = source.api_group
    elif spec.HasField("data_source_ref") and not spec.HasField("data_source") and not ref.namespace:
        source.kind, source.name = ref.kind, ref.name
        if ref.HasField("api_group"):
            source.api_group = ref.api_group


class ClaimStrategy(Strategy):
    def prepare_for_create(self, obj: Message) -> None:
        obj.ClearField("status")
        obj.status.phase = CLAIM_PENDING
        normalize_data_sources(obj.spec, None)

    def prepare_for_update(self, new: Message, old: Message) -> None:
        normalize_data_sources(new.spec, old.spec)

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
