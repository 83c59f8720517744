"""Answers in Kubernetes' protobuf encoding for a client that prefers it (client-go's typed clients send
`Accept: application/vnd.kubernetes.protobuf,application/json`): the JSON document written with the
field table k8sproto reads bodies with, inside the `k8s\\0` + runtime.Unknown envelope. Only objects and
lists of the table's kinds are encoded; everything else (Status, Table, watch streams) stays JSON,
which the client reads just as well."""

from __future__ import annotations

import base64
import json
import re
import struct
from datetime import datetime

from control.apiserver.rest.k8sproto import FIXED32, FIXED64, LENGTH, MAGIC, MEDIA_TYPE, META, VARINT, table

_WIRE = {"int32": VARINT, "int64": VARINT, "uint32": VARINT, "uint64": VARINT, "bool": VARINT, "double": FIXED64,
         "float": FIXED32}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
                   "m": 60_000_000_000, "h": 3_600_000_000_000}


class EncodeError(ValueError):
    pass


def prefers_protobuf(accept: str) -> bool:
    """Whether the first media type the client accepts is Kubernetes' protobuf."""
    first = accept.split(",")[0].split(";")[0].strip()
    return first == MEDIA_TYPE


def message_of(doc: dict) -> str | None:
    """The table's message for a JSON object or list, or None when it has none."""
    api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    if not isinstance(api_version, str) or not isinstance(kind, str) or kind in ("Status", "Table"):
        return None
    group, _, version = api_version.rpartition("/")
    name = f"io.k8s.api.{group.split('.')[0] if group else 'core'}.{version}.{kind}"
    return name if name in table() else None


def encode(doc: dict, message: str) -> bytes:
    """The envelope around the object: typeMeta, raw, contentEncoding and contentType, as Go writes it."""
    type_meta = _ln(1, doc["apiVersion"].encode()) + _ln(2, doc["kind"].encode())
    return MAGIC + _ln(1, type_meta) + _ln(2, message_bytes(doc, message)) + _ln(3, b"") + _ln(4, b"")


def message_bytes(doc: dict, message: str) -> bytes:
    special = SPECIAL.get(message)
    if special is not None:
        return special(doc)
    if not isinstance(doc, dict):
        raise EncodeError(f"{message} is not an object")
    out = bytearray()
    for name, (number, type_, flags) in sorted(table()[message].items(), key=lambda i: i[1][0]):
        if "i" in flags:
            out += _ln(number, message_bytes(doc, type_))
            continue
        if name not in doc or doc[name] is None:
            continue
        value = doc[name]
        if type_.startswith("map:"):
            _, key_type, value_type = type_.split(":", 2)
            for key, item in sorted(value.items()):
                out += _ln(number, _field(1, key, key_type) + _field(2, item, value_type))
        elif "r" in flags:
            for item in value:
                out += _field(number, item, type_)
        else:
            out += _field(number, value, type_)
    return bytes(out)


def _field(number: int, value, type_: str) -> bytes:
    wire = _WIRE.get(type_, LENGTH)
    if wire == VARINT:
        return _tag(number, VARINT) + _varint(int(value))
    if wire == FIXED64:
        return _tag(number, FIXED64) + struct.pack("<d", float(value))
    if wire == FIXED32:
        return _tag(number, FIXED32) + struct.pack("<f", float(value))
    if type_ == "string":
        return _ln(number, str(value).encode())
    if type_ == "bytes":
        return _ln(number, base64.b64decode(value))
    return _ln(number, message_bytes(value, type_))


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _ln(number: int, data: bytes) -> bytes:
    return _tag(number, LENGTH) + _varint(len(data)) + data


# -- apimachinery's types with a JSON form of their own --------------------------------------------

def _time(text) -> bytes:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise EncodeError(f"not a time: {text!r}") from None
    seconds = int(moment.timestamp())
    return _tag(1, VARINT) + _varint(seconds) + _tag(2, VARINT) + _varint(moment.microsecond * 1000)


def _duration(text) -> bytes:
    text = str(text)
    sign = -1 if text.startswith("-") else 1
    parts = _DURATION_PART.findall(text.lstrip("+-"))
    nanos = sum(int(float(n) * _DURATION_UNITS[unit]) for n, unit in parts)
    return _tag(1, VARINT) + _varint(sign * nanos)


def _int_or_string(value) -> bytes:
    if isinstance(value, str):
        return _tag(1, VARINT) + _varint(1) + _ln(3, value.encode())
    return _tag(1, VARINT) + _varint(0) + _tag(2, VARINT) + _varint(int(value))


def _quantity(value) -> bytes:
    return _ln(1, str(value).encode())


def _raw_json(value) -> bytes:
    return _ln(1, json.dumps(value, separators=(",", ":")).encode())


def _items(values) -> bytes:
    return b"".join(_ln(1, str(v).encode()) for v in values)


SPECIAL = {
    f"{META}Time": _time, f"{META}MicroTime": _time, f"{META}Duration": _duration,
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": _int_or_string,
    "io.k8s.apimachinery.pkg.api.resource.Quantity": _quantity,
    "io.k8s.apimachinery.pkg.runtime.RawExtension": _raw_json, f"{META}FieldsV1": _raw_json,
    f"{META}Verbs": _items, "io.k8s.api.authentication.v1.ExtraValue": _items,
    "io.k8s.api.authorization.v1.ExtraValue": _items,
}
