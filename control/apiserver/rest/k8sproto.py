"""Kubernetes' protobuf encoding of request bodies (`application/vnd.kubernetes.protobuf`), read into the
JSON document the JSON path takes.

A body is the 4-byte magic `k8s\\0` and a runtime.Unknown {typeMeta {apiVersion, kind}, raw,
contentEncoding, contentType} whose `raw` is the object in Kubernetes' own field numbers. Those numbers
differ from Skiff's messages, so the wire format is walked with the table in k8swire.json
(scripts/gen/k8s_wire.py wrote it from upstream's generated.proto files and struct tags). Kubernetes
writes every non-pointer field, zero or not; a zero there means the same as an absent field, so it is
left out, while a pointer's zero (`replicas: 0`, `immutable: false`) is kept.
"""

from __future__ import annotations

import base64
import json
import struct
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
TABLE_FILE = Path(__file__).with_name("k8swire.json")
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5
_NUMERIC = {"int32", "int64", "uint32", "uint64", "bool", "double", "float"}
_WIRE = {"int32": VARINT, "int64": VARINT, "uint32": VARINT, "uint64": VARINT, "bool": VARINT, "double": FIXED64,
         "float": FIXED32}


class WireError(ValueError):
    pass


@cache
def table() -> dict[str, dict[str, list]]:
    return json.loads(TABLE_FILE.read_text())


@cache
def by_number(message: str) -> dict[int, tuple[str, str, str]]:
    return {number: (name, type_, flags) for name, (number, type_, flags) in table()[message].items()}


def message_for(api_version: str, kind: str) -> str:
    """The table's message for a body's typeMeta: `policy/v1` Eviction -> io.k8s.api.policy.v1.Eviction;
    the options every group shares (DeleteOptions) are meta/v1's."""
    group, _, version = api_version.rpartition("/")
    name = f"io.k8s.api.{group.split('.')[0] if group else 'core'}.{version}.{kind}"
    if name in table():
        return name
    if f"{META}{kind}" in table():
        return f"{META}{kind}"
    raise WireError(f'no kind "{kind}" is registered for version "{api_version}"')


def decode(body: bytes) -> dict:
    """An Unknown-wrapped object as Kubernetes' JSON, its apiVersion and kind from the wrapper."""
    try:
        return _decode(body)
    except RecursionError:  # objects embedded in objects without end
        raise WireError("the body nests objects too deeply") from None


def _decode(body: bytes) -> dict:
    if not body.startswith(MAGIC):
        raise WireError("the body does not start with Kubernetes' protobuf magic number")
    unknown = _scalars(body[len(MAGIC):])
    type_meta = _scalars(unknown.get(1, b""))
    api_version, kind = _text(type_meta.get(1, b"")), _text(type_meta.get(2, b""))
    if unknown.get(3):
        raise WireError(f'unsupported content encoding "{_text(unknown[3])}"')
    doc = to_json(unknown.get(2, b""), message_for(api_version, kind))
    return {"apiVersion": api_version, "kind": kind, **doc}


# -- the wire format --------------------------------------------------------------------------------

def fields(data: bytes):
    """(number, wire type, value) for each field: an int for varints and fixed, bytes for the rest."""
    if not isinstance(data, bytes):
        raise WireError("an embedded message has the wrong wire type")
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = _varint(data, pos)
        elif wire == FIXED64:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == FIXED32:
            value, pos = data[pos:pos + 4], pos + 4
        elif wire == LENGTH:
            size, pos = _varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        else:
            raise WireError(f"unsupported wire type {wire} for field {number}")
        if pos > end or number == 0:
            raise WireError("truncated or malformed protobuf data")
        yield number, wire, value


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise WireError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


# -- into JSON -------------------------------------------------------------------------------------

def to_json(data: bytes, message: str):
    special = SPECIAL.get(message)
    if special is not None:
        return special(data)
    numbers = by_number(message)
    doc: dict = {}
    for number, wire, value in fields(data):
        if number not in numbers:
            continue  # a field newer than the table: ignored, as an old server does
        name, type_, flags = numbers[number]
        if type_.startswith("map:"):
            key, item = _map_entry(value, type_)
            doc.setdefault(name, {})[key] = item
        elif "r" in flags:
            doc.setdefault(name, []).extend(_repeated(wire, value, type_))
        elif "i" in flags:
            doc.update(to_json(value, type_))
        else:
            doc[name] = _value(wire, value, type_)
    entries = table()[message]
    return {k: v for k, v in doc.items()
            if v is not None and (not _zero(v) or k in entries and "p" in entries[k][2])}


def _zero(value) -> bool:
    return value is None or value == "" or value is False or value == 0 or value == {} or value == []


