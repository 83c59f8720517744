"""`explain`'s text, built from a kind's protobuf message the way kubectl builds it from OpenAPI v3
(its plaintext template): GROUP/KIND/VERSION, then FIELD for a field path, DESCRIPTION and FIELDS,
fields sorted by their JSON names with kubectl's type hints (`<string>`, `<integer>`, `<boolean>`,
`<[]Container>`, `<map[string]string>`, `<ObjectMeta>`...). Skiff's messages carry no prose, so
descriptions read `<empty>` / `<no description>` as kubectl prints a schema without any.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from control.client.kinds import Kind
from control.client.wellknown import QUANTITY_FIELDS
from skiff.v1 import options_pb2

_INTEGERS = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
             FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64,
             FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED32,
             FieldDescriptor.TYPE_SFIXED64}
_NUMBERS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
# Well-known messages as OpenAPI types them: a time is a string, int-or-string and raw JSON are named.
_WELL_KNOWN = {"google.protobuf.Timestamp": "string", "google.protobuf.Value": "IntOrString",
               "google.protobuf.Struct": "Object"}
# google.protobuf.Value holds int-or-string fields and raw JSON alike; the raw ones, by JSON name.
_RAW_VALUES = {"fieldsV1": "FieldsV1"}


class ExplainError(ValueError):
    """A field path that does not exist; `printed` is what kubectl has already written by then."""

    def __init__(self, message: str, printed: str = "") -> None:
        super().__init__(message)
        self.printed = printed


@dataclass(frozen=True)
class Node:
    """A place in the schema: a message (fields to list) or a scalar, and its type hint."""
    message: Descriptor | None
    type_hint: str


def _scalar(field: FieldDescriptor, quantity: bool) -> str:
    if quantity:
        return "Quantity"
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "boolean"
    if field.type in _INTEGERS:
        return "integer"
    if field.type in _NUMBERS:
        return "number"
    return "string"


def _element(field: FieldDescriptor, quantity: bool) -> Node:
    """What one value of the field is (for a list: one item)."""
    message = field.message_type
    if message is None:
        return Node(None, _scalar(field, quantity))
    if message.full_name == "google.protobuf.Value" and field.json_name in _RAW_VALUES:
        return Node(None, _RAW_VALUES[field.json_name])
    if message.full_name in _WELL_KNOWN:
        return Node(None, _WELL_KNOWN[message.full_name])
    return Node(message, message.name)


def field_node(field: FieldDescriptor) -> Node:
    quantity = field.json_name in QUANTITY_FIELDS
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        value = _element(message.fields_by_name["value"], quantity)
        return Node(value.message, f"map[string]{value.type_hint}")
    item = _element(field, quantity)
    if field.is_repeated:
        return Node(item.message, f"[]{item.type_hint}")
    return item


def _fields(message: Descriptor) -> list[tuple[str, FieldDescriptor]]:
    return sorted((f.json_name, f) for f in message.fields)


def _find(message: Descriptor | None, name: str) -> FieldDescriptor | None:
    if message is None:
        return None
    return next((f for n, f in _fields(message) if n == name), None)


def _field_list(message: Descriptor, level: int, recursive: bool, seen: tuple[str, ...]) -> str:
    out = []
    pad = "  " * level
    for name, field in _fields(message):
        node = field_node(field)
        required = " -required-" if field.GetOptions().Extensions[options_pb2.required] else ""
        out.append(f"{pad}{name}\t<{node.type_hint}>{required}\n")
        if not recursive:
            out.append(f"{pad}  <no description>\n\n")
        elif node.message is not None and node.message.full_name not in seen:
            out.append(_field_list(node.message, level + 1, True, (*seen, node.message.full_name)))
    return "".join(out)


def _body(node: Node, recursive: bool) -> str:
    text = "DESCRIPTION:\n    <empty>\n"
    if node.message is not None and node.message.fields:
        text += "FIELDS:\n" + _field_list(node.message, 1, recursive, (node.message.full_name,))
    return text


def explain(kind: Kind, path: list[str], recursive: bool = False) -> str:
    """The text of `explain KIND[.field.path]`."""
    head = (f"GROUP:      {kind.group}\n" if kind.group else "") + \
        f"KIND:       {kind.kind}\nVERSION:    {kind.version}\n\n"
    node = Node(kind.message.DESCRIPTOR, kind.kind)
    for i, name in enumerate(path):
        field = _find(node.message, name)
        if field is None:
            raise ExplainError(f'field "{name}" does not exist', head)
        node = field_node(field)
        if i == len(path) - 1:
            head += f"FIELD: {name} <{node.type_hint}>\n\n\n"
    return head + _body(node, recursive) + "\n"
