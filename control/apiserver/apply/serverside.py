"""A server-side apply against the store, shared by the REST PATCH and the gRPC Apply: the stored
object (or none), the merge and field ownership (managedfields), then a create or an update that
keeps the apply's managedFields, again on a conflicting write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.apply import lastapplied, managedfields, tracking, typed
from control.client.convert import to_dict
from control.client.kinds import Kind

ATTEMPTS = 8


@dataclass
class Target:
    """Where an apply lands: the stored object, the two writes, and how a merged document becomes
    the kind's message (REST's field validation, or none)."""
    kind: Kind
    name: str
    get: Callable[[], Awaitable[Message]]
    create: Callable[[Message], Awaitable[Message]]
    update: Callable[[Message], Awaitable[Message]]
    decode: Callable[[dict], Message]
    subresource: str = ""


def check_manager(manager: str) -> None:
    if not manager:
        raise _invalid("fieldManager", "Required value: is required for apply patch")
    if len(manager) > tracking.MAX_MANAGER:
        raise _invalid("fieldManager", f"Too long: may not be more than {tracking.MAX_MANAGER} bytes")


def _invalid(field: str, description: str) -> errors.ApiError:
    return errors.invalid("PatchOptions.meta.k8s.io", "", [errors.FieldViolation(field=field,
                                                                                 description=description)])


def check_configuration(config, kind: Kind) -> dict:
    """The applied configuration must name the kind and carry no managedFields."""
    if not isinstance(config, dict):
        raise errors.bad_request("the applied configuration must be an object")
    for name, wanted in (("apiVersion", kind.api_version), ("kind", kind.kind)):
        if not config.get(name):
            raise errors.bad_request(f"{name} must be set in the applied configuration")
        if config[name] != wanted:
            raise errors.bad_request(f"the {name} in the applied configuration ({config[name]}) does not match the "
                                     f"resource's ({wanted})")
    if not isinstance(config.get("metadata"), dict):
        raise errors.bad_request("metadata must be set in the applied configuration")
    if config["metadata"].get("managedFields") is not None:
        raise errors.bad_request("metadata.managedFields must be nil")
    return config


async def apply(target: Target, config: dict, manager: str, force: bool) -> tuple[Message, bool]:
    """The written object and whether the apply created it."""
    check_manager(manager)
    config = check_configuration(config, target.kind)
    scope = tracking.scope(target.kind, target.subresource)
    pinned = config["metadata"].get("resourceVersion")
    for _ in range(ATTEMPTS):
        current = await _stored(target)
        live = _doc(target.kind, current)
        try:
            merged, managers = _merged(live, config, tracking.current(target.kind, current), manager, force, scope)
        except managedfields.ConflictError as e:
            raise errors.ApplyConflict(e.message, e.causes()) from None
        except typed.FieldError as e:
            raise errors.bad_request(f"failed to create typed patch object: {e}") from None
        obj = target.decode(lastapplied.synced(manager, live, merged, config))
        with tracking.writing(tracking.Writer(manager, applied=tuple(managedfields.encode(managers)))):
            if current is None:
                obj.metadata.ClearField("resource_version")
                try:
                    return await target.create(obj), True
                except errors.ApiError as e:
                    if e.code is not grpc.StatusCode.ALREADY_EXISTS:
                        raise
                    continue  # created meanwhile: apply to it
            if not pinned:
                obj.metadata.resource_version = current.metadata.resource_version
            try:
                return await target.update(obj), False
            except errors.ApiError as e:
                if e.code is not grpc.StatusCode.ABORTED or pinned:
                    raise
    raise errors.conflict(target.kind.resource, target.name)


async def _stored(target: Target) -> Message | None:
    try:
        return await target.get()
    except errors.ApiError as e:
        if e.code is not grpc.StatusCode.NOT_FOUND or target.subresource:
            raise
        return None


def _doc(kind: Kind, obj: Message | None) -> dict:
    if obj is None:
        return {}
    doc = to_dict(obj)
    doc["apiVersion"], doc["kind"] = kind.api_version, kind.kind
    meta = doc.get("metadata") or {}
    for key in [k for k, v in meta.items() if v == ""]:
        del meta[key]
    return doc


def _merged(live: dict, config: dict, managers: managedfields.Managers, manager: str, force: bool,
            scope: managedfields.Scope) -> tuple[dict, managedfields.Managers]:
    """The apply; kubectl's conflicts on fields it applied client-side are taken over (lastapplied)."""
    try:
        return managedfields.apply(live, config, managers, manager, force, scope)
    except managedfields.ConflictError as e:
        allowed = lastapplied.allowed_conflicts(manager, live, scope.node)
        remaining: dict = {}
        for key, path in e.conflicts:
            if path not in allowed:
                remaining.setdefault(key, set()).add(path)
        if remaining:
            raise managedfields.ConflictError(remaining) from None
        return managedfields.apply(live, config, managers, manager, True, scope)
