"""PATCH bodies applied to an object's JSON: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
Kubernetes' strategic merge patch (lists merged by their merge keys, `$patch`, `$setElementOrder`,
`$retainKeys`, `$deleteFromPrimitiveList` directives)."""

from __future__ import annotations

import copy
from typing import Any

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"

# Kubernetes' patchMergeKey of the object lists kubectl patches (the upstream types' struct tags).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid", "topologySpreadConstraints": "topologyKey",
    "addresses": "type", "resourceClaims": "name", "readinessGates": "conditionType",
}
# Lists of scalars merged as sets (patchStrategy merge).
MERGED_SCALARS = frozenset({"finalizers"})


class PatchError(ValueError):
    pass


def apply_patch(content_type: str, original: dict, patch: Any) -> dict:
    if content_type == JSON_PATCH:
        return json_patch(original, patch)
    if not isinstance(patch, dict):
        raise PatchError("the patch must be a JSON object")
    if content_type == MERGE_PATCH:
        return merge_patch(original, patch)
    if content_type == STRATEGIC:
        return strategic_merge(original, patch)
    raise PatchError(f"unsupported patch type: {content_type}")


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- JSON patch ------------------------------------------------------------------------------------

def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc: Any, tokens: list[str]) -> tuple[Any, str]:
    node = doc
    for token in tokens[:-1]:
        node = _child(node, token)
    return node, tokens[-1]


def _child(node: Any, token: str) -> Any:
    try:
        return node[int(token)] if isinstance(node, list) else node[token]
    except (KeyError, IndexError, ValueError, TypeError):
        raise PatchError(f"path element {token!r} not found") from None


def _index(node: list, token: str, adding: bool) -> int:
    if adding and token == "-":
        return len(node)
    if not token.isdigit() or int(token) > len(node) - (0 if adding else 1):
        raise PatchError(f"index {token!r} out of range")
    return int(token)


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    node, last = _container(doc, tokens)
    if isinstance(node, list):
        node.insert(_index(node, last, True), value)
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise PatchError("cannot add to a scalar")
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    node, last = _container(doc, tokens)
    if isinstance(node, list):
        return node.pop(_index(node, last, False))
    if isinstance(node, dict) and last in node:
        return node.pop(last)
    raise PatchError(f"path element {last!r} not found")


def json_patch(original: dict, ops: Any) -> dict:
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(original)
    for op in ops:
        if not isinstance(op, dict) or "path" not in op:
            raise PatchError("each JSON patch operation needs op and path")
        kind, path = op.get("op"), _pointer(op["path"])
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from", ""))
            value = _remove(doc, source) if kind == "move" else copy.deepcopy(_lookup(doc, source))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _lookup(doc, path) != op.get("value"):
                raise PatchError(f"testing value {op['path']} failed")
        else:
            raise PatchError(f"unexpected operation {kind!r}")
    return doc


def _lookup(doc: Any, tokens: list[str]) -> Any:
    for token in tokens:
        doc = _child(doc, token)
    return doc


# --- strategic merge patch -------------------------------------------------------------------------

def strategic_merge(original: dict, patch: dict) -> dict:
    return _merge_map(copy.deepcopy(original), patch)


def _merge_map(target: dict, patch: dict) -> dict:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if key.startswith("$setElementOrder/") or key.startswith("$deleteFromPrimitiveList/"):
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            target[key] = _merge_map(current if isinstance(current, dict) else {}, value)
        elif isinstance(value, list):
            target[key] = _merge_list(key, target.get(key), value)
        else:
            target[key] = value
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/") and isinstance(target.get(key.split("/", 1)[1]), list):
            name = key.split("/", 1)[1]
            target[name] = [v for v in target[name] if v not in value]
        elif key.startswith("$setElementOrder/") and isinstance(target.get(key.split("/", 1)[1]), list):
            name = key.split("/", 1)[1]
            target[name] = _ordered(target[name], value, _merge_key(name, target[name]))
    if isinstance(retain, list):
        target = {k: v for k, v in target.items() if k in retain}
    return target


def _merge_key(name: str, items: list) -> str | None:
    if name == "ports":  # containerPort in containers, port in Services
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return MERGE_KEYS.get(name)


def _merge_list(name: str, current: Any, patch: list) -> list:
    current = current if isinstance(current, list) else []
    if name in MERGED_SCALARS:
        return current + [v for v in patch if v not in current]
    key = _merge_key(name, patch or current)
    if key is None or not all(isinstance(i, dict) for i in patch):
        return [i for i in patch if not (isinstance(i, dict) and i.get("$patch"))]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [i for i in patch if i.get("$patch") != "replace"]
    result = list(current)
    for item in patch:
        at = next((n for n, old in enumerate(result) if isinstance(old, dict) and old.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if at is not None:
                result.pop(at)
        elif at is None:
            result.append(_merge_map({}, item))
        else:
            result[at] = _merge_map(result[at], item)
    return result


def _ordered(items: list, order: list, key: str | None) -> list:
    if key is None:
        rank = {repr(v): n for n, v in enumerate(order)}
        return sorted(items, key=lambda v: rank.get(repr(v), len(rank)))
    rank = {o.get(key): n for n, o in enumerate(order) if isinstance(o, dict)}
    return sorted(items, key=lambda v: rank.get(v.get(key) if isinstance(v, dict) else None, len(rank)))
