"""Objects (Kubernetes' JSON, as dicts) walked along their kind's schema, as structured-merge-diff
does: the set of fields a document sets, the fields two documents differ in, the apply merge, and
the removal of fields.

The schema is the kind's protobuf messages. A message is a struct whose fields are owned one by
one; a map (labels, data) is owned key by key; a list is keyed (owned element by element, by its
merge keys: patches.MERGE_KEYS and LIST_MAP_KEYS), a set of scalars (owned value by value) or
atomic (owned whole, as every other list); a scalar, an int-or-string and the structs and maps
Kubernetes declares atomic (ATOMIC_STRUCTS, ATOMIC_MAPS) are leaves.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from control.apiserver.apply import fieldpath
from control.apiserver.apply.fieldpath import Path
from control.client.patches import MERGE_KEYS, SCALARS

# x-kubernetes-list-map-keys where a list is keyed by more than its strategic merge key, with the
# keys' defaults (an element that leaves out a defaulted key is that default's element).
LIST_MAP_KEYS: dict[tuple[str, str], tuple[tuple[str, Any], ...]] = {
    ("Container", "ports"): (("containerPort", None), ("protocol", "TCP")),
    ("EphemeralContainer", "ports"): (("containerPort", None), ("protocol", "TCP")),
    ("ServiceSpec", "ports"): (("port", None), ("protocol", "TCP")),
    ("PodSpec", "topologySpreadConstraints"): (("topologyKey", None), ("whenUnsatisfiable", None)),
}
# Types Kubernetes marks +structType=atomic: set and owned as a whole.
ATOMIC_STRUCTS = frozenset({
    "LabelSelector", "LocalObjectReference", "ObjectReference", "ConfigMapKeySelector", "SecretKeySelector",
    "ObjectFieldSelector", "ResourceFieldSelector", "NodeSelector", "NodeSelectorTerm", "ConfigMapEnvSource",
    "SecretEnvSource", "TypedLocalObjectReference", "TypedObjectReference", "TopologySelectorTerm",
})
# Map fields Kubernetes marks +mapType=atomic.
ATOMIC_MAPS = frozenset({("ServiceSpec", "selector"), ("PodSpec", "nodeSelector"),
                         ("ReplicationControllerSpec", "selector")})

LEAF, STRUCT, MAP, KEYED, SET = "leaf", "struct", "map", "keyed", "set"


class FieldError(ValueError):
    """A document the schema cannot place (an element of a keyed list without its key)."""


@dataclass(frozen=True)
class Node:
    shape: str
    message: Descriptor | None = None           # a struct's message; a keyed list's element message
    values: Node | None = None                  # a map's values
    keys: tuple[tuple[str, Any], ...] = field(default=())  # a keyed list's keys and their defaults

    def child(self, name: str) -> Node:
        if self.shape == MAP:
            return self.values or Node(LEAF)
        if self.shape == STRUCT and self.message is not None:
            return _struct_child(self.message, name)
        return Node(LEAF)

    def item(self) -> Node:
        """The node of a keyed list's elements."""
        return Node(STRUCT, self.message)


def root(message: Descriptor) -> Node:
    return Node(STRUCT, message)


@lru_cache(maxsize=8192)  # bounded: names come from requests too
def _struct_child(message: Descriptor, name: str) -> Node:
    f = _field(message, name)
    return _field_node(message, f) if f is not None else Node(LEAF)


def _field(message: Descriptor, name: str) -> FieldDescriptor | None:
    return next((f for f in message.fields if f.json_name == name), None)


def _is_repeated(f: FieldDescriptor) -> bool:
    return bool(f.is_repeated)


def _message_node(message: Descriptor | None) -> Node:
    if message is None or message.full_name.startswith("google.protobuf.") or message.name in ATOMIC_STRUCTS:
        return Node(LEAF)
    return Node(STRUCT, message)


def _field_node(owner: Descriptor, f: FieldDescriptor) -> Node:
    entry = f.message_type
    if entry is not None and entry.GetOptions().map_entry:
        if (owner.name, f.json_name) in ATOMIC_MAPS:
            return Node(LEAF)
        return Node(MAP, values=_message_node(entry.fields_by_name["value"].message_type))
    if _is_repeated(f):
        return _list_node(owner, f)
    if entry is not None:
        return _message_node(entry)
    return Node(LEAF)


def _list_node(owner: Descriptor, f: FieldDescriptor) -> Node:
    keys = LIST_MAP_KEYS.get((owner.name, f.json_name))
    merge_key = MERGE_KEYS.get(owner.name, {}).get(f.json_name)
    if f.message_type is None:
        return Node(SET) if merge_key == SCALARS else Node(LEAF)
    if keys is None and merge_key:
        keys = ((merge_key, None),)
    if keys and _message_node(f.message_type).shape == STRUCT:
        return Node(KEYED, f.message_type, keys=keys)
    return Node(LEAF)


# --- elements of lists ----------------------------------------------------------------------------

def element(node: Node, item: Any) -> str:
    """The FieldsV1 element naming a list item: `k:{...}` by its keys, `v:...` by its value."""
    if node.shape == SET:
        return fieldpath.value(item)
    if not isinstance(item, dict):
        raise FieldError(f"associative list with keys has an element that is not a map: {item!r}")
    values = {}
    for name, default in node.keys:
        if name in item and item[name] is not None:
            values[name] = item[name]
        elif default is not None:
            values[name] = default
        else:
            raise FieldError(f'associative list with keys has an element that omits key field "{name}" '
                             "(and doesn't have default value)")
    return fieldpath.key(values)


def _indexed(node: Node, items: Any) -> dict[str, Any]:
    """A keyed list or set as element -> item (the first of duplicates), in order."""
    out: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        out.setdefault(element(node, item), item)
    return out