def _map_entry(data: bytes, type_: str):
    _, key_type, value_type = type_.split(":", 2)
    key, value = _default(key_type), None
    for number, wire, raw in fields(data):
        if number == 1:
            key = _value(wire, raw, key_type)
        elif number == 2:
            value = _value(wire, raw, value_type)
    if not isinstance(key, str):
        raise WireError("a map key is not a string")
    return key, value if value is not None else _default(value_type)


def _default(type_: str):
    """A map entry's missing key or value: the type's zero."""
    if type_ in _WIRE:
        return 0.0 if type_ in ("double", "float") else False if type_ == "bool" else 0
    return "" if type_ in ("string", "bytes") else to_json(b"", type_)


def _repeated(wire: int, value, type_: str) -> list:
    if wire == LENGTH and type_ in _NUMERIC:  # packed
        out, pos = [], 0
        while pos < len(value):
            if type_ in ("double", "float"):
                size = 8 if type_ == "double" else 4
                out.append(_value(FIXED64 if size == 8 else FIXED32, value[pos:pos + size], type_))
                pos += size
            else:
                item, pos = _varint(value, pos)
                out.append(_value(VARINT, item, type_))
        return out
    return [_value(wire, value, type_)]


def _value(wire: int, value, type_: str):
    if wire != _WIRE.get(type_, LENGTH):
        raise WireError(f"a field of type {type_.rsplit('.', 1)[-1]} has the wrong wire type {wire}")
    if type_ == "string":
        return _text(value)
    if type_ == "bytes":
        return base64.b64encode(value).decode()
    if type_ == "bool":
        return bool(value)
    if type_ in ("int32", "int64"):
        return _signed(value, 32 if type_ == "int32" else 64)
    if type_ in ("uint32", "uint64"):
        return value
    if type_ == "double":
        return struct.unpack("<d", value)[0]
    if type_ == "float":
        return struct.unpack("<f", value)[0]
    return to_json(value, type_)


def _text(value) -> str:
    if not isinstance(value, bytes):
        raise WireError("a string field has the wrong wire type")
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise WireError("a string field is not valid UTF-8") from None


def _signed(value, bits: int) -> int:
    if not isinstance(value, int):
        raise WireError("an integer field has the wrong wire type")
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32 and not -(1 << 31) <= value < 1 << 31:
        raise WireError("an int32 field is out of range")
    return value


# -- apimachinery's types with a JSON form of their own --------------------------------------------

def _scalars(data: bytes) -> dict[int, object]:
    return {number: value for number, _, value in fields(data)}


def _time(data: bytes, micro: bool = False):
    f = _scalars(data)
    seconds, nanos = _signed(f.get(1, 0), 64), _signed(f.get(2, 0), 32)
    if seconds == 0 and nanos == 0:
        return None
    try:
        moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
    except (OverflowError, OSError, ValueError):
        raise WireError("a time is out of range") from None
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(data: bytes) -> str:
    nanos = _signed(_scalars(data).get(1, 0), 64)
    return go_duration(nanos)


def go_duration(nanos: int) -> str:
    """Go's time.Duration.String(): 1h2m3s, 1.5s, 300ms, 0s."""
    if nanos == 0:
        return "0s"
    sign, nanos = ("-", -nanos) if nanos < 0 else ("", nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return sign + _trim(nanos / size) + unit
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _trim(rest / 1_000_000_000) + "s"
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "") + seconds
    return sign + text


def _trim(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


def _int_or_string(data: bytes):
    f = _scalars(data)
    if f.get(1, 0) == 1:
        return _text(f.get(3, b""))
    if f.get(1, 0) != 0:
        raise WireError("an int-or-string has an unknown type")
    return _signed(f.get(2, 0), 32)


def _quantity(data: bytes) -> str:
    return _text(_scalars(data).get(1, b""))


def _raw_json(data: bytes):
    raw = _scalars(data).get(1, b"")
    if not isinstance(raw, bytes):
        raise WireError("an embedded object has the wrong wire type")
    if not raw:
        return None
    if raw.startswith(MAGIC):
        return _decode(raw)
    try:
        return json.loads(raw)
    except ValueError:
        raise WireError("an embedded object is neither JSON nor Kubernetes' protobuf") from None


def _items(data: bytes) -> list[str]:
    return [_text(value) for number, _, value in fields(data) if number == 1]


SPECIAL = {
    f"{META}Time": _time, f"{META}MicroTime": lambda d: _time(d, micro=True), f"{META}Duration": _duration,
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": _int_or_string,
    "io.k8s.apimachinery.pkg.api.resource.Quantity": _quantity,
    "io.k8s.apimachinery.pkg.runtime.RawExtension": _raw_json, f"{META}FieldsV1": _raw_json,
    f"{META}Verbs": _items, "io.k8s.api.authentication.v1.ExtraValue": _items,
    "io.k8s.api.authorization.v1.ExtraValue": _items,
}
