"""Ephemeral containers (spec.ephemeralContainers): Kubernetes' rules for adding them through the
pods/ephemeralcontainers subresource, the only way they may change."""

from __future__ import annotations

from control.apiserver.validation.containers import validate_env, validate_env_from, validate_volume_mounts
from control.apiserver.validation.errors import (
    Errors,
    duplicate,
    enum,
    forbidden,
    invalid,
    invalids,
    not_found,
    required,
)
from control.apiserver.validation.names import dns1123_label_errors
from control.apiserver.validation.security import validate_container_security_context
from skiff.v1 import pod_pb2

PATH = "spec.ephemeralContainers"
NOT_FOR_EPHEMERAL = "cannot be set for an Ephemeral Container"
_MESSAGE_FIELDS = (("lifecycle", "lifecycle"), ("liveness_probe", "livenessProbe"),
                   ("readiness_probe", "readinessProbe"), ("resources", "resources"),
                   ("startup_probe", "startupProbe"))
_LIST_FIELDS = (("ports", "ports"), ("resize_policy", "resizePolicy"))


def _forbidden_fields(c: pod_pb2.EphemeralContainer, path: str) -> Errors:
    errs = [forbidden(f"{path}.{json}", NOT_FOR_EPHEMERAL) for field, json in _MESSAGE_FIELDS
            if c.HasField(field) and getattr(c, field).ByteSize()]
    errs += [forbidden(f"{path}.{json}", NOT_FOR_EPHEMERAL) for field, json in _LIST_FIELDS if getattr(c, field)]
    if c.HasField("restart_policy"):
        errs.append(forbidden(f"{path}.restartPolicy", NOT_FOR_EPHEMERAL))
    errs += [forbidden(f"{path}.volumeMounts[{i}].subPath", NOT_FOR_EPHEMERAL)
             for i, m in enumerate(c.volume_mounts) if m.sub_path]
    return errs


def _validate_one(c: pod_pb2.EphemeralContainer, spec: pod_pb2.PodSpec, volumes: set[str], path: str) -> Errors:
    errs = [required(f"{path}.name")] if not c.name else invalids(f"{path}.name", c.name,
                                                                   dns1123_label_errors(c.name))
    if not c.image:
        errs.append(required(f"{path}.image"))
    elif c.image != c.image.strip():
        errs.append(invalid(f"{path}.image", c.image, "must not have leading or trailing whitespace"))
    errs += _forbidden_fields(c, path)
    errs += validate_env(c.env, f"{path}.env")
    errs += validate_env_from(c.env_from, f"{path}.envFrom")
    errs += validate_volume_mounts(c, volumes, f"{path}.volumeMounts")
    errs += enum(f"{path}.imagePullPolicy", c.image_pull_policy, ("Always", "IfNotPresent", "Never"))
    errs += enum(f"{path}.terminationMessagePolicy", c.termination_message_policy, ("File", "FallbackToLogsOnError"))
    errs += validate_container_security_context(c.security_context, f"{path}.securityContext",
                                                not spec.HasField("host_users") or spec.host_users)
    targets = {x.name for x in (*spec.containers, *spec.init_containers)}
    if c.target_container_name and c.target_container_name not in targets:
        errs.append(not_found(f"{path}.targetContainerName", c.target_container_name))
    return errs


def validate_ephemeral_containers(spec: pod_pb2.PodSpec) -> Errors:
    errs: Errors = []
    seen = {c.name for c in (*spec.containers, *spec.init_containers)}
    volumes = {v.name for v in spec.volumes}
    for i, c in enumerate(spec.ephemeral_containers):
        path = f"{PATH}[{i}]"
        errs += _validate_one(c, spec, volumes, path)
        if c.name and c.name in seen:
            errs.append(duplicate(f"{path}.name", c.name))
        seen.add(c.name)
    return errs


def validate_ephemeral_update(new: pod_pb2.PodSpec, old: pod_pb2.PodSpec) -> Errors:
    """Ephemeral containers are only ever added: the existing ones stay, unchanged."""
    errs: Errors = []
    by_name = {c.name: (i, c) for i, c in enumerate(new.ephemeral_containers)}
    for before in old.ephemeral_containers:
        found = by_name.get(before.name)
        if found is None:
            errs.append(forbidden(PATH, f'existing ephemeral containers "{before.name}" may not be removed'))
        elif found[1] != before:
            errs.append(forbidden(f"{PATH}[{found[0]}]",
                                  f'existing ephemeral containers "{before.name}" may not be changed'))
    return errs + validate_ephemeral_containers(new)
