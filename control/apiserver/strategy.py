"""What the server sets and keeps on create, update and status update for every kind (the
common half of Kubernetes' REST strategies; each kind's own half is its registry module)."""

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
    meta.ClearField("resource_version")
    if kind.has_spec:
        meta.generation = 1
    obj.api_version, obj.kind = kind.api_version, kind.kind


def prepare_for_update(kind: Kind, new: Message, old: Message) -> None:
    """Update changes spec and metadata; status and server-owned metadata stay."""
    _keep_server_metadata(new, old)
    if kind.has_status:
        new.ClearField("status")
        if old.HasField("status"):  # an empty status stays absent, so an unchanged write is a no-op
            new.status.CopyFrom(old.status)
    if kind.has_spec and spec_bytes(new) != spec_bytes(old):
        new.metadata.generation = old.metadata.generation + 1
    else:
        new.metadata.generation = old.metadata.generation
    new.api_version, new.kind = kind.api_version, kind.kind


def prepare_for_status_update(new: Message, old: Message) -> Message:
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
    if not meta.generate_name and prev.generate_name:
        meta.generate_name = prev.generate_name


def spec_bytes(obj: Message) -> bytes:
    # Kinds without a spec (ConfigMap, Secret, ...) never bump generation.
    if "spec" not in obj.DESCRIPTOR.fields_by_name:
        return b""
    return obj.spec.SerializeToString(deterministic=True)
