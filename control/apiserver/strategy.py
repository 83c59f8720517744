"""What the server sets and keeps on create, update and status update (Kubernetes' REST strategies)."""

from __future__ import annotations

import secrets
import time
import uuid

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from control.client.kinds import Kind

# Kubernetes' generateName alphabet: no vowels, no confusable characters.
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def now() -> timestamp_pb2.Timestamp:
    """Whole seconds, as Kubernetes' metav1.Time serializes."""
    return timestamp_pb2.Timestamp(seconds=int(time.time()))


def generated_name(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))


def prepare_for_create(kind: Kind, obj: Message) -> None:
    meta = obj.metadata
    meta.uid = str(uuid.uuid4())
    meta.creation_timestamp.CopyFrom(now())
    meta.ClearField("deletion_timestamp")
    meta.ClearField("deletion_grace_period_seconds")
    meta.resource_version = ""
    if kind.has_spec:
        meta.generation = 1
    obj.api_version, obj.kind = kind.api_version, kind.kind
    _RESET_STATUS_ON_CREATE.get(kind.kind, lambda o: None)(obj)
    if kind.kind == "Secret":
        merge_string_data(obj)


def prepare_for_update(kind: Kind, new: Message, old: Message) -> None:
    """Update changes spec and metadata; status and server-owned metadata stay."""
    _keep_server_metadata(new, old)
    if kind.kind == "Service":
        _keep_allocations(new, old)
    if kind.has_status:
        new.status.CopyFrom(old.status)
    if kind.has_spec and spec_bytes(new) != spec_bytes(old):
        new.metadata.generation = old.metadata.generation + 1
    else:
        new.metadata.generation = old.metadata.generation
    new.api_version, new.kind = kind.api_version, kind.kind
    if kind.kind == "Secret":
        merge_string_data(new)


def prepare_for_status_update(kind: Kind, new: Message, old: Message) -> Message:
    """UpdateStatus changes status only: everything else comes from the stored object."""
    result = old.__class__()
    result.CopyFrom(old)
    result.status.CopyFrom(new.status)
    result.metadata.resource_version = new.metadata.resource_version
    return result


def _keep_server_metadata(new: Message, old: Message) -> None:
    meta, prev = new.metadata, old.metadata
    meta.uid = prev.uid
    meta.creation_timestamp.CopyFrom(prev.creation_timestamp)
    meta.ClearField("deletion_timestamp")
    if prev.HasField("deletion_timestamp"):
        meta.deletion_timestamp.CopyFrom(prev.deletion_timestamp)
    meta.ClearField("deletion_grace_period_seconds")
    if prev.HasField("deletion_grace_period_seconds"):
        meta.deletion_grace_period_seconds = prev.deletion_grace_period_seconds
    meta.generate_name = meta.generate_name or prev.generate_name


def _keep_allocations(new: Message, old: Message) -> None:
    """An update that omits the allocated clusterIP or nodePorts keeps them (they are immutable)."""
    if old.spec.cluster_ip and not new.spec.cluster_ip:
        new.spec.cluster_ip = old.spec.cluster_ip
        new.spec.cluster_ips[:] = old.spec.cluster_ips
    if new.spec.type not in ("NodePort", "LoadBalancer"):
        return
    old_ports = {(p.port, p.protocol or "TCP"): p.node_port for p in old.spec.ports}
    for port in new.spec.ports:
        if not port.node_port:
            port.node_port = old_ports.get((port.port, port.protocol or "TCP"), 0)


def spec_bytes(obj: Message) -> bytes:
    # Kinds without a spec (ConfigMap, Secret, ...) never bump generation.
    if "spec" not in obj.DESCRIPTOR.fields_by_name:
        return b""
    return obj.spec.SerializeToString(deterministic=True)


def merge_string_data(secret: Message) -> None:
    """Secrets' write-only stringData lands in data (stringData wins), as in Kubernetes."""
    for key, value in secret.string_data.items():
        secret.data[key] = value.encode()
    secret.string_data.clear()


def _reset_pod_status(pod: Message) -> None:
    pod.ClearField("status")
    pod.status.phase = "Pending"
    pod.status.qos_class = qos_class(pod)


def _reset_namespace_status(ns: Message) -> None:
    ns.ClearField("status")
    ns.status.phase = "Active"


def _clear_status(obj: Message) -> None:
    obj.ClearField("status")


_RESET_STATUS_ON_CREATE = {
    "Pod": _reset_pod_status,
    "Namespace": _reset_namespace_status,
    "Deployment": _clear_status,
    "ReplicaSet": _clear_status,
    "Service": _clear_status,
}


def qos_class(pod: Message) -> str:
    containers = list(pod.spec.init_containers) + list(pod.spec.containers)
    requests_any = any(c.resources.requests or c.resources.limits for c in containers)
    if not requests_any:
        return "BestEffort"
    for c in containers:
        limits = c.resources.limits
        if "cpu" not in limits or "memory" not in limits:
            return "Burstable"
        for res in ("cpu", "memory"):
            if res in c.resources.requests and c.resources.requests[res] != limits[res]:
                return "Burstable"
    return "Guaranteed"
