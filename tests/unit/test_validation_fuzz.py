"""Defaults and validation never raise, whatever a client puts in the fields.

Mutates the examples corpus at random (deterministic seed): strings, numbers,
int-or-string values, map entries and list items drawn from awkward values.
"""

from __future__ import annotations

import random

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from control.apiserver.registry import apply_defaults, validate
from control.client.convert import from_dict
from tests.fixtures.examples import documents, served_files

STRINGS = ["", "a", "-", "..", "/", "A B", "x" * 300, "1.5Gi", "-1", "None", "10.0.0.1", "::1", "a=b",
           "Always", "In", "%", "25%", "1e99999", "é", "a/b/c", "127.0.0.1", "0", "\x00", "http"]
INTS = [0, -1, 1, 65536, 2**31 - 1, -(2**31), 100]
T = FieldDescriptor


def _objects() -> list[Message]:
    return [from_dict(d) for path in served_files() for d in documents(path)]


def _fields(msg: Message, depth: int = 0) -> list[tuple[Message, FieldDescriptor]]:
    out = []
    for fd in msg.DESCRIPTOR.fields:
        out.append((msg, fd))
        if fd.type != T.TYPE_MESSAGE or depth > 8 or not fd.message_type.full_name.startswith("skiff"):
            continue
        if fd.is_repeated:
            if not fd.message_type.GetOptions().map_entry:
                for item in getattr(msg, fd.name):
                    out += _fields(item, depth + 1)
        elif msg.HasField(fd.name):
            out += _fields(getattr(msg, fd.name), depth + 1)
    return out


def _set_value(value, rng: random.Random) -> None:
    choice = rng.random()
    if choice < 0.3:
        value.number_value = rng.choice(INTS)
    elif choice < 0.6:
        value.string_value = rng.choice(STRINGS)
    elif choice < 0.8:
        value.bool_value = True
    else:
        value.number_value = 1.5


def _mutate_repeated(msg: Message, fd: FieldDescriptor, rng: random.Random) -> None:
    items = getattr(msg, fd.name)
    if fd.type == T.TYPE_MESSAGE and fd.message_type.GetOptions().map_entry:
        value_type = fd.message_type.fields_by_name["value"].type
        if value_type in (T.TYPE_STRING, T.TYPE_BYTES):
            text = rng.choice(STRINGS)
            items[rng.choice(STRINGS)] = text if value_type == T.TYPE_STRING else text.encode()
    elif fd.type == T.TYPE_MESSAGE:
        items.add() if rng.random() < 0.5 or not items else items.append(items[0])
    elif fd.type == T.TYPE_STRING:
        items.append(rng.choice(STRINGS))
    elif fd.type == T.TYPE_INT32:
        items.append(rng.choice(INTS))


def _mutate(msg: Message, fd: FieldDescriptor, rng: random.Random) -> None:
    if fd.is_repeated:
        _mutate_repeated(msg, fd, rng)
    elif fd.type == T.TYPE_STRING:
        setattr(msg, fd.name, rng.choice(STRINGS))
    elif fd.type == T.TYPE_INT32:
        setattr(msg, fd.name, rng.choice(INTS))
    elif fd.type == T.TYPE_BOOL:
        setattr(msg, fd.name, rng.random() < 0.5)
    elif fd.type == T.TYPE_MESSAGE and fd.message_type.full_name == "google.protobuf.Value":
        _set_value(getattr(msg, fd.name), rng)
    elif fd.type == T.TYPE_MESSAGE:
        getattr(msg, fd.name).SetInParent()


@pytest.mark.parametrize("seed", range(2))
def test_mutated_objects_never_raise(seed: int) -> None:
    rng = random.Random(seed)
    objects = _objects()
    invalid = 0
    for _ in range(250):
        source = rng.choice(objects)
        obj, old = source.__class__(), source.__class__()
        obj.CopyFrom(source)
        old.CopyFrom(source)
        for _ in range(rng.randint(1, 6)):
            _mutate(*rng.choice(_fields(obj)), rng)
        apply_defaults(obj)
        found = validate(obj)
        validate(obj, old)
        invalid += bool(found)
        assert all(v.field or v.description for v in found)
    assert invalid > 60  # the mutations do produce invalid objects
