"""Pod volumes: unique DNS-label names and exactly one source each."""

from __future__ import annotations

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
from skiff.v1 import pod_pb2

SOURCES = (("empty_dir", "emptyDir"), ("host_path", "hostPath"), ("config_map", "configMap"),
           ("secret", "secret"))
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


def _validate_projected(source, name: str, name_json: str, path: str) -> Errors:
    """configMap and secret volumes share a shape: a name, items, modes."""
    value = getattr(source, name)
    errs = [required(f"{path}.{name_json}")] if not value else invalids(
        f"{path}.{name_json}", value, dns1123_subdomain_errors(value))
    errs += _validate_items(source.items, f"{path}.items")
    return errs + _validate_mode(source, "default_mode", f"{path}.defaultMode")


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
    if field == "config_map":
        return _validate_projected(volume.config_map, "name", "name", path)
    return _validate_projected(volume.secret, "secret_name", "secretName", path)


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
