"""Containers and init containers: names, images, ports, env, mounts, probes, policies."""

from __future__ import annotations

from control.apiserver.validation.errors import (
    Errors,
    duplicate,
    enum,
    forbidden,
    invalid,
    invalids,
    not_found,
    not_supported,
    required,
)
from control.apiserver.validation.names import (
    config_key_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    env_var_name_errors,
    path_no_backsteps_errors,
    port_name_errors,
    port_number_errors,
    qualified_name_errors,
)
from control.apiserver.validation.probes import validate_lifecycle, validate_probe
from control.apiserver.validation.resources import validate_quantity, validate_resources
from control.apiserver.validation.security import validate_container_security_context
from skiff.v1 import pod_pb2

PROTOCOLS = ("TCP", "UDP", "SCTP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
MOUNT_PROPAGATIONS = ("None", "HostToContainer", "Bidirectional")
ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                   "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                   "status.podIPs")
RESOURCE_FIELD_REFS = ("limits.cpu", "limits.ephemeral-storage", "limits.memory",
                       "requests.cpu", "requests.ephemeral-storage", "requests.memory")
CPU_DIVISORS = ("1m", "1")
MEMORY_DIVISORS = ("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei")


def validate_ports(ports, path: str, host_network: bool) -> Errors:
    errs: Errors = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        p = f"{path}[{i}]"
        if port.name:
            errs += invalids(f"{p}.name", port.name, port_name_errors(port.name))
            if port.name in names:
                errs.append(duplicate(f"{p}.name", port.name))
            names.add(port.name)
        if port.container_port == 0:
            errs.append(required(f"{p}.containerPort"))
        else:
            errs += invalids(f"{p}.containerPort", port.container_port,
                             port_number_errors(port.container_port))
        if port.host_port:
            errs += invalids(f"{p}.hostPort", port.host_port, port_number_errors(port.host_port))
            if host_network and port.host_port != port.container_port:
                errs.append(invalid(f"{p}.hostPort", port.host_port,
                                    "must match `containerPort` when `hostNetwork` is true"))
        errs += enum(f"{p}.protocol", port.protocol, PROTOCOLS)
    return errs


def _validate_key_selector(ref: pod_pb2.ConfigMapKeySelector | pod_pb2.SecretKeySelector, path: str) -> Errors:
    errs = [required(f"{path}.name")] if not ref.name else invalids(
        f"{path}.name", ref.name, dns1123_subdomain_errors(ref.name))
    if not ref.key:
        errs.append(required(f"{path}.key"))
    else:
        errs += invalids(f"{path}.key", ref.key, config_key_errors(ref.key))
    return errs


def validate_field_ref(ref: pod_pb2.ObjectFieldSelector, path: str, allowed=ENV_FIELD_PATHS) -> Errors:
    if not ref.api_version:
        return [required(f"{path}.apiVersion")]
    if not ref.field_path:
        return [required(f"{path}.fieldPath")]
    for prefix in ("metadata.labels", "metadata.annotations"):
        if ref.field_path.startswith(prefix + "['") and ref.field_path.endswith("']"):
            key = ref.field_path[len(prefix) + 2:-2]
            check = qualified_name_errors(key.lower() if prefix.endswith("annotations") else key)
            return invalids(f"{path}.fieldPath", key, check)
    if ref.field_path not in allowed:
        return [not_supported(f"{path}.fieldPath", ref.field_path, allowed)]
    return []


def validate_resource_field_ref(ref: pod_pb2.ResourceFieldSelector, path: str,
                                volume: bool = False) -> Errors:
    if volume and not ref.container_name:
        return [required(f"{path}.containerName")]
    if not ref.resource:
        return [required(f"{path}.resource")]
    if ref.resource not in RESOURCE_FIELD_REFS:
        return [not_supported(f"{path}.resource", ref.resource, RESOURCE_FIELD_REFS)]
    if not ref.divisor:
        return []
    errs, _ = validate_quantity(ref.divisor, f"{path}.divisor")
    if errs:
        return errs
    if ref.resource.endswith("cpu") and ref.divisor not in CPU_DIVISORS:
        return [invalid(f"{path}.divisor", ref.divisor,
                        "only divisor's values 1m and 1 are supported with the cpu resource")]
    if ref.resource.endswith("memory") and ref.divisor not in MEMORY_DIVISORS:
        return [invalid(f"{path}.divisor", ref.divisor, f"only divisor's values {', '.join(MEMORY_DIVISORS)} "
                        "are supported with the memory resource")]
    return []


_SOURCES = (("field_ref", "fieldRef"), ("resource_field_ref", "resourceFieldRef"),
            ("config_map_key_ref", "configMapKeyRef"), ("secret_key_ref", "secretKeyRef"))


def _validate_value_from(env: pod_pb2.EnvVar, path: str) -> Errors:
    source = env.value_from
    present = [(f, j) for f, j in _SOURCES if source.HasField(f)]
    errs: Errors = []
    if env.value:
        errs.append(invalid(path, "", "may not be specified when `value` is not empty"))
    if not present:
        return errs + [invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, "
                               "`configMapKeyRef` or `secretKeyRef`")]
    if len(present) > 1:
        return errs + [invalid(path, "", "may not have more than one field specified at a time")]
    field, json = present[0]
    p = f"{path}.{json}"
    if field == "field_ref":
        return errs + validate_field_ref(source.field_ref, p)
    if field == "resource_field_ref":
        return errs + validate_resource_field_ref(source.resource_field_ref, p)
    return errs + _validate_key_selector(getattr(source, field), p)


