"""Field paths and sets of them, and their FieldsV1 form (metadata.managedFields[].fieldsV1).

A path is a tuple of FieldsV1 elements: `f:<field>` (a struct field or map key), `k:<json>` (an
element of a list keyed by its merge keys), `v:<json>` (an element of a set of scalars) and `i:<n>`
(an element by position). A set holds the paths its manager owns; in FieldsV1 a path that is owned
and also has owned children carries the `.` key.
"""

from __future__ import annotations

import json
from typing import Any

Path = tuple[str, ...]
FieldSet = frozenset[Path]
SELF = "."


def field(name: str) -> str:
    return f"f:{name}"


def key(values: dict[str, Any]) -> str:
    return "k:" + json.dumps(values, sort_keys=True, separators=(",", ":"))


def value(item: Any) -> str:
    return "v:" + json.dumps(item, sort_keys=True, separators=(",", ":"))


def decode(fields: Any, prefix: Path = ()) -> set[Path]:
    """The paths a FieldsV1 document lists."""
    out: set[Path] = set()
    if not isinstance(fields, dict):
        return out
    for name, child in fields.items():
        if name == SELF:
            continue
        path = prefix + (name,)
        if not child or (isinstance(child, dict) and SELF in child):
            out.add(path)
        out |= decode(child, path)
    return out


def encode(paths: set[Path] | frozenset[Path]) -> dict:
    """FieldsV1 of a set: a tree of elements, `.` marking owned paths that also have children."""
    tree: dict = {}
    for path in paths:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = tree
        for element in path:
            node = node[element]
        if node:
            node[SELF] = {}
    return _sorted(tree)


def _sorted(node: dict) -> dict:
    return {k: _sorted(node[k]) for k in sorted(node)}


def describe(path: Path) -> str:
    """The path as Kubernetes prints it in a conflict: `.spec.containers[name="app"].image`."""
    return "".join(_describe(e) for e in path)


def _describe(element: str) -> str:
    kind, text = element[:2], element[2:]
    if kind == "f:":
        return "." + text
    if kind == "k:":
        values = json.loads(text)
        return "[" + ",".join(f"{k}={json.dumps(values[k])}" for k in sorted(values)) + "]"
    if kind == "v:":
        return f"[={text}]"
    return f"[{text}]"


def with_descendants(paths: set[Path] | frozenset[Path], prefix: Path) -> bool:
    """Whether the set holds `prefix` or a path below it."""
    n = len(prefix)
    return any(p[:n] == prefix for p in paths)
