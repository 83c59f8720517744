"""The three patch types of `kubectl patch` and of the REST PATCH verb: strategic merge (Kubernetes'
own, with its merge keys and `$patch` directives), JSON merge patch (RFC 7386) and JSON patch
(RFC 6902), applied to plain dicts.

Strategic merge follows apimachinery's strategicpatch: maps merge key by key and `null` deletes; a
list merges element by element where Kubernetes declares a merge key (containers by name, ports by
containerPort...), a list of scalars with the merge strategy is a union, every other list is
replaced. Directives: `$patch: replace|delete|merge` in a map or as a list element,
`$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`. Which lists
merge is read from the object's protobuf messages (their upstream type names) and MERGE_KEYS.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from google.protobuf.descriptor import Descriptor

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE = "$deleteFromPrimitiveList/"
SET_ELEMENT_ORDER = "$setElementOrder/"
SCALARS = ""  # the merge strategy on a list of scalars: a union

# k8s.io/api's patchMergeKey (patchStrategy "merge") per type and field, for the types skiff serves.
MERGE_KEYS: dict[str, dict[str, str]] = {
    "ObjectMeta": {"finalizers": SCALARS, "ownerReferences": "uid"},
    "PodSpec": {"containers": "name", "initContainers": "name", "ephemeralContainers": "name",
                "volumes": "name", "imagePullSecrets": "name", "hostAliases": "ip",
                "topologySpreadConstraints": "topologyKey", "schedulingGates": "name", "resourceClaims": "name"},
    "Container": {"ports": "containerPort", "env": "name", "volumeMounts": "mountPath",
                  "volumeDevices": "devicePath"},
    "EphemeralContainer": {"ports": "containerPort", "env": "name", "volumeMounts": "mountPath",
                           "volumeDevices": "devicePath"},
    "ServiceSpec": {"ports": "port"},
    "NodeSpec": {"podCIDRs": SCALARS},
    "NodeStatus": {"conditions": "type", "addresses": "type"},
    "PodStatus": {"conditions": "type", "podIPs": "ip"},
    "NamespaceStatus": {"conditions": "type"},
    "DeploymentStatus": {"conditions": "type"},
    "ReplicaSetStatus": {"conditions": "type"},
    "PodDisruptionBudgetStatus": {"conditions": "type"},
    "DaemonSetStatus": {"conditions": "type"},
    "StatefulSetStatus": {"conditions": "type"},
    "JobStatus": {"conditions": "type"},
}


class PatchError(ValueError):
    pass


# --- strategic merge ---------------------------------------------------------------------------------

def strategic_merge(original: dict, patch: dict, descriptor: Descriptor | None) -> dict:
    """The object with a strategic merge patch applied (neither argument is changed)."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), descriptor)


def _field(descriptor: Descriptor | None, key: str):
    if descriptor is None:
        return None
    return next((f for f in descriptor.fields if f.json_name == key or f.name == key), None)


def _child(descriptor: Descriptor | None, key: str) -> Descriptor | None:
    """The message a field holds (for a map field: its values' message)."""
    field = _field(descriptor, key)
    if field is None or field.message_type is None:
        return None
    message = field.message_type
    if message.GetOptions().map_entry:
        value = message.fields_by_name["value"]
        return value.message_type
    if message.full_name.startswith("google.protobuf."):
        return None
    return message


def _merge_key(descriptor: Descriptor | None, key: str) -> str | None:
    """The field's merge key, SCALARS for a scalar union, None when the list is replaced."""
    if descriptor is None:
        return None
    return MERGE_KEYS.get(descriptor.name, {}).get(key)


def _merge_map(original: dict, patch: dict, descriptor: Descriptor | None) -> dict:
    directive = patch.pop(PATCH, None)
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive} in map: {patch}")
    retain = patch.pop(RETAIN_KEYS, None)
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError(f"invalid type for {RETAIN_KEYS}: expected a list")
        original = {k: v for k, v in original.items() if k in retain}
    orders = {k[len(SET_ELEMENT_ORDER):]: patch.pop(k) for k in list(patch) if k.startswith(SET_ELEMENT_ORDER)}
    for key in [k for k in patch if k.startswith(DELETE_FROM_PRIMITIVE)]:
        field, values = key[len(DELETE_FROM_PRIMITIVE):], patch.pop(key)
        if isinstance(original.get(field), list):
            original[field] = [v for v in original[field] if v not in (values or [])]
    for key, value in patch.items():
        if value is None:
            original.pop(key, None)
            continue
        original[key] = _merge_value(original.get(key), value, descriptor, key)
    for field, order in orders.items():
        if isinstance(original.get(field), list) and isinstance(order, list):
            original[field] = _ordered(original[field], order, _merge_key(descriptor, field))
    return original


