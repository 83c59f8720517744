"""Claim specs (core/v1 PersistentVolumeClaimSpec), shared by claims, generic ephemeral volumes and
(later) claim templates; access modes and volume modes, shared with PersistentVolumes."""

from __future__ import annotations

from decimal import Decimal

from control.apiserver.validation.errors import Errors, forbidden, invalid, invalids, not_supported, required
from control.apiserver.validation.meta import validate_label_selector, validate_template_meta
from control.apiserver.validation.names import dns1123_label_errors, dns1123_subdomain_errors
from control.apiserver.validation.resources import validate_quantity
from control.client.quantity import canonical
from skiff.v1 import core_pb2, pod_pb2

READ_WRITE_ONCE_POD = "ReadWriteOncePod"
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", READ_WRITE_ONCE_POD)
VOLUME_MODES = ("Block", "Filesystem")
STORAGE = "storage"
CLAIM_KIND = "PersistentVolumeClaim"


def validate_access_modes(modes, path: str, required_detail: str) -> Errors:
    if not modes:
        return [required(path, required_detail)]
    errs = [not_supported(path, mode, ACCESS_MODES) for mode in modes if mode not in ACCESS_MODES]
    if READ_WRITE_ONCE_POD in modes and len(modes) > 1:
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def validate_positive_quantity(text: str, path: str) -> tuple[Errors, Decimal | None]:
    errs, value = validate_quantity(text, path)
    if value is not None and value <= 0:
        return [invalid(path, canonical(text), "must be greater than zero")], None
    return errs, value


def validate_class_name(spec, path: str) -> Errors:
    name = spec.storage_class_name
    return invalids(path, name, dns1123_subdomain_errors(name)) if name else []


def validate_volume_mode(spec, path: str) -> Errors:
    if spec.HasField("volume_mode") and spec.volume_mode not in VOLUME_MODES:
        return [not_supported(path, spec.volume_mode, VOLUME_MODES)]
    return []


def validate_claim_spec(spec: core_pb2.PersistentVolumeClaimSpec, path: str) -> Errors:
    errs = validate_access_modes(spec.access_modes, f"{path}.accessModes", "at least 1 access mode is required")
    if spec.HasField("selector"):
        errs += validate_label_selector(spec.selector, f"{path}.selector")
    storage = spec.resources.requests.get(STORAGE)
    if storage is None:
        errs.append(required(f"{path}.resources[{STORAGE}]"))
    else:
        errs += validate_positive_quantity(storage, f"{path}.resources[{STORAGE}]")[0]
    errs += validate_class_name(spec, f"{path}.storageClassName")
    errs += validate_volume_mode(spec, f"{path}.volumeMode")
    return errs + _validate_data_sources(spec, path)


def _validate_reference(ref, path: str) -> Errors:
    errs: Errors = []
    if not ref.name:
        errs.append(required(f"{path}.name"))
    if not ref.kind:
        errs.append(required(f"{path}.kind"))
    if not ref.api_group and ref.kind != CLAIM_KIND:
        errs.append(invalid(path, ref.kind, f"must be '{CLAIM_KIND}' when referencing the default apiGroup"))
    if ref.api_group:
        errs += invalids(f"{path}.apiGroup", ref.api_group, dns1123_subdomain_errors(ref.api_group))
    return errs


def _validate_data_sources(spec, path: str) -> Errors:
    """dataSource and dataSourceRef: each a valid reference, the same one when both are set (unless
    dataSourceRef points into another namespace, where dataSource may not be set)."""
    errs: Errors = []
    source, ref = spec.data_source, spec.data_source_ref
    has_source, has_ref = spec.HasField("data_source"), spec.HasField("data_source_ref")
    if has_source:
        errs += _validate_reference(source, f"{path}.dataSource")
    if has_ref:
        errs += _validate_reference(ref, f"{path}.dataSourceRef")
        if ref.namespace:
            errs += invalids(f"{path}.dataSourceRef.namespace", ref.namespace, dns1123_label_errors(ref.namespace))
    if has_ref and ref.namespace:
        if has_source:
            errs.append(invalid(path, f"{path}.dataSource",
                                "may not be specified when dataSourceRef.namespace is specified"))
    elif has_source and has_ref and (source.HasField("api_group"), source.api_group, source.kind, source.name) != (
            ref.HasField("api_group"), ref.api_group, ref.kind, ref.name):
        errs.append(invalid(path, f"{path}.dataSource", "must match dataSourceRef"))
    return errs


def validate_claim_template(template: pod_pb2.PersistentVolumeClaimTemplate, path: str) -> Errors:
    return validate_template_meta(template.metadata, f"{path}.metadata") + validate_claim_spec(
        template.spec, f"{path}.spec")