# --- the set of fields a document sets -----------------------------------------------------------

def field_set(doc: dict, node: Node) -> set[Path]:
    out: set[Path] = set()
    _collect_children(doc, node, (), out)
    return out


def _collect(value: Any, node: Node, path: Path, out: set[Path]) -> None:
    if node.shape in (STRUCT, MAP) and isinstance(value, dict) and value:
        _collect_children(value, node, path, out)
    elif node.shape in (KEYED, SET) and isinstance(value, list):
        for el, item in _indexed(node, value).items():
            out.add(path + (el,))
            if node.shape == KEYED:
                _collect_children(item, node.item(), path + (el,), out)
    else:
        out.add(path)


def _collect_children(doc: dict, node: Node, path: Path, out: set[Path]) -> None:
    for name, value in doc.items():
        _collect(value, node.child(name), path + (fieldpath.field(name),), out)


# --- comparison -----------------------------------------------------------------------------------

_MISSING = object()


@dataclass
class Comparison:
    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)


def compare(old: dict, new: dict, node: Node) -> Comparison:
    c = Comparison()
    _compare_children(old, new, node, (), c)
    return c


def _compare(old: Any, new: Any, node: Node, path: Path, c: Comparison) -> None:
    if old is not _MISSING and old == new:  # most of an update is unchanged: no walk below
        return
    if node.shape in (STRUCT, MAP) and _both(old, new, dict):
        o, n = _or(old, {}), _or(new, {})
        if not o and not n:
            _leaf(old, new, path, c)
            return
        if node.shape == MAP:  # a map is an item of its parent too (a struct is only its fields)
            _member(old, new, path, c)
        _compare_children(o, n, node, path, c)
    elif node.shape in (KEYED, SET) and _both(old, new, list):
        o, n = _indexed(node, _or(old, [])), _indexed(node, _or(new, []))
        for el in list(o) + [e for e in n if e not in o]:
            item_path = path + (el,)
            _member(o.get(el, _MISSING), n.get(el, _MISSING), item_path, c)
            if node.shape == KEYED:
                _compare_children(_or(o.get(el, _MISSING), {}), _or(n.get(el, _MISSING), {}), node.item(),
                                  item_path, c)
    else:
        _leaf(old, new, path, c)


def _compare_children(old: dict, new: dict, node: Node, path: Path, c: Comparison) -> None:
    for name in list(old) + [k for k in new if k not in old]:
        _compare(old.get(name, _MISSING), new.get(name, _MISSING), node.child(name),
                 path + (fieldpath.field(name),), c)


def _both(old: Any, new: Any, kind: type) -> bool:
    return (old is _MISSING or isinstance(old, kind)) and (new is _MISSING or isinstance(new, kind))


def _or(value: Any, default: Any) -> Any:
    return default if value is _MISSING else value


def _member(old: Any, new: Any, path: Path, c: Comparison) -> None:
    if old is _MISSING and new is not _MISSING:
        c.added.add(path)
    elif new is _MISSING and old is not _MISSING:
        c.removed.add(path)


def _leaf(old: Any, new: Any, path: Path, c: Comparison) -> None:
    if old is _MISSING and new is _MISSING:
        return
    if old is _MISSING:
        c.added.add(path)
    elif new is _MISSING:
        c.removed.add(path)
    elif old != new:
        c.modified.add(path)


# --- the apply merge ------------------------------------------------------------------------------

def merge(live: dict, config: dict, node: Node) -> dict:
    """The live object with the applied configuration merged in: structs and maps field by field,
    keyed lists element by element, sets as a union; leaves and atomic values are the config's."""
    return _merge(copy.deepcopy(live), copy.deepcopy(config), node)


def _merge(live: Any, config: Any, node: Node) -> Any:
    if node.shape in (STRUCT, MAP) and isinstance(live, dict) and isinstance(config, dict):
        for name, value in config.items():
            live[name] = _merge(live[name], value, node.child(name)) if name in live else value
        return live
    if node.shape in (KEYED, SET) and isinstance(live, list) and isinstance(config, list):
        return _merge_list(live, config, node)
    return config


def _merge_list(live: list, config: list, node: Node) -> list:
    current = _indexed(node, live)
    wanted = _indexed(node, config)
    merged = []
    for el, item in wanted.items():  # the applied elements in their order, then the others as they were
        merged.append(_merge(current[el], item, node.item()) if el in current and node.shape == KEYED else item)
    merged += [item for el, item in current.items() if el not in wanted]
    return merged


# --- removing fields ------------------------------------------------------------------------------

def remove(doc: dict, paths: set[Path], node: Node) -> dict:
    """The document without the given paths (shorter paths first; paths already gone are skipped)."""
    out = copy.deepcopy(doc)
    for path in sorted(paths, key=len):
        _remove(out, path, node)
    return out


def _remove(doc: dict, path: Path, node: Node) -> None:
    container: Any = doc
    for depth, el in enumerate(path):
        last = depth == len(path) - 1
        if el.startswith("f:") and isinstance(container, dict):
            name = el[2:]
            if name not in container:
                return
            if last:
                del container[name]
                return
            node, container = node.child(name), container[name]
        elif el[:2] in ("k:", "v:") and isinstance(container, list) and node.shape in (KEYED, SET):
            at = next((i for i, item in enumerate(container) if _element_or_none(node, item) == el), None)
            if at is None:
                return
            if last:
                del container[at]
                return
            node, container = node.item(), container[at]
        else:
            return


def _element_or_none(node: Node, item: Any) -> str | None:
    try:
        return element(node, item)
    except FieldError:
        return None
