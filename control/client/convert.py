"""Kubernetes JSON <-> protobuf messages.

Field names in proto/ are chosen so protobuf's JSON mapping is Kubernetes'
JSON; this module covers the few places where the two differ: quantities may
be written as bare numbers, int-or-string fields (google.protobuf.Value)
come back from protobuf as floats, and times are printed as Kubernetes prints
them: a Time to the second, a MicroTime (eventTime, a Lease's renew and acquire
times, an event series' last observation) to the microsecond.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from control.client.conversion import ConversionError, convert, to_served_version
from control.client.kinds import Kind, for_object
from control.client.wellknown import QUANTITY_FIELDS  # manifests may write a quantity as a number: `cpu: 1`
from skiff.v1 import options_pb2


class ManifestError(ValueError):
    """A manifest that does not fit the API; the message names the field path."""


def _coerce_quantities(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        if key in QUANTITY_FIELDS:
            return {k: _quantity_text(v) for k, v in value.items()}
        return {k: _coerce_quantities(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_coerce_quantities(v) for v in value]
    if key in QUANTITY_FIELDS:
        return _quantity_text(value)
    return value


def _quantity_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # left for the parser to reject
    if isinstance(value, (int, float)):
        return str(value)
    return value


def from_dict(data: Any, kind: Kind | None = None, ignore_unknown: bool = False) -> Message:
    """Parses one Kubernetes object (as loaded from YAML or JSON) into its message; unknown fields are
    an error unless `ignore_unknown` (the apiserver's fieldValidation=Ignore)."""
    if not isinstance(data, dict):
        raise ManifestError(f"an object must be a mapping, not {type(data).__name__}")
    try:  # into the stored version, or the older version's view asked for
        data = to_served_version(data) if kind is None or not kind.stored_version else convert(data, kind.api_version)
    except ConversionError as e:
        raise ManifestError(str(e)) from None
    if kind is None:
        api_version, kind_name = data.get("apiVersion", ""), data.get("kind", "")
        if not kind_name:
            raise ManifestError("Object 'Kind' is missing")
        if not isinstance(kind_name, str) or not isinstance(api_version, str):
            raise ManifestError("apiVersion and kind must be strings")
        kind = for_object(api_version, kind_name)
    msg = kind.message()
    try:
        json_format.ParseDict(_coerce_quantities(data), msg, ignore_unknown_fields=ignore_unknown)
    except json_format.ParseError as e:
        raise ManifestError(_readable_parse_error(str(e), kind)) from None
    _unset_required_zeros(msg)
    if not msg.api_version:
        msg.api_version = kind.api_version
    if not msg.kind:
        msg.kind = kind.kind
    return msg


def _readable_parse_error(text: str, kind: Kind) -> str:
    # protobuf says: 'Failed to parse x field: ... at "Pod.spec.containers[0]"'.
    return text.replace(f'"{kind.message.DESCRIPTOR.name}.', '"').replace(
        "Message type \"skiff.v1.", 'type "')


_INT64_TYPES = (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT64,
                FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64)
_JSON_VALUES = ("google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.Struct")
_INT, _VALUE, _TIME, _MICRO_TIME = "int", "value", "time", "microtime"
MICRO_TIMES = frozenset({"eventTime", "lastObservedTime", "acquireTime", "renewTime"})
_FRACTION = re.compile(r"(?:\.(\d+))?Z$")
_ZERO = {FieldDescriptor.CPPTYPE_STRING: "", FieldDescriptor.CPPTYPE_BOOL: False,
         FieldDescriptor.CPPTYPE_DOUBLE: 0.0, FieldDescriptor.CPPTYPE_FLOAT: 0.0}


def _ints_from_values(value: Any) -> Any:
    # google.protobuf.Value holds numbers as doubles; Kubernetes' int-or-string fields are ints.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints_from_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints_from_values(v) for v in value]
    return value


@cache
def _zeros(descriptor: Descriptor) -> dict[str, Any]:
    """JSON name -> zero value of the scalars Kubernetes requires: its JSON always has them (Go prints
    a field without omitempty), and strict clients such as the Python client's models refuse an object
    without them."""
    return {f.json_name: _ZERO.get(f.cpp_type, 0) for f in descriptor.fields
            if f.message_type is None and not f.is_repeated and f.GetOptions().Extensions[options_pb2.required]}


@cache
def _required_walk(descriptor: Descriptor) -> tuple[tuple[str, ...], tuple[FieldDescriptor, ...]]:
    """(required scalars, message fields whose types hold some) of a message type."""
    scalars = tuple(f.name for f in descriptor.fields if f.json_name in _zeros(descriptor))
    nested = tuple(f for f in descriptor.fields if f.message_type is not None and _holds_required(f.message_type))
    return scalars, nested


@cache
def _holds_required(descriptor: Descriptor, _seen: frozenset = frozenset()) -> bool:
    if _zeros(descriptor):
        return True
    seen = _seen | {descriptor.full_name}
    return any(_holds_required(f.message_type, seen) for f in descriptor.fields
               if f.message_type is not None and f.message_type.full_name not in seen)


def _unset_required_zeros(msg: Message) -> None:
    """A required scalar's zero value reads as unset, as Kubernetes' non-pointer fields cannot tell them
    apart; so an object printed with its zeros (to_dict) parses back equal."""
    scalars, nested = _required_walk(msg.DESCRIPTOR)
    for name in scalars:
        if msg.HasField(name) and not getattr(msg, name):
            msg.ClearField(name)
    for field in nested:
        value = getattr(msg, field.name)
        if field.message_type.GetOptions().map_entry:
            values = value.values() if field.message_type.fields_by_name["value"].message_type else ()
        else:
            values = value if field.is_repeated else ([value] if msg.HasField(field.name) else ())
        for item in values:
            _unset_required_zeros(item)


@cache
def _plan(descriptor: Descriptor) -> dict[str, Any]:
    """JSON name -> how to fix that field's JSON: int64 (printed as strings by protobuf), JSON values
    (floats), or a nested message to walk; fields needing nothing are absent."""
    plan: dict[str, Any] = {}
    for field in descriptor.fields:
        target: Any = None
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            target = _value_action(value_field)
            if target is not None:
                target = ("map", target)
        else:
            target = _value_action(field)
        if target is not None:
            plan[field.json_name] = target
    return plan


def _value_action(field: FieldDescriptor) -> Any:
    if field.type in _INT64_TYPES:
        return _INT
    if field.message_type is None:
        return None
    if field.message_type.full_name in _JSON_VALUES:
        return _VALUE
    if field.message_type.full_name == "google.protobuf.Timestamp":
        return _MICRO_TIME if field.json_name in MICRO_TIMES else _TIME
    if field.message_type.full_name.startswith("google.protobuf."):
        return None
    return field.message_type if _plan(field.message_type) or _zeros(field.message_type) else None


def _fix(value: Any, action: Any) -> Any:
    if isinstance(value, list):
        return [_fix(v, action) for v in value]
    if action is _INT:
        return int(value)
    if action is _VALUE:
        return _ints_from_values(value)
    if action is _TIME:
        return _FRACTION.sub("Z", value) if isinstance(value, str) else value
    if action is _MICRO_TIME:
        return _FRACTION.sub(lambda m: f".{(m.group(1) or '')[:6].ljust(6, '0')}Z", value) \
            if isinstance(value, str) else value
    if isinstance(action, tuple):  # a map: fix each value
        return {k: _fix(v, action[1]) for k, v in value.items()}
    return _fix_message(value, action)


def _fix_message(data: dict[str, Any], descriptor: Descriptor) -> dict[str, Any]:
    for name, action in _plan(descriptor).items():
        if name in data:
            data[name] = _fix(data[name], action)
    for name, zero in _zeros(descriptor).items():
        data.setdefault(name, zero)
    return data


def with_required(data: dict[str, Any], descriptor: Descriptor) -> dict[str, Any]:
    """Kubernetes' JSON of `descriptor`'s type (e.g. converted from another version) with the zero
    values of the scalars it requires filled in, as to_dict gives them."""
    return _fix_message(data, descriptor)


def to_dict(msg: Message) -> dict[str, Any]:
    """The Kubernetes-shaped JSON object for a message: protobuf's JSON mapping, with int64 fields as
    numbers (protobuf prints them as strings) and int-or-string values as ints."""
    return _fix_message(json_format.MessageToDict(msg), msg.DESCRIPTOR)


def int_or_string(value) -> int | str | None:
    """Reads a google.protobuf.Value holding an int-or-string field."""
    which = value.WhichOneof("kind")
    if which == "number_value":
        return int(value.number_value)
    if which == "string_value":
        return value.string_value
    return None
