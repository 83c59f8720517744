"""Pure translation of a Pod's spec into CRI configs: the sandbox's and each container's (the kubelet's
generatePodSandboxConfig and generateContainerConfig), and the kubelet-managed /etc/hosts.

Everything here is a function of its arguments: the runtime manager fetches what is needed
(env values, mounts, the pod's IP) and passes it in. Resources, env and DNS have their own modules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from cri.runtime.v1 import api_pb2 as cri_pb
from node.cri import CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL
from node.runtime.env import expand
from node.runtime.resize import RESOURCES_ANNOTATION, resources_doc
from node.runtime.resources import linux_resources
from node.runtime.security import (
    ImageUser,
    container_security_context,
    sandbox_security_context,
    sysctls,
)
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


def container_config(pod: pod_pb2.Pod, container: pod_pb2.Container, *, attempt: int, image: str,
                     env: list[tuple[str, str]], mounts: Sequence[cri_pb.Mount], init: bool = False,
                     memory_capacity: int = 0, seccomp_root: str = "",
                     image_user: ImageUser | None = None) -> cri_pb.ContainerConfig:
    lookup = dict(env).get
    annotations = {RESTART_COUNT_ANNOTATION: str(attempt), HASH_ANNOTATION: container_hash(container),
                   TERMINATION_MESSAGE_PATH_ANNOTATION: termination_message_path(container),
                   TERMINATION_MESSAGE_POLICY_ANNOTATION: container.termination_message_policy or "File",
                   RESOURCES_ANNOTATION: json.dumps(resources_doc(container), sort_keys=True)}
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
                                          security_context=container_security_context(
                                              pod, container, seccomp_root, image_user)))


def container_hash(container: pod_pb2.Container) -> str:
    """Identifies a container's definition: a running container whose spec changed gets restarted.
    Its resources are left out, as the kubelet leaves them out: they change in place (resize)."""
    definition = pod_pb2.Container()
    definition.CopyFrom(container)
    definition.ClearField("resources")
    return hashlib.sha256(definition.SerializeToString(deterministic=True)).hexdigest()[:16]


def termination_message_path(container: pod_pb2.Container) -> str:
    return container.termination_message_path or DEFAULT_TERMINATION_MESSAGE_PATH


def pod_hostname(pod: pod_pb2.Pod, node_hostname: str) -> str:
    if pod.spec.host_network:
        return ""  # the node's own UTS namespace: the runtime must not set a hostname
    return (pod.spec.hostname or pod.metadata.name)[:63].rstrip("-.")


MAX_KERNEL_HOSTNAME = 64


class SandboxConfigError(ValueError):
    """The sandbox cannot be configured (the kubelet's FailedCreatePodSandBox)."""


def kernel_hostname(pod: pod_pb2.Pod, node_hostname: str, cluster_domain: str) -> str:
    """The sandbox's hostname: the pod's, or its FQDN with setHostnameAsFQDN and a subdomain."""
    hostname = pod_hostname(pod, node_hostname)
    spec = pod.spec
    if not hostname or not spec.set_hostname_as_fqdn or not spec.subdomain or not cluster_domain:
        return hostname
    fqdn = f"{hostname}.{spec.subdomain}.{pod.metadata.namespace}.svc.{cluster_domain}"
    if len(fqdn) > MAX_KERNEL_HOSTNAME:
        raise SandboxConfigError(f"failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} is too "
                                 f"long ({MAX_KERNEL_HOSTNAME} characters is the max, {len(fqdn)} characters "
                                 "requested)")
    return fqdn


def sandbox_config(pod: pod_pb2.Pod, *, attempt: int, log_directory: str, dns: cri_pb.DNSConfig | None,
                   node_hostname: str, cgroup_parent: str = "", seccomp_root: str = "",
                   cluster_domain: str = "") -> cri_pb.PodSandboxConfig:
    ports = [cri_pb.PortMapping(protocol=_PROTOCOLS.get(p.protocol or "TCP", cri_pb.TCP),
                                container_port=p.container_port, host_port=p.host_port, host_ip=p.host_ip)
             for c in pod.spec.containers for p in c.ports if p.host_port]
    return cri_pb.PodSandboxConfig(
        metadata=cri_pb.PodSandboxMetadata(name=pod.metadata.name, uid=pod.metadata.uid,
                                           namespace=pod.metadata.namespace, attempt=attempt),
        hostname=kernel_hostname(pod, node_hostname, cluster_domain), log_directory=log_directory, dns_config=dns,
        port_mappings=ports, labels={**pod.metadata.labels, **pod_labels(pod)},
        annotations=dict(pod.metadata.annotations),
        linux=cri_pb.LinuxPodSandboxConfig(cgroup_parent=cgroup_parent, sysctls=sysctls(pod),
                                           security_context=sandbox_security_context(pod, seccomp_root)))


def etc_hosts(pod: pod_pb2.Pod, pod_ip: str, cluster_domain: str, node_hosts: str | None = None) -> str:
    """The kubelet-managed /etc/hosts of a pod: localhost entries and the pod's own name (or, with
    hostNetwork, the node's own file), then the pod's hostAliases."""
    if pod.spec.host_network:
        text = "# Kubernetes-managed hosts file (host network).\n" + (node_hosts or "")
        return text + _host_aliases(pod)
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
    return "\n".join(lines) + "\n" + _host_aliases(pod)


def _host_aliases(pod: pod_pb2.Pod) -> str:
    if not pod.spec.host_aliases:
        return ""
    lines = ["\t".join([a.ip, *a.hostnames]) for a in pod.spec.host_aliases]
    return "\n# Entries added by HostAliases.\n" + "".join(line + "\n" for line in lines)


_PROTOCOLS = {"TCP": cri_pb.TCP, "UDP": cri_pb.UDP, "SCTP": cri_pb.SCTP}
