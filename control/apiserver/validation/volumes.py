"""Pod volumes: unique DNS-label names and exactly one source each."""

from __future__ import annotations

from control.apiserver.validation.claims import validate_claim_template
from control.apiserver.validation.containers import validate_field_ref, validate_resource_field_ref
from control.apiserver.validation.errors import (
    Errors,
    duplicate,
    forbidden,
    invalid,
    invalids,
    not_supported,
    required,
)
from control.apiserver.validation.names import (
    config_key_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    path_no_backsteps_errors,
    relative_path_errors,
)
from control.apiserver.validation.resources import validate_quantity
from skiff.v1 import core_pb2, pod_pb2

# Every volume source Kubernetes has counts for "exactly one": the ones the node cannot serve are
# refused there (FailedMount), not here, as a kubelet without the plugin does.
SOURCES = tuple((f.name, f.json_name) for f in pod_pb2.Volume.DESCRIPTOR.fields if f.name != "name")
PROJECTIONS = tuple((f.name, f.json_name) for f in pod_pb2.VolumeProjection.DESCRIPTOR.fields)
VOLUME_FIELD_PATHS = ("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
                      "metadata.uid")
# What Kubernetes requires of the sources a node here does not serve (validated all the same).
REQUIRED_FIELDS = {
    "nfs": ("server", "path"), "persistent_volume_claim": ("claim_name",), "ephemeral": ("volume_claim_template",),
    "csi": ("driver",), "git_repo": ("repository",), "iscsi": ("target_portal", "iqn"),
    "rbd": ("monitors", "image"), "cephfs": ("monitors",), "glusterfs": ("endpoints", "path"),
    "aws_elastic_block_store": ("volume_id",), "gce_persistent_disk": ("pd_name",),
    "azure_disk": ("disk_name", "disk_uri"), "azure_file": ("secret_name", "share_name"), "cinder": ("volume_id",),
    "image": ("reference",),
}
MIN_TOKEN_SECONDS = 600
MAX_TOKEN_SECONDS = 1 << 32
HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
                   "BlockDevice")
FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"


def _validate_mode(source, field: str, path: str) -> Errors:
    if source.HasField(field) and not 0 <= getattr(source, field) <= 0o777:
        return [invalid(path, getattr(source, field), FILE_MODE_MSG)]
    return []


def _validate_items(items, path: str) -> Errors:
    errs: Errors = []
    for i, item in enumerate(items):
        p = f"{path}[{i}]"
        if not item.key:
            errs.append(required(f"{p}.key"))
        else:
            errs += invalids(f"{p}.key", item.key, config_key_errors(item.key))
        if not item.path:
            errs.append(required(f"{p}.path"))
        else:
            errs += invalids(f"{p}.path", item.path, relative_path_errors(item.path))
        errs += _validate_mode(item, "mode", f"{p}.mode")
    return errs


def _validate_object_source(source, name: str, name_json: str, path: str) -> Errors:
    """configMap and secret volumes share a shape: a name, items, modes."""
    value = getattr(source, name)
    errs = [required(f"{path}.{name_json}")] if not value else invalids(
        f"{path}.{name_json}", value, dns1123_subdomain_errors(value))
    errs += _validate_items(source.items, f"{path}.items")
    return errs + _validate_mode(source, "default_mode", f"{path}.defaultMode")


