"""ControllerRevisions for DaemonSets and StatefulSets (Kubernetes' pkg/controller/history).

A revision snapshots an owner's pod template as the patch Kubernetes stores,
`{"spec": {"template": {..., "$patch": "replace"}}}`, and is named `<owner>-<hash>`; the hash also
labels the owner's pods (`controller-revision-hash`). Revision numbers grow by one per new
template; going back to an older template renumbers its revision as the newest. The oldest
revisions beyond `revisionHistoryLimit` that no live pod uses are deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import grpc
from google.protobuf import json_format, struct_pb2
from google.protobuf.message import Message

from control.client.client import Client
from control.client.controllerref import controller_ref, new_controller_ref
from control.client.convert import to_dict
from control.client.informer import copy_of
from control.client.kinds import KINDS
from control.client.wellknown import LABEL_CONTROLLER_REVISION_HASH, is_being_deleted
from skiff.v1 import apps_pb2, meta_pb2, pod_pb2

_CR = KINDS["ControllerRevision"]
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' SafeEncodeString alphabet: no vowels, no look-alikes
_MAX_PREFIX = 223  # a name of at most 253 characters with room for the hash


class CollisionError(RuntimeError):
    """The revision's name is taken by a different revision; the owner's collisionCount must grow."""


def patch_of(template: pod_pb2.PodTemplateSpec) -> struct_pb2.Value:
    """The revision data for a template: a patch replacing spec.template."""
    body = to_dict(template)
    body["$patch"] = "replace"
    return json_format.ParseDict({"spec": {"template": body}}, struct_pb2.Value())


def template_of(revision: Message) -> pod_pb2.PodTemplateSpec:
    """The pod template a revision holds."""
    data = to_dict(revision).get("data", {})
    body = dict(data.get("spec", {}).get("template", {}))
    body.pop("$patch", None)
    return json_format.ParseDict(body, pod_pb2.PodTemplateSpec())


def hash_of(data: struct_pb2.Value, collision_count: int = 0) -> str:
    """A stable, name-safe hash of revision data (FNV-1a 32 over canonical JSON, salted by the
    owner's collisionCount)."""
    raw = json.dumps(json_format.MessageToDict(data), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        raw += str(collision_count).encode()
    h = 0x811C9DC5
    for byte in raw:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE[b % len(_SAFE)] for b in str(h).encode())


def revision_name(owner_name: str, hash_: str) -> str:
    return f"{owner_name[:_MAX_PREFIX]}-{hash_}"


def new_revision(owner: Message, template: pod_pb2.PodTemplateSpec, number: int,
                 collision_count: int = 0) -> apps_pb2.ControllerRevision:
    """A ControllerRevision of owner's template, labelled like its pods, with owner's annotations
    (so `rollout history` finds the change cause), controlled by owner."""
    data = patch_of(template)
    hash_ = hash_of(data, collision_count)
    labels = dict(template.metadata.labels)
    labels[LABEL_CONTROLLER_REVISION_HASH] = hash_
    meta = meta_pb2.ObjectMeta(name=revision_name(owner.metadata.name, hash_), namespace=owner.metadata.namespace,
                               labels=labels, annotations=dict(owner.metadata.annotations))
    meta.owner_references.append(new_controller_ref(owner))
    return _CR.new(metadata=meta, data=data, revision=number)


def revision_number(revision: Message) -> int:
    return revision.revision


def sort_revisions(revisions: Iterable[Message]) -> list[Message]:
    """Oldest first: by revision number, then creation, then name."""
    return sorted(revisions, key=lambda r: (r.revision, r.metadata.creation_timestamp.ToNanoseconds(),
                                            r.metadata.name))


def next_number(revisions: list[Message]) -> int:
    return max((r.revision for r in revisions), default=0) + 1


def equal(a: Message, b: Message) -> bool:
    return a.data == b.data


def find_equal(revisions: Iterable[Message], needle: Message) -> list[Message]:
    """The revisions holding the same template as needle, whatever their hash (a revision made
    under an earlier collisionCount still holds its template)."""
    return [r for r in revisions if equal(r, needle)]


def owned_by(revisions: Iterable[Message], owner: Message) -> list[Message]:
    """The revisions whose controller is owner."""
    result = []
    for r in revisions:
        ref = controller_ref(r)
        if ref is not None and ref.uid == owner.metadata.uid and not is_being_deleted(r):
            result.append(r)
    return result


async def create_revision(client: Client, owner: Message, revision: Message) -> Message:
    """Creates revision; an existing one with the same data is taken as it is, one with other data
    under the same name raises CollisionError (the caller bumps collisionCount and retries)."""
    try:
        return await client.create(revision)
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise
    existing = await client.get(_CR, revision.metadata.name, revision.metadata.namespace)
    ref = controller_ref(existing)
    if equal(existing, revision) and ref is not None and ref.uid == owner.metadata.uid:
        return existing
    raise CollisionError(f"controller revision {revision.metadata.name} already exists with other data")


async def renumber(client: Client, revision: Message, number: int) -> Message:
    """Makes an older revision the newest again (a rollback to its template)."""
    if revision.revision == number:
        return revision
    updated = copy_of(revision)
    updated.revision = number
    return await client.update(updated)


async def truncate(client: Client, revisions: list[Message], live: set[str], limit: int,
                   count_live: bool = False) -> None:
    """Deletes the oldest revisions beyond limit, never a live one (named in `live`: in use by
    the owner or its pods). StatefulSets count only the revisions not live against the limit;
    DaemonSets (`count_live`) count every old one."""
    history = [r for r in sort_revisions(revisions) if r.metadata.name not in live]
    excess = (len(revisions) if count_live else len(history)) - limit
    for r in history[:max(excess, 0)]:
        try:
            await client.delete(_CR, r.metadata.name, r.metadata.namespace, uid=r.metadata.uid)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise


async def ensure_revision(client: Client, owner: Message, revisions: list[Message],
                          template: pod_pb2.PodTemplateSpec, collision_count: int = 0) -> Message:
    """The revision of owner's current template: an equal existing one (renumbered as the newest
    when an older template comes back) or a new one with the next number."""
    number = next_number(revisions)
    wanted = new_revision(owner, template, number, collision_count)
    same = find_equal(revisions, wanted)
    if same:
        found = sort_revisions(same)[-1]
        return found if found.revision == number - 1 else await renumber(client, found, number)
    return await create_revision(client, owner, wanted)


def collision_count(owner: Message) -> int:
    return owner.status.collision_count if owner.status.HasField("collision_count") else 0
