"""Server-side apply over REST: a PATCH with `application/apply-patch+yaml` (a YAML or JSON body)
merges the configuration into the object (creating it when absent) as its `fieldManager`, with
field ownership recorded in metadata.managedFields (control/apiserver/apply/)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
import yaml
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.apply import lastapplied, managedfields, tracking, typed
from control.apiserver.rest.bodies import parse_object
from control.apiserver.rest.encode import object_doc
from control.apiserver.rest.http import Request
from control.apiserver.rest.routes import Route

APPLY = "application/apply-patch+yaml"
ATTEMPTS = 8
PATCH_OPTIONS = "PatchOptions.meta.k8s.io"


@dataclass
class Target:
    """What an apply needs of the REST layer: the stored object and the two writes."""
    get: Callable[[], Awaitable[Message]]
    create: Callable[[Message], Awaitable[Message]]
    update: Callable[[Message], Awaitable[Message]]


def options(req: Request, content_type: str) -> tuple[str, bool]:
    """The request's fieldManager and force, checked as kube-apiserver checks PatchOptions."""
    manager = req.arg("fieldManager")
    force = req.arg("force")
    if force and force not in ("true", "false", "1", "0"):
        raise _invalid("force", f'Invalid value: "{force}": must be true or false')
    if content_type != APPLY:
        if force:
            raise _invalid("force", "Forbidden: may not be specified for non-apply patch")
        return manager, False
    if not manager:
        raise _invalid("fieldManager", "Required value: is required for apply patch")
    if len(manager) > tracking.MAX_MANAGER:
        raise _invalid("fieldManager", f'Too long: may not be more than {tracking.MAX_MANAGER} bytes')
    return manager, force in ("true", "1")


def _invalid(field: str, description: str) -> errors.ApiError:
    return errors.invalid(PATCH_OPTIONS, "", [errors.FieldViolation(field=field, description=description)])


def configuration(req: Request, route: Route) -> dict:
    """The applied configuration: YAML (JSON being YAML) naming the route's kind and object."""
    try:
        config = yaml.safe_load(req.body or b"")
    except yaml.YAMLError as e:
        raise errors.bad_request(f"error decoding YAML: {e}") from None
    if not isinstance(config, dict):
        raise errors.bad_request("the applied configuration must be an object")
    kind = route.kind
    for name, wanted in (("apiVersion", kind.api_version), ("kind", kind.kind)):
        if not config.get(name):
            raise errors.bad_request(f"{name} must be set in the applied configuration")
        if config[name] != wanted:
            raise errors.bad_request(f"the {name} in the applied configuration ({config[name]}) does not match the "
                                     f"resource's ({wanted})")
    meta = config.get("metadata")
    if not isinstance(meta, dict):
        raise errors.bad_request("metadata must be set in the applied configuration")
    if meta.get("managedFields") is not None:
        raise errors.bad_request("metadata.managedFields must be nil")
    return config


async def apply(target: Target, req: Request, route: Route, manager: str, force: bool,
                warnings: list[str]) -> tuple[Message, bool]:
    """The written object and whether the apply created it."""
    config = configuration(req, route)
    subresource = route.subresource
    scope = tracking.scope(route.kind, subresource)
    for _ in range(ATTEMPTS):
        try:
            current = await target.get()
        except errors.ApiError as e:
            if e.code is not grpc.StatusCode.NOT_FOUND or subresource:
                raise
            current = None
        live = object_doc(route.kind, current) if current is not None else {}
        try:
            merged, managers = _apply(live, config, tracking.current(route.kind, current), manager, force, scope)
        except managedfields.ConflictError as e:
            raise errors.ApplyConflict(e.message, e.causes()) from None
        except typed.FieldError as e:
            raise errors.bad_request(f"failed to create typed patch object: {e}") from None
        merged = lastapplied.synced(manager, live, merged, config)
        warnings.clear()
        obj = parse_object(merged, route, req.arg("fieldValidation"), warnings)
        entries = tuple(managedfields.encode(managers))
        pinned = (config.get("metadata") or {}).get("resourceVersion")
        with tracking.writing(tracking.Writer(manager, applied=entries)):
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
    raise errors.conflict(route.kind.resource, route.name)


def _apply(live: dict, config: dict, managers: managedfields.Managers, manager: str, force: bool,
           scope: managedfields.Scope) -> tuple[dict, managedfields.Managers]:
    """The apply; kubectl's conflicts on fields it applied client-side are taken over (lastapplied)."""
    try:
        return managedfields.apply(live, config, managers, manager, force, scope)
    except managedfields.ConflictError as e:
        allowed = lastapplied.allowed_conflicts(manager, live, scope.node)
        remaining = {}
        for key, path in e.conflicts:
            if path not in allowed:
                remaining.setdefault(key, set()).add(path)
        if remaining:
            raise managedfields.ConflictError(remaining) from None
        return managedfields.apply(live, config, managers, manager, True, scope)
