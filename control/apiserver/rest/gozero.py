"""An empty struct that Kubernetes' Go types hold by value (`resources: {}`, `strategy: {}`) is the same
object as no struct at all: Go cannot tell them apart, so neither the stored object, a pod template's
hash nor an equality check can. Skiff's messages do track presence, so a JSON body's empty value-structs
are dropped before it becomes a message, as a protobuf body's are (k8sproto). Pointers (`emptyDir: {}`,
`securityContext: {}`) keep their empty value: there Go tells "set" from "unset" too. The field table
says which is which."""

from __future__ import annotations

import copy

from control.apiserver.rest.k8sencode import message_of
from control.apiserver.rest.k8sproto import SPECIAL, table


def drop_empty_structs(doc: dict) -> dict:
    """`doc` (an object of a served kind, at its apiVersion) without the empty structs Go holds by value."""
    message = message_of(doc)
    if message is None:
        return doc
    doc = copy.deepcopy(doc)
    _walk(doc, message)
    return doc


def _struct(type_: str) -> bool:
    return type_.startswith("io.k8s.") and type_ not in SPECIAL and type_ in table()


def _walk(doc: dict, message: str) -> None:
    for name, (_number, type_, flags) in table()[message].items():
        if doc.get(name) in ({}, []) and (type_.startswith("map:") or "r" in flags):
            del doc[name]  # an empty map or list is no map or list in protobuf either
            continue
        if not _struct(type_):
            continue
        if "i" in flags:  # its fields are the parent's in JSON
            _walk(doc, type_)
            continue
        value = doc.get(name)
        if isinstance(value, list) and "r" in flags:
            for item in value:
                if isinstance(item, dict):
                    _walk(item, type_)
        elif isinstance(value, dict):
            _walk(value, type_)
            if not value and "p" not in flags:
                del doc[name]
