"""Who is writing (the request's field manager) and the managedFields every write records.

The gRPC and REST fronts set WRITER for the request; the handlers call `track` on each create and
update, so every write records an Update entry for its manager. An apply sets its own managedFields
(`applied`), which the write takes as they are.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache

from google.protobuf import json_format
from google.protobuf.message import Message

from control.apiserver.apply import managedfields, typed
from control.apiserver.apply.managedfields import Managers, Scope
from control.client.convert import to_dict
from control.client.kinds import Kind

BEFORE_FIRST_APPLY = "before-first-apply"
MAX_MANAGER = 128


@dataclass(frozen=True)
class Writer:
    manager: str
    applied: tuple | None = None  # an apply's managedFields (ManagedFieldsEntry), which the write takes


WRITER: ContextVar[Writer | None] = ContextVar("skiff_field_writer", default=None)


def manager_for(field_manager: str, user_agent: str) -> str:
    """The fieldManager given, else the user agent's product (`kubectl/v1.32.0 (linux/amd64) ...` ->
    `kubectl`), as kube-apiserver names a writer."""
    return field_manager or (user_agent or "").split("/")[0].split(" ")[0][:MAX_MANAGER]


@contextmanager
def writing(writer: Writer):
    token = WRITER.set(writer)
    try:
        yield
    finally:
        WRITER.reset(token)


@cache
def scope(kind: Kind, subresource: str = "") -> Scope:
    return Scope(typed.root(kind.message.DESCRIPTOR), kind.api_version, subresource, kind.has_status)


def current(kind: Kind, obj: Message | None) -> Managers:
    """The managers of a stored object; one that has none (written before fields were tracked) is
    owned by `before-first-apply`, as Kubernetes does on the first apply."""
    if obj is None:
        return {}
    managers = managedfields.decode(obj.metadata.managed_fields)
    if managers:
        return managers
    s = scope(kind)
    fields = frozenset(s.owned(typed.field_set(to_dict(obj), s.node)))
    if not fields:
        return {}
    entry = managedfields.Entry(BEFORE_FIRST_APPLY, managedfields.UPDATE, kind.api_version, "", fields)
    return {entry.key: entry}


def track(kind: Kind, old: Message | None, new: Message, subresource: str = "") -> None:
    """Sets new.metadata.managedFields for a write of `new` over `old` (None: a create)."""
    writer = WRITER.get()
    given = list(new.metadata.managed_fields)
    stored = list(old.metadata.managed_fields) if old is not None else []
    if writer is not None and writer.applied is not None:
        del new.metadata.managed_fields[:]
        new.metadata.managed_fields.extend(writer.applied)
        return
    if writer is None:
        if not given:
            new.metadata.managed_fields.extend(stored)
        return
    # managedFields a client changed are taken as given (`[{}]` clears them); else the stored ones hold
    entries = given if given and given != stored else stored
    managers = managedfields.decode(entries)
    where = scope(kind, subresource)
    try:
        managers = managedfields.update(*_owned_docs(old, new, where), managers, writer.manager, where)
    except (typed.FieldError, json_format.Error):
        pass  # an object the schema cannot place keeps the managers it had, as UpdateNoErrors does
    del new.metadata.managed_fields[:]
    new.metadata.managed_fields.extend(managedfields.encode(managers))



def _owned_docs(old: Message | None, new: Message, where: Scope) -> tuple[dict, dict]:
    """Both objects as JSON with only what the write can own (not managedFields; not status, or only
    status) and, of that, only the top-level fields that differ: the rest cannot change ownership."""
    a, b = _owned(old, where), _owned(new, where)
    if a is None:
        return {}, to_dict(b)
    for field in b.DESCRIPTOR.fields:
        if getattr(a, field.name) == getattr(b, field.name):
            a.ClearField(field.name)
            b.ClearField(field.name)
    return to_dict(a), to_dict(b)


def _owned(obj: Message | None, where: Scope) -> Message | None:
    if obj is None:
        return None
    copy = obj.__class__()
    if where.subresource == "status":
        if obj.HasField("status"):
            copy.status.CopyFrom(obj.status)
        return copy
    copy.CopyFrom(obj)
    del copy.metadata.managed_fields[:]
    if where.has_status:
        copy.ClearField("status")
    return copy