def _validate_downward_items(items, path: str) -> Errors:
    errs: Errors = []
    for i, item in enumerate(items):
        p = f"{path}[{i}]"
        errs += [required(f"{p}.path")] if not item.path else invalids(
            f"{p}.path", item.path, relative_path_errors(item.path))
        errs += _validate_mode(item, "mode", f"{p}.mode")
        if item.HasField("field_ref") and item.HasField("resource_field_ref"):
            errs.append(invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
        elif item.HasField("field_ref"):
            errs += validate_field_ref(item.field_ref, f"{p}.fieldRef", VOLUME_FIELD_PATHS)
        elif item.HasField("resource_field_ref"):
            errs += validate_resource_field_ref(item.resource_field_ref, f"{p}.resourceFieldRef", volume=True)
        else:
            errs.append(required(p, "one of fieldRef and resourceFieldRef is required"))
    return errs


def _validate_projection(source: pod_pb2.VolumeProjection, path: str) -> Errors:
    present = [(f, j) for f, j in PROJECTIONS if source.HasField(f)]
    if not present:
        return [required(path, "must specify exactly 1 volume type")]
    errs = [forbidden(f"{path}.{j}", "may not specify more than 1 volume type per source") for _, j in present[1:]]
    field, json = present[0]
    p = f"{path}.{json}"
    if field in ("config_map", "secret"):
        value = getattr(source, field)
        errs += [required(f"{p}.name")] if not value.name else []
        return errs + _validate_items(value.items, f"{p}.items")
    if field == "downward_api":
        return errs + _validate_downward_items(source.downward_api.items, f"{p}.items")
    if field == "service_account_token":
        token = source.service_account_token
        errs += [required(f"{p}.path")] if not token.path else invalids(
            f"{p}.path", token.path, relative_path_errors(token.path))
        if token.HasField("expiration_seconds") and token.expiration_seconds < MIN_TOKEN_SECONDS:
            errs.append(invalid(f"{p}.expirationSeconds", token.expiration_seconds,
                                "may not specify a duration less than 10 minutes"))
        elif token.HasField("expiration_seconds") and token.expiration_seconds > MAX_TOKEN_SECONDS:
            errs.append(invalid(f"{p}.expirationSeconds", token.expiration_seconds,
                                "may not specify a duration larger than 2^32 seconds"))
    return errs


def _projected_paths(source: pod_pb2.VolumeProjection) -> list[str]:
    if source.HasField("config_map"):
        return [i.path for i in source.config_map.items]
    if source.HasField("secret"):
        return [i.path for i in source.secret.items]
    if source.HasField("downward_api"):
        return [i.path for i in source.downward_api.items]
    if source.HasField("service_account_token"):
        return [source.service_account_token.path]
    return []


def _validate_projected(projected: pod_pb2.ProjectedVolumeSource, path: str) -> Errors:
    errs = _validate_mode(projected, "default_mode", f"{path}.defaultMode")
    seen: set[str] = set()
    for i, source in enumerate(projected.sources):
        p = f"{path}.sources[{i}]"
        errs += _validate_projection(source, p)
        for file in _projected_paths(source):
            if file in seen:
                errs.append(invalid(p, file, "conflicting duplicate paths"))
            seen.add(file)
    return errs


def _validate_source(volume: pod_pb2.Volume, field: str, path: str) -> Errors:
    if field == "empty_dir":
        size = volume.empty_dir.size_limit
        return validate_quantity(size, f"{path}.sizeLimit")[0] if size else []
    if field == "host_path":
        hp = volume.host_path
        errs = [required(f"{path}.path")] if not hp.path else invalids(
            f"{path}.path", hp.path, path_no_backsteps_errors(hp.path))
        if hp.type not in HOST_PATH_TYPES:
            errs.append(not_supported(f"{path}.type", hp.type, HOST_PATH_TYPES))
        return errs
    if field == "persistent_volume_claim":
        return [] if volume.persistent_volume_claim.claim_name else [required(f"{path}.claimName")]
    if field == "ephemeral":
        if not volume.ephemeral.HasField("volume_claim_template"):
            return [required(f"{path}.volumeClaimTemplate")]
        return validate_claim_template(volume.ephemeral.volume_claim_template, f"{path}.volumeClaimTemplate")
    if field == "config_map":
        return _validate_object_source(volume.config_map, "name", "name", path)
    if field == "secret":
        return _validate_object_source(volume.secret, "secret_name", "secretName", path)
    if field == "downward_api":
        return (_validate_mode(volume.downward_api, "default_mode", f"{path}.defaultMode")
                + _validate_downward_items(volume.downward_api.items, f"{path}.items"))
    if field == "projected":
        return _validate_projected(volume.projected, path)
    return _validate_required(getattr(volume, field), REQUIRED_FIELDS.get(field, ()), path)


def _validate_required(source, fields: tuple[str, ...], path: str) -> Errors:
    by_name = source.DESCRIPTOR.fields_by_name
    errs = [required(f"{path}.{by_name[f].json_name}") for f in fields
            if not (source.HasField(f) if by_name[f].message_type else getattr(source, f))]
    if isinstance(source, core_pb2.NFSVolumeSource) and source.path and not source.path.startswith("/"):
        errs.append(invalid(f"{path}.path", source.path, "must be an absolute path"))
    if isinstance(source, pod_pb2.ISCSIVolumeSource) and not 0 <= source.lun <= 255:
        errs.append(invalid(f"{path}.lun", source.lun, "must be between 0 and 255, inclusive"))
    return errs


def validate_volumes(volumes, path: str) -> tuple[Errors, set[str]]:
    errs: Errors = []
    names: set[str] = set()
    for i, volume in enumerate(volumes):
        p = f"{path}[{i}]"
        if not volume.name:
            errs.append(required(f"{p}.name"))
        else:
            errs += invalids(f"{p}.name", volume.name, dns1123_label_errors(volume.name))
            if volume.name in names:
                errs.append(duplicate(f"{p}.name", volume.name))
            names.add(volume.name)
        present = [(f, j) for f, j in SOURCES if volume.HasField(f)]
        if not present:
            errs.append(required(p, "must specify a volume type"))
            continue
        errs += _validate_source(volume, present[0][0], f"{p}.{present[0][1]}")
        for _, json in present[1:]:
            errs.append(forbidden(f"{p}.{json}", "may not specify more than 1 volume type"))
    return errs, names
