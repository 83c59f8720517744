"""Server-side apply over REST: a PATCH with `application/apply-patch+yaml` (a YAML or JSON body)
merges the configuration into the object (creating it when absent) as its `fieldManager`, with
field ownership recorded in metadata.managedFields (control/apiserver/apply/)."""

from __future__ import annotations

import yaml
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.apply import serverside
from control.apiserver.apply.serverside import Target
from control.apiserver.rest.bodies import parse_object
from control.apiserver.rest.http import Request
from control.apiserver.rest.routes import Route

APPLY = "application/apply-patch+yaml"

__all__ = ["APPLY", "Target", "apply", "decoder", "options"]


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
    serverside.check_manager(manager)
    return manager, force in ("true", "1")


def _invalid(field: str, description: str) -> errors.ApiError:
    return errors.invalid("PatchOptions.meta.k8s.io", "", [errors.FieldViolation(field=field,
                                                                                 description=description)])


def decoder(req: Request, route: Route, warnings: list[str]):
    """Merged documents as the route's kind, with the request's field validation."""
    def decode(doc: dict) -> Message:
        warnings.clear()
        return parse_object(doc, route, req.arg("fieldValidation"), warnings)
    return decode


async def apply(target: Target, req: Request, manager: str, force: bool) -> tuple[Message, bool]:
    """The written object and whether the apply created it; the body is YAML (JSON being YAML)."""
    try:
        config = yaml.safe_load(req.body or b"")
    except yaml.YAMLError as e:
        raise errors.bad_request(f"error decoding YAML: {e}") from None
    return await serverside.apply(target, config, manager, force)
