"""Finalizers on objects from a store: copies with one added or removed, and the protection
controllers' rule (the finalizer on every live object, released once it is deleted and unused)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from google.protobuf.message import Message

from control.client.client import Client
from control.client.informer import copy_of
from control.client.wellknown import is_being_deleted


def without_finalizer(obj: Message, finalizer: str) -> Message:
    """A copy of obj without the finalizer (every occurrence of it)."""
    updated = copy_of(obj)
    kept = [f for f in obj.metadata.finalizers if f != finalizer]
    del updated.metadata.finalizers[:]
    updated.metadata.finalizers.extend(kept)
    return updated


async def protect(client: Client, obj: Message, finalizer: str, in_use: Callable[[], Awaitable[bool]]) -> None:
    """Adds the finalizer to a live object; removes it from a deleted one once in_use() says it is free."""
    has = finalizer in obj.metadata.finalizers
    if not is_being_deleted(obj) and not has:
        updated = copy_of(obj)
        updated.metadata.finalizers.append(finalizer)
        await client.update(updated)
    elif is_being_deleted(obj) and has and not await in_use():
        await client.update(without_finalizer(obj, finalizer))
