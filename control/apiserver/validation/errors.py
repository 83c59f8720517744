"""FieldViolation constructors worded like Kubernetes' field errors."""

from __future__ import annotations

import json
from collections.abc import Iterable

from google.protobuf.message import Message
from google.rpc.error_details_pb2 import BadRequest

from control.client.convert import to_dict

FieldViolation = BadRequest.FieldViolation
Errors = list[FieldViolation]


def show(value: object) -> str:
    """How a bad value appears in a message: strings quoted, objects as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Message):
        value = to_dict(value)
    try:
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    except TypeError:
        return repr(value)


def _violation(path: str, description: str) -> FieldViolation:
    return FieldViolation(field=path, description=description)


def required(path: str, detail: str = "") -> FieldViolation:
    return _violation(path, "Required value" + (f": {detail}" if detail else ""))


def invalid(path: str, value: object, detail: str) -> FieldViolation:
    return _violation(path, f"Invalid value: {show(value)}: {detail}")


def invalids(path: str, value: object, details: Iterable[str]) -> Errors:
    return [invalid(path, value, d) for d in details]


def not_supported(path: str, value: object, supported: Iterable[str]) -> FieldViolation:
    values = ", ".join(show(s) for s in supported)
    return _violation(path, f"Unsupported value: {show(value)}: supported values: {values}")


def duplicate(path: str, value: object) -> FieldViolation:
    return _violation(path, f"Duplicate value: {show(value)}")


def forbidden(path: str, detail: str) -> FieldViolation:
    return _violation(path, f"Forbidden: {detail}")


def not_found(path: str, value: object) -> FieldViolation:
    return _violation(path, f"Not found: {show(value)}")


def too_long(path: str, limit: int) -> FieldViolation:
    return _violation(path, f"Too long: must have at most {limit} bytes")


def too_many(path: str, actual: int, limit: int) -> FieldViolation:
    return _violation(path, f"Too many: {actual}: must have at most {limit} items")


def immutable(path: str, value: object) -> FieldViolation:
    return invalid(path, value, "field is immutable")


def enum(path: str, value: str, supported: Iterable[str]) -> Errors:
    """Required when empty, Unsupported when not one of `supported`."""
    supported = list(supported)
    if not value:
        return [required(path)]
    return [] if value in supported else [not_supported(path, value, supported)]