def _merge_value(current: Any, value: Any, descriptor: Descriptor | None, key: str) -> Any:
    if isinstance(value, dict):
        base = current if isinstance(current, dict) else {}
        if _field(descriptor, key) is not None and _child(descriptor, key) is None and \
                not _is_map_field(descriptor, key):
            return _strip(value)  # an opaque value (int-or-string, raw object): replaced
        return _merge_map(base, value, _child(descriptor, key))
    if isinstance(value, list):
        merge_key = _merge_key(descriptor, key)
        if merge_key is None:
            return _strip(value)
        return _merge_list(current if isinstance(current, list) else [], value, merge_key, _child(descriptor, key))
    return value


def _is_map_field(descriptor: Descriptor | None, key: str) -> bool:
    field = _field(descriptor, key)
    return bool(field and field.message_type and field.message_type.GetOptions().map_entry)


def _merge_list(original: list, patch: list, merge_key: str, descriptor: Descriptor | None) -> list:
    if any(isinstance(i, dict) and i.get(PATCH) == "replace" for i in patch):
        return _strip([i for i in patch if not (isinstance(i, dict) and PATCH in i)])
    if merge_key == SCALARS:
        return original + [v for i, v in enumerate(patch) if v not in original and v not in patch[:i]]
    result = list(original)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"expected a map in a list merged on {merge_key!r}, got {item!r}")
        if merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        at = next((i for i, o in enumerate(result) if isinstance(o, dict) and o.get(merge_key) == item[merge_key]),
                  None)
        if item.get(PATCH) == "delete":
            result = [o for o in result if not (isinstance(o, dict) and o.get(merge_key) == item[merge_key])]
        elif at is None:
            result.append(_merge_map({}, dict(item), descriptor))
        else:
            result[at] = _merge_map(result[at], dict(item), descriptor)
    return result


def _ordered(items: list, order: list, merge_key: str | None) -> list:
    """$setElementOrder: the listed elements first, in that order, then the rest as they were."""
    def ident(item: Any) -> Any:
        return item.get(merge_key) if merge_key and isinstance(item, dict) else item
    wanted = [ident(o) for o in order]
    rank = {json.dumps(w, sort_keys=True): i for i, w in enumerate(wanted)}
    return sorted(items, key=lambda i: rank.get(json.dumps(ident(i), sort_keys=True), len(rank)))


def _strip(value: Any) -> Any:
    """A replacing value without directives (they mean nothing once the value is taken whole)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


# --- JSON merge patch (RFC 7386) ---------------------------------------------------------------------

def merge_patch(original: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- JSON patch (RFC 6902) ---------------------------------------------------------------------------

def json_patch(original: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(original)
    for op in operations:
        doc = _apply_op(doc, op)
    return doc


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]] if path else []


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts[:-1]:
        node = _step(node, part, path)
    return node


def _step(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list):
        index = _index(node, part, path, allow_end=False)
        return node[index]
    raise PatchError(f"doc is missing path: {path!r}")


def _index(items: list, part: str, path: str, allow_end: bool) -> int:
    if part == "-" and allow_end:
        return len(items)
    if not part.isdigit() or (part != "0" and part.startswith("0")):
        raise PatchError(f"invalid array index {part!r} in path {path!r}")
    index = int(part)
    if index > len(items) or (index == len(items) and not allow_end):
        raise PatchError(f"array index out of bounds: {path!r}")
    return index


def _get(doc: Any, path: str) -> Any:
    node = doc
    for part in _pointer(path):
        node = _step(node, part, path)
    return node


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    parts = _pointer(path)
    if not parts:
        return None, doc
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict):
        if parts[-1] not in parent:
            raise PatchError(f"unable to remove nonexistent key: {parts[-1]}: missing value")
        return doc, parent.pop(parts[-1])
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, parts[-1], path, allow_end=False))
    raise PatchError(f"doc is missing path: {path!r}")


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict):
        parent[parts[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, parts[-1], path, allow_end=True), value)
    else:
        raise PatchError(f"doc is missing path: {path!r}")
    return doc


def _apply_op(doc: Any, op: Any) -> Any:
    if not isinstance(op, dict) or "op" not in op:
        raise PatchError(f"invalid JSON patch operation: {op!r}")
    kind, path = op["op"], op.get("path")
    if kind in ("add", "replace", "test") and "value" not in op:
        raise PatchError(f"missing value for operation {kind!r}")
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op["value"]))
    if kind == "remove":
        return _remove(doc, path)[0]
    if kind == "replace":
        _get(doc, path)
        doc, _ = _remove(doc, path)
        return _add(doc, path, copy.deepcopy(op["value"]))
    if kind in ("move", "copy"):
        source = op.get("from")
        value = copy.deepcopy(_get(doc, source))
        if kind == "move":
            doc, value = _remove(doc, source)
        return _add(doc, path, value)
    if kind == "test":
        if _get(doc, path) != op["value"]:
            raise PatchError(f"testing value {path} failed: test failed")
        return doc
    raise PatchError(f"Unexpected kind: {kind}")


def apply_patch(original: dict, patch: Any, patch_type: str, descriptor: Descriptor | None) -> dict:
    """`patch_type` is kubectl's --type: strategic, merge or json."""
    if patch_type == "json":
        return json_patch(original, patch)
    if patch_type == "merge":
        return merge_patch(original, patch)
    return strategic_merge(original, patch, descriptor)
