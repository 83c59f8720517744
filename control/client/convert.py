"""Kubernetes JSON <-> protobuf messages.

Field names in proto/ are chosen so protobuf's JSON mapping is Kubernetes'
JSON; this module covers the few places where the two differ: quantities may
be written as bare numbers, and int-or-string fields (google.protobuf.Value)
come back from protobuf as floats.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from control.client.kinds import Kind, for_object
from control.client.wellknown import QUANTITY_FIELDS  # manifests may write a quantity as a number: `cpu: 1`


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


def from_dict(data: Any, kind: Kind | None = None) -> Message:
    """Parses one Kubernetes object (as loaded from YAML or JSON) into its message."""
    if not isinstance(data, dict):
        raise ManifestError(f"an object must be a mapping, not {type(data).__name__}")
    if kind is None:
        api_version, kind_name = data.get("apiVersion", ""), data.get("kind", "")
        if not kind_name:
            raise ManifestError("Object 'Kind' is missing")
        if not isinstance(kind_name, str) or not isinstance(api_version, str):
            raise ManifestError("apiVersion and kind must be strings")
        kind = for_object(api_version, kind_name)
    msg = kind.message()
    try:
        json_format.ParseDict(_coerce_quantities(data), msg)
    except json_format.ParseError as e:
        raise ManifestError(_readable_parse_error(str(e), kind)) from None
    if not msg.api_version:
        msg.api_version = kind.api_version
    if not msg.kind:
        msg.kind = kind.kind
    return msg


def _readable_parse_error(text: str, kind: Kind) -> str:
    # protobuf says: 'Failed to parse x field: ... at "Pod.spec.containers[0]"'.
    return text.replace(f'"{kind.message.DESCRIPTOR.name}.', '"').replace(
        "Message type \"skiff.v1.", 'type "')


def _ints_from_values(value: Any) -> Any:
    # Our only floats come from google.protobuf.Value (int-or-string fields).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints_from_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints_from_values(v) for v in value]
    return value


def to_dict(msg: Message) -> dict[str, Any]:
    """The Kubernetes-shaped JSON object for a message."""
    return _ints_from_values(json_format.MessageToDict(msg))


def int_or_string(value) -> int | str | None:
    """Reads a google.protobuf.Value holding an int-or-string field."""
    which = value.WhichOneof("kind")
    if which == "number_value":
        return int(value.number_value)
    if which == "string_value":
        return value.string_value
    return None
