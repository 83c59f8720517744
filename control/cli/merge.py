"""kubectl's client-side apply: a three-way merge of last-applied, the manifest and the live object.

Fields the manifest sets win; fields the previous apply set but this manifest dropped are removed;
everything else (status, server-filled defaults, allocated clusterIP/nodePorts, replicas
changed by `scale` when the manifest omits them) is kept from the live object.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from control.client.wellknown import ANNOTATION_LAST_APPLIED

# Lists Kubernetes merges element by element (strategic merge patch's patchMergeKey).
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
}


def three_way(original: dict, modified: dict, live: dict) -> dict:
    result = dict(live)
    for key in original.keys() - modified.keys():
        result.pop(key, None)
    for key, value in modified.items():
        result[key] = _merge_value(key, original.get(key), value, live.get(key))
    return result


def _merge_value(key: str, orig: Any, mod: Any, cur: Any) -> Any:
    if isinstance(mod, dict) and isinstance(cur, dict):
        return three_way(orig if isinstance(orig, dict) else {}, mod, cur)
    if isinstance(mod, list) and isinstance(cur, list):
        merge_key = _merge_key(key, mod, cur)
        if merge_key:
            return _merge_list(merge_key, orig if isinstance(orig, list) else [], mod, cur)
        if mod == orig:
            # Unchanged since the last apply: keep what admission added (e.g. default tolerations).
            return cur
    return mod


def _merge_key(key: str, mod: list, cur: list) -> str | None:
    if key == "ports":  # container ports merge on containerPort, service ports on port
        items = [i for i in mod + cur if isinstance(i, dict)]
        return "containerPort" if any("containerPort" in i for i in items) else "port"
    return _MERGE_KEYS.get(key)


def _merge_list(merge_key: str, orig: list, mod: list, cur: list) -> list:
    if not all(isinstance(i, dict) and merge_key in i for i in mod + cur):
        return mod
    orig_by = {i[merge_key]: i for i in orig if isinstance(i, dict) and merge_key in i}
    cur_by = {i[merge_key]: i for i in cur}
    mod_keys = {i[merge_key] for i in mod}
    merged = [three_way(orig_by.get(i[merge_key], {}), i, cur_by[i[merge_key]]) if i[merge_key] in cur_by
              else i for i in mod]
    # Elements someone else added stay; elements only the previous apply had are dropped.
    kept = [i for i in cur if i[merge_key] not in mod_keys and i[merge_key] not in orig_by]
    return merged + kept


def normalize_secret(data: dict) -> dict:
    """Folds a Secret's write-only stringData into base64 data, as the apiserver does."""
    string_data = data.get("stringData")
    if data.get("kind") != "Secret" or not isinstance(string_data, dict):
        return data
    merged = dict(data.get("data") or {})
    for key, value in string_data.items():
        merged[key] = base64.b64encode(str(value).encode()).decode()
    result = {k: v for k, v in data.items() if k != "stringData"}
    result["data"] = merged
    return result


def last_applied_text(manifest: dict) -> str:
    """The annotation value: the manifest itself, minus the annotation, as compact JSON."""
    clean = json.loads(json.dumps(manifest))
    annotations = clean.get("metadata", {}).get("annotations", {})
    annotations.pop(ANNOTATION_LAST_APPLIED, None)
    if "annotations" in clean.get("metadata", {}) and not annotations:
        del clean["metadata"]["annotations"]
    return json.dumps(clean, sort_keys=True, separators=(",", ":"))


def with_last_applied(manifest: dict) -> dict:
    text = last_applied_text(manifest)
    result = json.loads(json.dumps(manifest))
    result.setdefault("metadata", {}).setdefault("annotations", {})[ANNOTATION_LAST_APPLIED] = text
    return result


def previous_applied(live: dict) -> dict:
    text = live.get("metadata", {}).get("annotations", {}).get(ANNOTATION_LAST_APPLIED)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
