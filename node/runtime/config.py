"""Pure translation of a Pod's spec into CRI configs: the sandbox's and each container's (the kubelet's
generatePodSandboxConfig and generateContainerConfig), and the kubelet-managed /etc/hosts.

Everything here is a function of its arguments: the runtime manager fetches what is needed
(env values, mounts, the pod's IP) and passes it in. Resources, env and DNS have their own modules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cri.runtime.v1 import api_pb2 as cri_pb
from node.cri import CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL
from node.runtime.env import expand
from node.runtime.resources import linux_resources
from skiff.v1 import pod_pb2

RESTART_COUNT_ANNOTATION = "io.kubernetes.container.restartCount"
TERMINATION_MESSAGE_PATH_ANNOTATION = "io.kubernetes.container.terminationMessagePath"
TERMINATION_MESSAGE_POLICY_ANNOTATION = "io.kubernetes.container.terminationMessagePolicy"
INIT_CONTAINER_ANNOTATION = "skiff.io/init-container"
HASH_ANNOTATION = "io.kubernetes.container.hash"

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"


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