def validate_env(envs, path: str) -> Errors:
    errs: Errors = []
    for i, env in enumerate(envs):
        p = f"{path}[{i}]"
        if not env.name:
            errs.append(required(f"{p}.name"))
        else:
            errs += invalids(f"{p}.name", env.name, env_var_name_errors(env.name))
        if env.HasField("value_from"):
            errs += _validate_value_from(env, f"{p}.valueFrom")
    return errs


def validate_env_from(sources, path: str) -> Errors:
    errs: Errors = []
    for i, source in enumerate(sources):
        p = f"{path}[{i}]"
        if source.prefix:
            errs += invalids(f"{p}.prefix", source.prefix, env_var_name_errors(source.prefix))
        refs = [(f, j) for f, j in (("config_map_ref", "configMapRef"), ("secret_ref", "secretRef"))
                if source.HasField(f)]
        if not refs:
            errs.append(invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif len(refs) > 1:
            errs.append(invalid(p, "", "may not have more than one field specified at a time"))
        else:
            name = getattr(source, refs[0][0]).name
            q = f"{p}.{refs[0][1]}.name"
            errs += [required(q)] if not name else invalids(q, name, dns1123_subdomain_errors(name))
    return errs


def validate_volume_mounts(container: pod_pb2.Container, volumes: set[str], path: str) -> Errors:
    errs: Errors = []
    paths: set[str] = set()
    privileged = container.security_context.privileged
    for i, mount in enumerate(container.volume_mounts):
        p = f"{path}[{i}]"
        if not mount.name:
            errs.append(required(f"{p}.name"))
        elif mount.name not in volumes:
            errs.append(not_found(f"{p}.name", mount.name))
        if not mount.mount_path:
            errs.append(required(f"{p}.mountPath"))
        elif mount.mount_path in paths:
            errs.append(invalid(f"{p}.mountPath", mount.mount_path, "must be unique"))
        paths.add(mount.mount_path)
        for value, json in ((mount.sub_path, "subPath"), (mount.sub_path_expr, "subPathExpr")):
            if value.startswith("/"):
                errs.append(invalid(f"{p}.{json}", value, "must be a relative path"))
            errs += invalids(f"{p}.{json}", value, path_no_backsteps_errors(value))
        if mount.sub_path and mount.sub_path_expr:
            errs.append(invalid(f"{p}.subPathExpr", mount.sub_path_expr,
                                "subPathExpr and subPath are mutually exclusive"))
        if mount.mount_propagation:
            if mount.mount_propagation not in MOUNT_PROPAGATIONS:
                errs.append(not_supported(f"{p}.mountPropagation", mount.mount_propagation,
                                          MOUNT_PROPAGATIONS))
            elif mount.mount_propagation == "Bidirectional" and not privileged:
                errs.append(forbidden(f"{p}.mountPropagation", "Bidirectional mount propagation is "
                                      "available only to privileged containers"))
    return errs


def _validate_common(c: pod_pb2.Container, volumes: set[str], path: str, host_network: bool,
                     host_users: bool = True) -> Errors:
    if not c.name:
        errs = [required(f"{path}.name")]
    else:
        errs = invalids(f"{path}.name", c.name, dns1123_label_errors(c.name))
    if not c.image:
        errs.append(required(f"{path}.image"))
    elif c.image != c.image.strip():
        errs.append(invalid(f"{path}.image", c.image, "must not have leading or trailing whitespace"))
    errs += validate_ports(c.ports, f"{path}.ports", host_network)
    errs += validate_env(c.env, f"{path}.env")
    errs += validate_env_from(c.env_from, f"{path}.envFrom")
    errs += validate_volume_mounts(c, volumes, f"{path}.volumeMounts")
    errs += validate_resources(c.resources, f"{path}.resources")
    errs += enum(f"{path}.imagePullPolicy", c.image_pull_policy, PULL_POLICIES)
    errs += enum(f"{path}.terminationMessagePolicy", c.termination_message_policy,
                 TERMINATION_MESSAGE_POLICIES)
    errs += validate_container_security_context(c.security_context, f"{path}.securityContext", host_users)
    return errs


_HOOKS = (("lifecycle", "lifecycle"), ("liveness_probe", "livenessProbe"),
          ("readiness_probe", "readinessProbe"), ("startup_probe", "startupProbe"))


def _validate_hooks(c: pod_pb2.Container, path: str) -> Errors:
    errs: Errors = []
    if c.HasField("lifecycle"):
        errs += validate_lifecycle(c.lifecycle, f"{path}.lifecycle")
    for field, json in _HOOKS[1:]:
        if c.HasField(field):
            errs += validate_probe(getattr(c, field), json.removesuffix("Probe"), f"{path}.{json}")
    return errs


def _validate_init(c: pod_pb2.Container, path: str) -> Errors:
    if c.restart_policy == "Always":  # a sidecar: probes and hooks allowed
        return _validate_hooks(c, path)
    errs: Errors = []
    if c.restart_policy:
        errs.append(not_supported(f"{path}.restartPolicy", c.restart_policy, ["Always"]))
    for field, json in _HOOKS:
        if c.HasField(field):
            errs.append(forbidden(f"{path}.{json}",
                                  "may not be set for init containers without restartPolicy=Always"))
    return errs


def _validate_host_ports(spec: pod_pb2.PodSpec, path: str) -> Errors:
    """No two ports of a pod may claim the same hostIP/protocol/hostPort."""
    errs: Errors = []
    seen: set[str] = set()
    for field, json in (("init_containers", "initContainers"), ("containers", "containers")):
        for i, c in enumerate(getattr(spec, field)):
            for j, port in enumerate(c.ports):
                if not port.host_port:
                    continue
                key = f"{port.host_ip}/{port.protocol}/{port.host_port}"
                if key in seen:
                    errs.append(duplicate(f"{path}.{json}[{i}].ports[{j}].hostPort", key))
                seen.add(key)
    return errs


def validate_containers(spec: pod_pb2.PodSpec, volumes: set[str], path: str) -> Errors:
    errs: Errors = []
    if not spec.containers:
        errs.append(required(f"{path}.containers"))
    seen: set[str] = set()
    for field, json in (("init_containers", "initContainers"), ("containers", "containers")):
        for i, c in enumerate(getattr(spec, field)):
            p = f"{path}.{json}[{i}]"
            errs += _validate_common(c, volumes, p, spec.host_network,
                                     not spec.HasField("host_users") or spec.host_users)
            if c.name and c.name in seen:
                errs.append(duplicate(f"{p}.name", c.name))
            seen.add(c.name)
            if field == "init_containers":
                errs += _validate_init(c, p)
                continue
            errs += _validate_hooks(c, p)
            if c.restart_policy:
                errs.append(forbidden(f"{p}.restartPolicy", "may not be set for non-init containers"))
    return errs + _validate_host_ports(spec, path)
