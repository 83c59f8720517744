"""Controller references (Kubernetes' ControllerRef and ControllerRefManager): resolve, adopt, release.

An object belongs to the owner its controller ownerReference names. A controller
claims the objects its selector matches: it keeps its own, adopts matching
orphans (unless either side is being deleted) and releases its objects whose
labels no longer match. Adoption and release are plain updates with the object's
resourceVersion, so a concurrent change makes them fail ABORTED and the next
event brings the controller back.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf.message import Message

from control.client.client import Client
from control.client.informer import Store, copy_of
from control.client.kinds import kind_of
from control.client.selectors import Selector
from control.client.wellknown import is_being_deleted
from skiff.v1 import meta_pb2

_GONE_OR_CHANGED = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED)


def controller_ref(obj: Message) -> meta_pb2.OwnerReference | None:
    """The ownerReference with controller=true, if any."""
    for ref in obj.metadata.owner_references:
        if ref.HasField("controller") and ref.controller:
            return ref
    return None


def new_controller_ref(owner: Message) -> meta_pb2.OwnerReference:
    kind = kind_of(owner)
    return meta_pb2.OwnerReference(api_version=kind.api_version, kind=kind.kind,
                                   name=owner.metadata.name, uid=owner.metadata.uid,
                                   controller=True, block_owner_deletion=True)


def resolve_controller_ref(obj: Message, owner_kind: str, owners: Store) -> Message | None:
    """The owner of `owner_kind` in the store that obj's controller reference names, if its UID
    matches (a namesake created after the owner was deleted is not the owner)."""
    ref = controller_ref(obj)
    if ref is None or ref.kind != owner_kind:
        return None
    owner = owners.get_by_name(obj.metadata.namespace, ref.name)
    return owner if owner is not None and owner.metadata.uid == ref.uid else None


async def claim(client: Client, owner: Message, selector: Selector, candidates: Iterable[Message]) -> list[Message]:
    """The candidates owner controls after this pass of adoption and release."""
    owned: list[Message] = []
    for obj in candidates:
        ref = controller_ref(obj)
        matches = selector.matches(obj.metadata.labels)
        if ref is not None and ref.uid == owner.metadata.uid:
            if matches or is_being_deleted(obj):
                owned.append(obj)
            else:
                await release(client, owner, obj)
        elif ref is None and matches and not is_being_deleted(obj) and not is_being_deleted(owner):
            adopted = await adopt(client, owner, obj)
            if adopted is not None:
                owned.append(adopted)
    return owned


async def adopt(client: Client, owner: Message, obj: Message) -> Message | None:
    updated = copy_of(obj)
    updated.metadata.owner_references.append(new_controller_ref(owner))
    return await _update(client, updated)


async def release(client: Client, owner: Message, obj: Message) -> Message | None:
    updated = copy_of(obj)
    refs = [r for r in updated.metadata.owner_references if r.uid != owner.metadata.uid]
    del updated.metadata.owner_references[:]
    updated.metadata.owner_references.extend(refs)
    return await _update(client, updated)


async def _update(client: Client, obj: Message) -> Message | None:
    try:
        return await client.update(obj)
    except grpc.aio.AioRpcError as e:
        if e.code() in _GONE_OR_CHANGED:
            return None
        raise
