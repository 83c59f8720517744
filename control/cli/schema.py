"""Checks a manifest's shape against the API's messages, so errors name the field path.

protobuf's own parser stops at the first problem with a message that is hard to read;
this walks the whole object the way kubectl's strict validation does and lists every
unknown field and wrong type as `spec.containers[0].ports: ...`.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from control.client.wellknown import QUANTITY_FIELDS

_INTS = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
         FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64}
_WELL_KNOWN_SCALARS = {"google.protobuf.Value", "google.protobuf.Timestamp", "google.protobuf.Struct"}


def shape_errors(data: dict, descriptor: Descriptor) -> list[str]:
    """Every `path: problem` in the object; empty when it fits the message."""
    errors: list[str] = []
    _check_message(data, descriptor, "", errors)
    return errors


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def _check_message(data: Any, descriptor: Descriptor, path: str, errors: list[str]) -> None:
    if not isinstance(data, dict):
        errors.append(f"{path or '<root>'}: Invalid type: expected object, got {_type_name(data)}")
        return
    fields = {f.json_name: f for f in descriptor.fields}
    fields.update({f.name: f for f in descriptor.fields})
    for key, value in data.items():
        field = fields.get(key) if isinstance(key, str) else None
        sub = _join(path, str(key))
        if field is None:
            errors.append(f'{sub}: unknown field "{key}"')
        elif value is not None:
            _check_field(value, field, sub, errors)


def _check_field(value: Any, field: FieldDescriptor, path: str, errors: list[str]) -> None:
    is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
    if is_map:
        if not isinstance(value, dict):
            errors.append(f"{path}: Invalid type: expected object, got {_type_name(value)}")
            return
        value_field = field.message_type.fields_by_name["value"]
        for k, v in value.items():
            if v is not None:
                _check_single(v, value_field, f"{path}[{k}]", errors, quantity=field.json_name in QUANTITY_FIELDS)
        return
    if field.is_repeated:
        if not isinstance(value, list):
            errors.append(f"{path}: Invalid type: expected array, got {_type_name(value)}")
            return
        for i, item in enumerate(value):
            _check_single(item, field, f"{path}[{i}]", errors)
        return
    _check_single(value, field, path, errors, quantity=field.json_name in QUANTITY_FIELDS)


def _check_single(value: Any, field: FieldDescriptor, path: str, errors: list[str], quantity: bool = False) -> None:
    if field.message_type is not None:
        if field.message_type.full_name in _WELL_KNOWN_SCALARS:
            return
        _check_message(value, field.message_type, path, errors)
        return
    expected = _expected(field, quantity)
    if expected and not _fits(value, expected):
        errors.append(f"{path}: Invalid type: expected {expected}, got {_type_name(value)}")


def _expected(field: FieldDescriptor, quantity: bool) -> str:
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        return "quantity" if quantity else "string"
    if field.type in _INTS:
        return "integer"
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "boolean"
    return ""


def _fits(value: Any, expected: str) -> bool:
    if expected == "string":
        return isinstance(value, str)
    if expected == "quantity":
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or \
            isinstance(value, float) and value.is_integer()
    return isinstance(value, bool)
