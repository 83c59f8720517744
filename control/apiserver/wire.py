"""Objects as protobuf bytes, changed without parsing them.

The watch cache keeps every object serialized: a parsed message takes about ten times its wire size.
The object at a revision is the bytes etcd holds with the metadata field rewritten in place (its other
fields skipped over, resourceVersion replaced), and a watch event is its two fields written one after
the other. The metadata is rewritten rather than followed by a second fragment, which the protobuf
specification would merge: some clients' decoders (protobuf.js) replace a repeated message field
instead, and would lose the object's name.
"""

from __future__ import annotations

from functools import cache

from google.protobuf.message import Message

from control.client.kinds import Kind
from skiff.v1 import meta_pb2

_LENGTH_DELIMITED = 2
_RESOURCE_VERSION = meta_pb2.ObjectMeta.DESCRIPTOR.fields_by_name["resource_version"].number


def varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """One length-delimited field (a string, bytes or a message)."""
    return varint(number << 3 | _LENGTH_DELIMITED) + varint(len(payload)) + payload


def metadata_field(kind: Kind) -> int:
    return kind.message.DESCRIPTOR.fields_by_name["metadata"].number


@cache
def _event_fields(message_type: type[Message]) -> tuple[int, int]:
    fields = message_type.DESCRIPTOR.fields_by_name
    return fields["type"].number, fields["object"].number


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _fields(data: bytes):
    """(field number, wire type, start of the field, start of its payload, end) of each top-level field."""
    at = 0
    while at < len(data):
        start = at
        tag, at = _read_varint(data, at)
        wire_type = tag & 7
        if wire_type == 0:
            _, end = _read_varint(data, at)
            payload = at
        elif wire_type == _LENGTH_DELIMITED:
            size, payload = _read_varint(data, at)
            end = payload + size
        elif wire_type in (1, 5):
            payload, end = at, at + (8 if wire_type == 1 else 4)
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        yield tag >> 3, wire_type, start, payload, end
        at = end


def _with_resource_version(metadata: bytes, revision: int) -> bytes:
    kept = b"".join(metadata[start:end] for number, _, start, _, end in _fields(metadata)
                    if number != _RESOURCE_VERSION)
    return kept + field(_RESOURCE_VERSION, str(revision).encode())


def at_revision(metadata_number: int, data: bytes, revision: int) -> bytes:
    """The serialized object (whose metadata is field `metadata_number`) with metadata.resourceVersion
    set to `revision`."""
    for number, wire_type, start, payload, end in _fields(data):
        if number == metadata_number and wire_type == _LENGTH_DELIMITED:
            metadata = _with_resource_version(data[payload:end], revision)
            return data[:start] + field(metadata_number, metadata) + data[end:]
    return data + field(metadata_number, _with_resource_version(b"", revision))  # no metadata yet


@cache
def _items_field(list_type: type[Message]) -> int:
    return list_type.DESCRIPTOR.fields_by_name["items"].number


def list_of(head: Message, items: list[bytes]) -> bytes:
    """A serialized <Kind>List: `head` (apiVersion, kind, metadata) followed by the serialized items."""
    number = _items_field(type(head))
    return head.SerializeToString() + b"".join(field(number, data) for data in items)


def watch_event(message_type: type[Message], event_type: str, data: bytes) -> bytes:
    """A serialized <Kind>WatchEvent of `event_type` carrying the serialized object `data`."""
    type_number, object_number = _event_fields(message_type)
    return field(type_number, event_type.encode()) + field(object_number, data)
