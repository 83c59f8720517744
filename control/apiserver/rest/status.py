"""The API's errors as Kubernetes `Status` objects with their HTTP codes and reasons."""

from __future__ import annotations

import re

import grpc

from control.apiserver import errors
from control.client.kinds import Kind

_BY_CODE: dict[grpc.StatusCode, tuple[int, str]] = {
    grpc.StatusCode.NOT_FOUND: (404, "NotFound"),
    grpc.StatusCode.ALREADY_EXISTS: (409, "AlreadyExists"),
    grpc.StatusCode.ABORTED: (409, "Conflict"),
    grpc.StatusCode.INVALID_ARGUMENT: (400, "BadRequest"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "Unauthorized"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Forbidden"),
    grpc.StatusCode.OUT_OF_RANGE: (410, "Expired"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "TooManyRequests"),
    grpc.StatusCode.UNAVAILABLE: (503, "ServiceUnavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "Timeout"),
    grpc.StatusCode.FAILED_PRECONDITION: (409, "Conflict"),
    grpc.StatusCode.UNIMPLEMENTED: (405, "MethodNotAllowed"),
}
# Kubernetes' field.ErrorType wordings -> the cause reasons (apimachinery's util/validation/field).
_CAUSES = (("Required value", "FieldValueRequired"), ("Invalid value", "FieldValueInvalid"),
           ("Unsupported value", "FieldValueNotSupported"), ("Duplicate value", "FieldValueDuplicate"),
           ("Forbidden", "FieldValueForbidden"), ("Too long", "FieldValueTooLong"),
           ("Too many", "FieldValueTooMany"), ("Not found", "FieldValueNotFound"))
_INVALID = re.compile(r'^(\S+) "[^"]*" is invalid: ')
_QUOTED_NAME = re.compile(r'^\S+ "([^"]*)"')


class RestError(Exception):
    """An error of the HTTP layer with no gRPC counterpart (415 UnsupportedMediaType)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    doc = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
           "reason": reason, "code": code}
    if details:
        doc["details"] = details
    return doc


def success(kind: Kind, name: str, uid: str = "") -> dict:
    details = {"name": name, "group": kind.group, "kind": kind.plural}
    if uid:
        details["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def not_found_path() -> tuple[int, dict]:
    return 404, status(404, "NotFound", "the server could not find the requested resource", {})


def from_error(err: errors.ApiError, kind: Kind | None = None, name: str = "") -> tuple[int, dict]:
    if isinstance(err, errors.ApplyConflict):
        return 409, status(409, "Conflict", err.message, {"causes": err.causes})
    code, reason = _BY_CODE.get(err.code, (500, "InternalError"))
    details: dict = {}
    if kind is not None:
        details = {"group": kind.group, "kind": kind.plural}
        found = _QUOTED_NAME.match(err.message)
        if name or found:
            details["name"] = name or found.group(1)
    invalid = _INVALID.match(err.message) if err.code is grpc.StatusCode.INVALID_ARGUMENT else None
    if invalid:
        code, reason = 422, "Invalid"
        if kind is not None:
            details["kind"] = kind.kind
            if invalid.group(1) != kind.kind:  # the request's options (PodLogOptions, PatchOptions.meta.k8s.io)
                details["kind"], _, details["group"] = invalid.group(1).partition(".")
        details["causes"] = [_cause(v) for v in err.violations]
    elif err.code is grpc.StatusCode.INVALID_ARGUMENT:
        details = {}
    elif err.code is grpc.StatusCode.RESOURCE_EXHAUSTED and err.violations:  # an eviction a budget refuses
        details = {"causes": [{"reason": v.field, "message": v.description} for v in err.violations]}
    if err.details is not None:
        details = {**{k: v for k, v in details.items() if k == "causes"}, **err.details}
    doc = status(code, reason, err.message, details or None)
    if err.list_meta:
        doc["metadata"] = dict(err.list_meta)
    return code, doc


def _cause(v: errors.FieldViolation) -> dict:
    reason = next((r for prefix, r in _CAUSES if v.description.startswith(prefix)), "FieldValueInvalid")
    cause = {"reason": reason, "message": v.description}
    if v.field:  # omitted when empty, as Kubernetes' StatusCause omits it
        cause["field"] = v.field
    return cause
