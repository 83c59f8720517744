"""What the apiserver, the persistent-volume controller, the scheduler and the agent share about
PersistentVolumes, claims and StorageClasses: classes, the default class, access modes, sizes."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from google.protobuf.message import Message

from control.client.quantity import parse_quantity
from control.client.wellknown import ANNOTATION_BETA_DEFAULT_STORAGE_CLASS, ANNOTATION_DEFAULT_STORAGE_CLASS

BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
STORAGE = "storage"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
IMMEDIATE = "Immediate"
RECLAIM_RETAIN, RECLAIM_DELETE, RECLAIM_RECYCLE = "Retain", "Delete", "Recycle"
# Phases of volumes and claims.
VOLUME_PENDING, VOLUME_AVAILABLE, VOLUME_BOUND = "Pending", "Available", "Bound"
VOLUME_RELEASED, VOLUME_FAILED = "Released", "Failed"
CLAIM_PENDING, CLAIM_BOUND, CLAIM_LOST = "Pending", "Bound", "Lost"


def is_default_class(sc: Message) -> bool:
    annotations = sc.metadata.annotations
    return "true" in (annotations.get(ANNOTATION_DEFAULT_STORAGE_CLASS),
                      annotations.get(ANNOTATION_BETA_DEFAULT_STORAGE_CLASS))


def default_class(classes: Iterable[Message]) -> Message | None:
    """The default StorageClass: of several, the newest (then the first by name), as Kubernetes picks."""
    defaults = [sc for sc in classes if is_default_class(sc)]
    if not defaults:
        return None
    return min(defaults, key=lambda sc: (-sc.metadata.creation_timestamp.ToNanoseconds(), sc.metadata.name))


def claim_class(pvc: Message) -> str:
    """A claim's class: the beta annotation first, then spec.storageClassName ("" for none)."""
    return pvc.metadata.annotations.get(BETA_STORAGE_CLASS) or pvc.spec.storage_class_name


volume_class = claim_class  # a PV's class is read the same way


def storage_of(resources) -> Decimal:
    text = resources.get(STORAGE, "")
    try:
        return parse_quantity(text) if text else Decimal(0)
    except ValueError:
        return Decimal(0)


def claim_request(pvc: Message) -> Decimal:
    return storage_of(pvc.spec.resources.requests)


def volume_capacity(pv: Message) -> Decimal:
    return storage_of(pv.spec.capacity)


def volume_mode(spec: Message) -> str:
    return spec.volume_mode or "Filesystem"


def access_modes_cover(volume_modes: Iterable[str], wanted: Iterable[str]) -> bool:
    """Whether a volume offers every access mode a claim asks for."""
    offered = set(volume_modes)
    return all(mode in offered for mode in wanted)


def claim_key(pvc: Message) -> str:
    return f"{pvc.metadata.namespace}/{pvc.metadata.name}"
