"""PersistentVolumes, PersistentVolumeClaims (core/v1) and StorageClasses (storage.k8s.io/v1), with
Kubernetes' messages."""

from __future__ import annotations

import posixpath

from google.protobuf.message import Message

from control.apiserver.validation.claims import (
    STORAGE,
    validate_access_modes,
    validate_claim_spec,
    validate_class_name,
    validate_positive_quantity,
    validate_volume_mode,
)
from control.apiserver.validation.errors import (
    Errors,
    duplicate,
    forbidden,
    immutable,
    invalid,
    invalids,
    not_supported,
    required,
)
from control.apiserver.validation.names import path_no_backsteps_errors, qualified_name_errors
from control.apiserver.validation.volumes import HOST_PATH_TYPES
from control.client.quantity import parse_quantity
from control.client.volumeutil import BETA_STORAGE_CLASS, CLAIM_BOUND
from skiff.v1 import core_pb2, storage_pb2

PV_RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
CLASS_RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
# The fields of a PersistentVolumeSpec that are not its volume source.
_NOT_SOURCES = frozenset({"access_modes", "capacity", "claim_ref", "mount_options", "node_affinity",
                          "persistent_volume_reclaim_policy", "storage_class_name", "volume_attributes_class_name",
                          "volume_mode"})
CLAIM_SPEC_IMMUTABLE = "spec is immutable after creation except resources.requests and volumeAttributesClassName " \
                       "for bound claims"


def volume_sources(spec: core_pb2.PersistentVolumeSpec) -> list[tuple[str, str]]:
    """The sources a PV sets, as (field, JSON name)."""
    return [(f.name, f.json_name) for f in spec.DESCRIPTOR.fields
            if f.name not in _NOT_SOURCES and spec.HasField(f.name)]


def _validate_source(spec: core_pb2.PersistentVolumeSpec, field: str, path: str) -> Errors:
    if field == "host_path":
        hp = spec.host_path
        errs = [required(f"{path}.path")] if not hp.path else invalids(
            f"{path}.path", hp.path, path_no_backsteps_errors(hp.path))
        if hp.type not in HOST_PATH_TYPES:
            errs.append(not_supported(f"{path}.type", hp.type, HOST_PATH_TYPES))
        return errs
    if field == "local":
        errs = [] if spec.local.path else [required(f"{path}.path")]
        if not spec.HasField("node_affinity"):
            errs.append(required("spec.nodeAffinity", "Local volume requires node affinity"))
        return errs
    if field == "nfs":
        errs = [] if spec.nfs.server else [required(f"{path}.server")]
        if not spec.nfs.path:
            errs.append(required(f"{path}.path"))
        elif not posixpath.isabs(spec.nfs.path):
            errs.append(invalid(f"{path}.path", spec.nfs.path, "must be an absolute path"))
        return errs
    if field == "csi":
        errs = [] if spec.csi.driver else [required(f"{path}.driver")]
        return errs + ([] if spec.csi.volume_handle else [required(f"{path}.volumeHandle")])
    return []


def _validate_sources(spec: core_pb2.PersistentVolumeSpec) -> Errors:
    sources = volume_sources(spec)
    if not sources:
        return [required("spec", "must specify a volume type")]
    errs = _validate_source(spec, sources[0][0], f"spec.{sources[0][1]}")
    return errs + [forbidden(f"spec.{json}", "may not specify more than 1 volume type") for _, json in sources[1:]]


def _validate_capacity(capacity) -> Errors:
    if not capacity:
        return [required("spec.capacity")]
    errs = [] if set(capacity) == {STORAGE} else [not_supported("spec.capacity", dict(capacity), [STORAGE])]
    for name, text in capacity.items():
        errs += validate_positive_quantity(text, f"spec.capacity[{name}]")[0]
    return errs


def _validate_node_affinity(spec: core_pb2.PersistentVolumeSpec) -> Errors:
    if not spec.HasField("node_affinity"):
        return []
    required_terms = spec.node_affinity.required
    if not spec.node_affinity.HasField("required"):
        return [required("spec.nodeAffinity.required", "must specify required node constraints")]
    if not required_terms.node_selector_terms:
        return [required("spec.nodeAffinity.required.nodeSelectorTerms", "must have at least one node selector term")]
    return []


def validate_persistent_volume(pv: core_pb2.PersistentVolume) -> Errors:
    spec = pv.spec
    errs = validate_access_modes(spec.access_modes, "spec.accessModes", "")
    errs += _validate_capacity(spec.capacity)
    policy = spec.persistent_volume_reclaim_policy
    if policy and policy not in PV_RECLAIM_POLICIES:
        errs.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, PV_RECLAIM_POLICIES))
    if policy == "Recycle" and spec.HasField("host_path") and posixpath.normpath(spec.host_path.path) == "/":
        errs.append(forbidden("spec.persistentVolumeReclaimPolicy", "may not be 'recycle' for a hostPath mount of '/'"))
    errs += validate_class_name(spec, "spec.storageClassName")
    errs += validate_volume_mode(spec, "spec.volumeMode")
    errs += _validate_node_affinity(spec)
    return errs + _validate_sources(spec)


