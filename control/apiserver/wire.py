"""Objects as protobuf bytes, changed without parsing them.

The watch cache keeps every object serialized: a parsed message takes about ten times its wire size.
Two facts of the protobuf encoding let it serve them without parsing: a message that occurs twice is
merged, and of a scalar that occurs twice the last one counts. So the bytes etcd holds followed by a
`metadata { resourceVersion }` fragment parse as the object at that revision, and a watch event is its
two fields written one after the other.
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


def at_revision(metadata_number: int, data: bytes, revision: int) -> bytes:
    """The serialized object (whose metadata is field `metadata_number`) with metadata.resourceVersion
    set to `revision`."""
    return data + field(metadata_number, field(_RESOURCE_VERSION, str(revision).encode()))


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
