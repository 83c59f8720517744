"""What the apiserver, the persistent-volume controller, the scheduler and the agent share about
PersistentVolumes, claims and StorageClasses: classes, the default class, access modes, sizes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


def is_prebound_to(pv: Message, pvc: Message) -> bool:
    """A volume whose claimRef names this claim (with no uid yet, or the claim's)."""
    ref = pv.spec.claim_ref
    return pv.spec.HasField("claim_ref") and ref.name == pvc.metadata.name and \
        ref.namespace == pvc.metadata.namespace and ref.uid in ("", pvc.metadata.uid)


def mismatch(pv: Message, pvc: Message) -> str:
    """Why a volume cannot satisfy a claim ("" when it can), in the controller's words."""
    if volume_capacity(pv) < claim_request(pvc):
        return "requested PV is too small"
    if volume_class(pv) != claim_class(pvc):
        return "storageClassName does not match"
    if volume_mode(pv.spec) != volume_mode(pvc.spec):
        return "incompatible volumeMode"
    if not access_modes_cover(pv.spec.access_modes, pvc.spec.access_modes):
        return "incompatible accessMode"
    return ""


def find_best_match(pvc: Message, volumes: Iterable[Message], selector_matches: Callable[[Message], bool],
                    node_fits: Callable[[Message], bool] | None = None, delay_binding: bool = False) -> Message | None:
    """The volume to bind a claim to: one pre-bound to it, else the smallest Available volume of its class
    with its access modes, volume mode, enough capacity, labels its selector matches and (for the
    scheduler) node affinity to the node. Unbound volumes of a WaitForFirstConsumer claim are left to
    the scheduler (`delay_binding` without `node_fits`)."""
    best = None
    for pv in volumes:
        if pv.metadata.HasField("deletion_timestamp") or mismatch(pv, pvc):
            continue
        if node_fits is not None and not node_fits(pv):
            continue
        if is_prebound_to(pv, pvc):
            return pv
        if pv.spec.HasField("claim_ref") or pv.status.phase != VOLUME_AVAILABLE:
            continue
        if (delay_binding and node_fits is None) or not selector_matches(pv):
            continue
        if best is None or volume_capacity(pv) < volume_capacity(best):
            best = pv
    return best


def claims_of(pod: Message) -> list[str]:
    """The names of the claims a pod's volumes use (an ephemeral volume's claim is `<pod>-<volume>`)."""
    names = []
    for volume in pod.spec.volumes:
        if volume.HasField("persistent_volume_claim"):
            names.append(volume.persistent_volume_claim.claim_name)
        elif volume.HasField("ephemeral"):
            names.append(f"{pod.metadata.name}-{volume.name}")
    return names