def _source_of(spec: core_pb2.PersistentVolumeSpec) -> dict[str, Message]:
    return {field: getattr(spec, field) for field, _ in volume_sources(spec)}


def validate_persistent_volume_update(new: core_pb2.PersistentVolume, old: core_pb2.PersistentVolume) -> Errors:
    errs: Errors = []
    if _source_of(new.spec) != _source_of(old.spec):
        errs.append(forbidden("spec.persistentvolumesource",
                              "spec.persistentvolumesource is immutable after creation"))
    if new.spec.volume_mode != old.spec.volume_mode:
        errs.append(immutable("volumeMode", new.spec.volume_mode))
    if old.spec.HasField("node_affinity") and new.spec.node_affinity != old.spec.node_affinity:
        errs.append(immutable("nodeAffinity", new.spec.node_affinity))
    return errs


def validate_claim(pvc: core_pb2.PersistentVolumeClaim) -> Errors:
    return validate_claim_spec(pvc.spec, "spec")


def _storage_request(spec: core_pb2.PersistentVolumeClaimSpec):
    text = spec.resources.requests.get(STORAGE)
    try:
        return parse_quantity(text) if text else None
    except ValueError:
        return None


def validate_claim_update(new: core_pb2.PersistentVolumeClaim, old: core_pb2.PersistentVolumeClaim) -> Errors:
    comparable = core_pb2.PersistentVolumeClaimSpec()
    comparable.CopyFrom(new.spec)
    if not old.spec.volume_name:
        comparable.volume_name = old.spec.volume_name  # set once, by the binder
        if not old.spec.HasField("volume_name"):
            comparable.ClearField("volume_name")
    if not old.spec.HasField("storage_class_name") and BETA_STORAGE_CLASS not in old.metadata.annotations:
        comparable.ClearField("storage_class_name")  # set once later: the retroactive default class
    if new.status.phase == CLAIM_BOUND and STORAGE in old.spec.resources.requests:
        comparable.resources.requests[STORAGE] = old.spec.resources.requests[STORAGE]
    errs: Errors = []
    if comparable != old.spec:
        errs.append(forbidden("spec", CLAIM_SPEC_IMMUTABLE))
    new_size, old_size = _storage_request(new.spec), _storage_request(old.spec)
    if new_size is not None and old_size is not None and new_size < old_size:
        errs.append(forbidden("spec.resources.requests.storage", "field can not be less than previous value"))
    if new.spec.volume_mode != old.spec.volume_mode:
        errs.append(immutable("volumeMode", new.spec.volume_mode))
    return errs


def validate_storage_class(sc: storage_pb2.StorageClass) -> Errors:
    errs: Errors = []
    if not sc.provisioner:
        errs.append(required("provisioner"))
    else:
        errs += invalids("provisioner", sc.provisioner.lower(), qualified_name_errors(sc.provisioner.lower()))
    errs += [invalid("parameters", key, "field can not be empty.") for key in sc.parameters if not key]
    if sc.reclaim_policy not in CLASS_RECLAIM_POLICIES:
        errs.append(not_supported("reclaimPolicy", sc.reclaim_policy, CLASS_RECLAIM_POLICIES))
    if not sc.HasField("volume_binding_mode"):
        errs.append(required("volumeBindingMode"))
    elif sc.volume_binding_mode not in BINDING_MODES:
        errs.append(not_supported("volumeBindingMode", sc.volume_binding_mode, BINDING_MODES))
    return errs + _validate_allowed_topologies(sc.allowed_topologies, "allowedTopologies")


def _validate_allowed_topologies(terms, path: str) -> Errors:
    errs: Errors = []
    seen: list[dict[str, frozenset[str]]] = []
    for i, term in enumerate(terms):
        expressions: dict[str, frozenset[str]] = {}
        for j, rq in enumerate(term.match_label_expressions):
            p = f"{path}[{i}].matchLabelExpressions[{j}]"
            if not rq.values:
                errs.append(required(f"{p}.values", "must specify as least one value"))
            errs += [duplicate(f"{p}.values[{k}]", v) for k, v in enumerate(rq.values) if v in rq.values[:k]]
            errs += invalids(f"{p}.key", rq.key, qualified_name_errors(rq.key))
            if rq.key in expressions:
                errs.append(duplicate(f"{p}.key", rq.key))
            expressions[rq.key] = frozenset(rq.values)
        if expressions in seen:
            errs.append(duplicate(f"{path}[{i}].matchLabelExpressions", ""))
        seen.append(expressions)
    return errs


def validate_storage_class_update(new: storage_pb2.StorageClass, old: storage_pb2.StorageClass) -> Errors:
    errs: Errors = []
    if dict(new.parameters) != dict(old.parameters):
        errs.append(forbidden("parameters", "updates to parameters are forbidden."))
    if new.provisioner != old.provisioner:
        errs.append(forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.reclaim_policy != old.reclaim_policy:
        errs.append(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    if new.volume_binding_mode != old.volume_binding_mode:
        errs.append(immutable("volumeBindingMode", new.volume_binding_mode))
    return errs
