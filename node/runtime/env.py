"""A container's environment (the kubelet's makeEnvironmentVariables): envFrom, env with $(VAR)
expansion and the downward API, then the service link variables.

Pure: the caller fetches the ConfigMaps, Secrets and Services and passes them in (EnvContext).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from control.client.quantity import parse_quantity
from node.runtime.resources import effective_requests, milli_cpu
from skiff.v1 import core_pb2, pod_pb2

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class ContainerConfigError(ValueError):
    """The container cannot be configured yet (kubelet's CreateContainerConfigError)."""


@dataclass
class EnvContext:
    """What env values may refer to besides the pod itself."""

    config_maps: Mapping[str, core_pb2.ConfigMap] = field(default_factory=dict)
    secrets: Mapping[str, core_pb2.Secret] = field(default_factory=dict)
    pod_ip: str = ""
    host_ip: str = ""
    node_allocatable: Mapping[str, str] = field(default_factory=dict)
    services: Sequence[core_pb2.Service] = ()  # for the docker-link style service variables


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_env(services: Sequence[core_pb2.Service]) -> dict[str, str]:
    """The {SVC}_SERVICE_HOST / {SVC}_PORT_... variables of services that have a cluster IP."""
    env: dict[str, str] = {}
    for svc in sorted(services, key=lambda s: s.metadata.name):
        ip = svc.spec.cluster_ip
        if not ip or ip == "None" or not svc.spec.ports:
            continue
        name, first = _env_name(svc.metadata.name), svc.spec.ports[0]
        env[f"{name}_SERVICE_HOST"] = ip
        env[f"{name}_SERVICE_PORT"] = str(first.port)
        for port in svc.spec.ports:
            if port.name:
                env[f"{name}_SERVICE_PORT_{_env_name(port.name)}"] = str(port.port)
        env[f"{name}_PORT"] = f"{(first.protocol or 'TCP').lower()}://{ip}:{first.port}"
        for port in svc.spec.ports:
            proto = port.protocol or "TCP"
            prefix = f"{name}_PORT_{port.port}_{proto}"
            env[prefix] = f"{proto.lower()}://{ip}:{port.port}"
            env[f"{prefix}_PROTO"] = proto.lower()
            env[f"{prefix}_PORT"] = str(port.port)
            env[f"{prefix}_ADDR"] = ip
    return env


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """Kubernetes' $(VAR) expansion: $$ escapes, unknown references stay as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(" and (end := text.find(")", i + 2)) != -1:
            name = text[i + 2:end]
            value = lookup(name)
            out.append(value if value is not None else f"$({name})")
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _field_ref(pod: pod_pb2.Pod, path: str, ctx: EnvContext) -> str:
    simple = {"metadata.name": pod.metadata.name, "metadata.namespace": pod.metadata.namespace,
              "metadata.uid": pod.metadata.uid, "spec.nodeName": pod.spec.node_name,
              "spec.serviceAccountName": pod.spec.service_account_name,
              "status.hostIP": ctx.host_ip, "status.hostIPs": ctx.host_ip,
              "status.podIP": ctx.pod_ip, "status.podIPs": ctx.pod_ip}
    if path in simple:
        return simple[path]
    m = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if m:
        source = pod.metadata.labels if m.group(1) == "labels" else pod.metadata.annotations
        return source.get(m.group(2), "")
    raise ContainerConfigError(f"unsupported fieldPath: {path}")


def resource_field_value(pod: pod_pb2.Pod, container: pod_pb2.Container,
                        ref: pod_pb2.ResourceFieldSelector, ctx: EnvContext) -> str:
    target = container
    if ref.container_name:
        named = [c for c in [*pod.spec.init_containers, *pod.spec.containers] if c.name == ref.container_name]
        if not named:
            raise ContainerConfigError(f"container {ref.container_name!r} not found in pod")
        target = named[0]
    kind, _, resource = ref.resource.partition(".")
    source = effective_requests(target) if kind == "requests" else dict(target.resources.limits)
    fallback = ctx.node_allocatable.get(resource) if kind == "limits" else None
    quantity = source.get(resource) or fallback or "0"
    divisor = parse_quantity(ref.divisor or "1")
    if divisor <= 0:
        raise ContainerConfigError(f"invalid divisor {ref.divisor!r} for {ref.resource}")
    if resource == "cpu":
        return str(math.ceil(Decimal(milli_cpu(quantity)) / (divisor * 1000)))
    return str(math.ceil(parse_quantity(quantity) / divisor))


def _key_ref(ref: pod_pb2.ConfigMapKeySelector | pod_pb2.SecretKeySelector, ctx: EnvContext, namespace: str,
             secret: bool) -> str | None:
    kind = "secret" if secret else "configmap"
    obj = (ctx.secrets if secret else ctx.config_maps).get(ref.name)
    optional = ref.HasField("optional") and ref.optional
    if obj is None:
        if optional:
            return None
        raise ContainerConfigError(f'{kind} "{ref.name}" not found')
    if secret and ref.key in obj.data:
        return obj.data[ref.key].decode("utf-8", errors="replace")
    if not secret and ref.key in obj.data:
        return obj.data[ref.key]
    if not secret and ref.key in obj.binary_data:
        return obj.binary_data[ref.key].decode("utf-8", errors="replace")
    if optional:
        return None
    label = "Secret" if secret else "ConfigMap"
    raise ContainerConfigError(f"couldn't find key {ref.key} in {label} {namespace}/{ref.name}")


def _env_from(pod: pod_pb2.Pod, source: pod_pb2.EnvFromSource, ctx: EnvContext) -> dict[str, str]:
    secret = source.HasField("secret_ref")
    ref = source.secret_ref if secret else source.config_map_ref
    obj = (ctx.secrets if secret else ctx.config_maps).get(ref.name)
    if obj is None:
        if ref.HasField("optional") and ref.optional:
            return {}
        raise ContainerConfigError(f'{"secret" if secret else "configmap"} "{ref.name}" not found')
    items: dict[str, str] = {}
    if not secret:
        items.update({k: v.decode("utf-8", errors="replace") for k, v in obj.binary_data.items()})
        items.update(obj.data)
    else:
        items.update({k: v.decode("utf-8", errors="replace") for k, v in obj.data.items()})
    # Keys that are not valid variable names are skipped, as the kubelet does.
    return {source.prefix + k: v for k, v in sorted(items.items()) if _ENV_NAME.match(source.prefix + k)}


def container_env(pod: pod_pb2.Pod, container: pod_pb2.Container, ctx: EnvContext) -> list[tuple[str, str]]:
    """The container's environment in Kubernetes' order: envFrom, then env (later wins), then the
    service variables the pod did not define itself."""
    services = service_env(ctx.services)
    env: dict[str, str] = {}
    for source in container.env_from:
        env.update(_env_from(pod, source, ctx))
    for var in container.env:
        value = _env_value(pod, container, var, ctx, {**services, **env})
        if value is not None:
            env[var.name] = value
    return list(env.items()) + [(k, v) for k, v in services.items() if k not in env]


def _env_value(pod: pod_pb2.Pod, container: pod_pb2.Container, var: pod_pb2.EnvVar, ctx: EnvContext,
               defined: dict[str, str]) -> str | None:
    if not var.HasField("value_from"):
        return expand(var.value, defined.get)
    src = var.value_from
    if src.HasField("field_ref"):
        return _field_ref(pod, src.field_ref.field_path, ctx)
    if src.HasField("resource_field_ref"):
        return resource_field_value(pod, container, src.resource_field_ref, ctx)
    if src.HasField("config_map_key_ref"):
        return _key_ref(src.config_map_key_ref, ctx, pod.metadata.namespace, secret=False)
    if src.HasField("secret_key_ref"):
        return _key_ref(src.secret_key_ref, ctx, pod.metadata.namespace, secret=True)
    return var.value
