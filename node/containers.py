"""Pure translation of a Pod's spec into CRI configs (sandbox and containers).

Everything here is a function of its arguments: the agent fetches what is
needed (ConfigMaps, Secrets, mounts, the pod's IP) and passes it in.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from control.client.quantity import bytes_of, cpu_millis, parse_quantity
from cri.runtime.v1 import api_pb2 as cri_pb
from node.cri import CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL
from skiff.v1 import core_pb2, pod_pb2

RESTART_COUNT_ANNOTATION = "io.kubernetes.container.restartCount"
TERMINATION_MESSAGE_PATH_ANNOTATION = "io.kubernetes.container.terminationMessagePath"
TERMINATION_MESSAGE_POLICY_ANNOTATION = "io.kubernetes.container.terminationMessagePolicy"
INIT_CONTAINER_ANNOTATION = "skiff.io/init-container"
HASH_ANNOTATION = "io.kubernetes.container.hash"

CPU_PERIOD = 100_000
MIN_SHARES, MAX_SHARES, MIN_QUOTA = 2, 262_144, 1_000
MAX_DNS_SEARCHES, MAX_DNS_NAMESERVERS = 32, 3
DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class ContainerConfigError(ValueError):
    """The container cannot be configured yet (kubelet's CreateContainerConfigError)."""


def milli_cpu(text: str) -> int:
    return cpu_millis(text)


def _value(text: str) -> int:
    return bytes_of(text)


# --- resources ------------------------------------------------------------------------------

def effective_requests(container: pod_pb2.Container) -> dict[str, str]:
    """Requests, defaulted from limits as the apiserver does when only a limit is given."""
    requests = dict(container.resources.limits)
    requests.update(container.resources.requests)
    return requests


def qos_class(pod: pod_pb2.Pod) -> str:
    containers = [*pod.spec.init_containers, *pod.spec.containers]
    seen_any, guaranteed = False, True
    for c in containers:
        requests, limits = effective_requests(c), c.resources.limits
        for res in ("cpu", "memory"):
            if res in requests or res in limits:
                seen_any = True
            if res not in limits or parse_quantity(requests.get(res, "0")) != parse_quantity(limits[res]):
                guaranteed = False
    if not seen_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def cpu_shares(milli: int) -> int:
    if milli == 0:
        return MIN_SHARES
    return min(MAX_SHARES, max(MIN_SHARES, milli * 1024 // 1000))


def cpu_quota(milli: int, period: int = CPU_PERIOD) -> int:
    if milli == 0:
        return 0
    return max(MIN_QUOTA, milli * period // 1000)


def oom_score_adj(pod: pod_pb2.Pod, container: pod_pb2.Container, memory_capacity: int) -> int:
    qos = qos_class(pod)
    if qos == "Guaranteed":
        return -997
    if qos == "BestEffort" or memory_capacity <= 0:
        return 1000
    request = _value(effective_requests(container).get("memory", "0"))
    return min(999, max(2, 1000 - 1000 * request // memory_capacity))


def linux_resources(pod: pod_pb2.Pod, container: pod_pb2.Container,
                    memory_capacity: int = 0) -> cri_pb.LinuxContainerResources:
    requests, limits = effective_requests(container), container.resources.limits
    res = cri_pb.LinuxContainerResources(
        cpu_shares=cpu_shares(milli_cpu(requests["cpu"]) if "cpu" in requests else 0),
        oom_score_adj=oom_score_adj(pod, container, memory_capacity))
    if "cpu" in limits:
        res.cpu_period = CPU_PERIOD
        res.cpu_quota = cpu_quota(milli_cpu(limits["cpu"]))
    if "memory" in limits:
        res.memory_limit_in_bytes = _value(limits["memory"])
    return res


# --- environment ----------------------------------------------------------------------------

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


def _resource_field_ref(pod: pod_pb2.Pod, container: pod_pb2.Container,
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


def _key_ref(ref: pod_pb2.KeySelector, ctx: EnvContext, namespace: str, secret: bool) -> str | None:
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
        return _resource_field_ref(pod, container, src.resource_field_ref, ctx)
    if src.HasField("config_map_key_ref"):
        return _key_ref(src.config_map_key_ref, ctx, pod.metadata.namespace, secret=False)
    if src.HasField("secret_key_ref"):
        return _key_ref(src.secret_key_ref, ctx, pod.metadata.namespace, secret=True)
    return var.value


# --- configs --------------------------------------------------------------------------------

def pod_labels(pod: pod_pb2.Pod) -> dict[str, str]:
    return {POD_UID_LABEL: pod.metadata.uid, POD_NAME_LABEL: pod.metadata.name,
            POD_NAMESPACE_LABEL: pod.metadata.namespace}


def _security_context(pod: pod_pb2.Pod, container: pod_pb2.Container) -> cri_pb.LinuxContainerSecurityContext:
    sc, psc = container.security_context, pod.spec.security_context
    out = cri_pb.LinuxContainerSecurityContext(
        privileged=sc.privileged, readonly_rootfs=sc.read_only_root_filesystem,
        no_new_privs=sc.HasField("allow_privilege_escalation") and not sc.allow_privilege_escalation,
        namespace_options=namespace_options(pod),
        supplemental_groups=list(psc.supplemental_groups))
    user = (sc.run_as_user if sc.HasField("run_as_user")
            else psc.run_as_user if psc.HasField("run_as_user") else None)
    group = (sc.run_as_group if sc.HasField("run_as_group")
             else psc.run_as_group if psc.HasField("run_as_group") else None)
    if user is not None:
        out.run_as_user.value = user
    if group is not None:
        out.run_as_group.value = group
    if psc.HasField("fs_group"):
        out.supplemental_groups.append(psc.fs_group)
    caps = sc.capabilities
    out.capabilities.add_capabilities.extend(_cap_names(caps.add))
    out.capabilities.drop_capabilities.extend(_cap_names(caps.drop))
    return out


def _cap_names(names: Sequence[str]) -> list[str]:
    return [n if n.upper() == "ALL" or n.upper().startswith("CAP_") else f"CAP_{n.upper()}" for n in names]


def namespace_options(pod: pod_pb2.Pod) -> cri_pb.NamespaceOption:
    spec = pod.spec
    if spec.host_pid:
        pid = cri_pb.NODE
    elif spec.HasField("share_process_namespace") and spec.share_process_namespace:
        pid = cri_pb.POD
    else:
        pid = cri_pb.CONTAINER
    return cri_pb.NamespaceOption(network=cri_pb.NODE if spec.host_network else cri_pb.POD, pid=pid,
                                  ipc=cri_pb.NODE if spec.host_ipc else cri_pb.POD)


def container_config(pod: pod_pb2.Pod, container: pod_pb2.Container, *, attempt: int, image: str,
                     env: list[tuple[str, str]], mounts: Sequence[cri_pb.Mount], init: bool = False,
                     memory_capacity: int = 0) -> cri_pb.ContainerConfig:
    lookup = dict(env).get
    annotations = {RESTART_COUNT_ANNOTATION: str(attempt), HASH_ANNOTATION: container_hash(container),
                   TERMINATION_MESSAGE_PATH_ANNOTATION: termination_message_path(container),
                   TERMINATION_MESSAGE_POLICY_ANNOTATION: container.termination_message_policy or "File"}
    if init:
        annotations[INIT_CONTAINER_ANNOTATION] = "true"
    return cri_pb.ContainerConfig(
        metadata=cri_pb.ContainerMetadata(name=container.name, attempt=attempt),
        image=cri_pb.ImageSpec(image=image),
        command=[expand(c, lookup) for c in container.command],
        args=[expand(a, lookup) for a in container.args],
        working_dir=container.working_dir,
        envs=[cri_pb.KeyValue(key=k, value=v.encode()) for k, v in env],
        mounts=list(mounts),
        labels={**pod_labels(pod), CONTAINER_NAME_LABEL: container.name},
        annotations=annotations,
        log_path=f"{container.name}/{attempt}.log",
        stdin=container.stdin, stdin_once=container.stdin_once, tty=container.tty,
        linux=cri_pb.LinuxContainerConfig(resources=linux_resources(pod, container, memory_capacity),
                                          security_context=_security_context(pod, container)))


def container_hash(container: pod_pb2.Container) -> str:
    """Identifies a container's definition: a running container whose spec changed gets restarted."""
    return hashlib.sha256(container.SerializeToString(deterministic=True)).hexdigest()[:16]


def termination_message_path(container: pod_pb2.Container) -> str:
    return container.termination_message_path or DEFAULT_TERMINATION_MESSAGE_PATH


def pod_hostname(pod: pod_pb2.Pod, node_hostname: str) -> str:
    if pod.spec.host_network:
        return ""  # the node's own UTS namespace: the runtime must not set a hostname
    return (pod.spec.hostname or pod.metadata.name)[:63].rstrip("-.")


def sandbox_config(pod: pod_pb2.Pod, *, attempt: int, log_directory: str, dns: cri_pb.DNSConfig | None,
                   node_hostname: str, cgroup_parent: str = "") -> cri_pb.PodSandboxConfig:
    ports = [cri_pb.PortMapping(protocol=_PROTOCOLS.get(p.protocol or "TCP", cri_pb.TCP),
                                container_port=p.container_port, host_port=p.host_port, host_ip=p.host_ip)
             for c in pod.spec.containers for p in c.ports if p.host_port]
    privileged = any(c.security_context.privileged for c in [*pod.spec.init_containers, *pod.spec.containers])
    psc = pod.spec.security_context
    sc = cri_pb.LinuxSandboxSecurityContext(namespace_options=namespace_options(pod), privileged=privileged,
                                            supplemental_groups=list(psc.supplemental_groups))
    if psc.HasField("run_as_user"):
        sc.run_as_user.value = psc.run_as_user
    if psc.HasField("run_as_group"):
        sc.run_as_group.value = psc.run_as_group
    return cri_pb.PodSandboxConfig(
        metadata=cri_pb.PodSandboxMetadata(name=pod.metadata.name, uid=pod.metadata.uid,
                                           namespace=pod.metadata.namespace, attempt=attempt),
        hostname=pod_hostname(pod, node_hostname), log_directory=log_directory, dns_config=dns,
        port_mappings=ports, labels={**pod.metadata.labels, **pod_labels(pod)},
        annotations=dict(pod.metadata.annotations),
        linux=cri_pb.LinuxPodSandboxConfig(cgroup_parent=cgroup_parent, security_context=sc))


def etc_hosts(pod: pod_pb2.Pod, pod_ip: str, cluster_domain: str) -> str:
    """The kubelet-managed /etc/hosts of a pod: localhost entries, then the pod's own name."""
    lines = ["# Kubernetes-managed hosts file.", "127.0.0.1\tlocalhost",
             "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet", "fe00::0\tip6-mcastprefix",
             "fe00::1\tip6-allnodes", "fe00::2\tip6-allrouters"]
    if pod_ip:
        hostname = pod_hostname(pod, "")
        if pod.spec.subdomain:
            fqdn = f"{hostname}.{pod.spec.subdomain}.{pod.metadata.namespace}.svc.{cluster_domain}"
            lines.append(f"{pod_ip}\t{fqdn}\t{hostname}")
        else:
            lines.append(f"{pod_ip}\t{hostname}")
    return "\n".join(lines) + "\n"


_PROTOCOLS = {"TCP": cri_pb.TCP, "UDP": cri_pb.UDP, "SCTP": cri_pb.SCTP}


# --- DNS ------------------------------------------------------------------------------------

@dataclass
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


def parse_resolv_conf(text: str) -> ResolvConf:
    conf = ResolvConf()
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            conf.nameservers.append(words[1])
        elif words[0] in ("search", "domain"):
            conf.searches = words[1:]
        elif words[0] == "options":
            conf.options.extend(words[1:])
    return conf


def _merge_options(base: list[str], extra: Sequence[pod_pb2.PodDNSConfigOption]) -> list[str]:
    merged: dict[str, str] = {}
    for opt in base:
        name, _, value = opt.partition(":")
        merged[name] = opt
    for opt in extra:
        merged[opt.name] = f"{opt.name}:{opt.value}" if opt.HasField("value") else opt.name
    return list(merged.values())


def _dedup(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def pod_dns_config(pod: pod_pb2.Pod, cluster_dns: Sequence[str], cluster_domain: str,
                   host: ResolvConf) -> cri_pb.DNSConfig:
    """The kubelet's DNS policies: ClusterFirst (default), ClusterFirstWithHostNet, Default, None."""
    policy = pod.spec.dns_policy or "ClusterFirst"
    if policy == "ClusterFirst" and pod.spec.host_network:
        policy = "Default"
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and not cluster_dns:
        policy = "Default"  # no cluster DNS configured: the node's own resolver, as the kubelet falls back
    if policy == "None":
        servers, searches, options = [], [], []
    elif policy == "Default":
        servers, searches, options = list(host.nameservers), list(host.searches), list(host.options)
    else:
        ns = pod.metadata.namespace
        servers = list(cluster_dns)
        searches = [f"{ns}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain, *host.searches]
        options = ["ndots:5"]
    cfg = pod.spec.dns_config
    servers = _dedup([*servers, *cfg.nameservers])[:MAX_DNS_NAMESERVERS]
    searches = _dedup([*searches, *cfg.searches])[:MAX_DNS_SEARCHES]
    return cri_pb.DNSConfig(servers=servers, searches=searches, options=_merge_options(options, cfg.options))
