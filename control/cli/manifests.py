"""Loading Kubernetes manifests: files, directories, stdin; YAML (block or flow) and JSON."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import yaml

_EXTENSIONS = (".yaml", ".yml", ".json")


class ManifestLoadError(ValueError):
    """A manifest file that cannot be read or parsed; the message names the file."""


class _KubeLoader(yaml.SafeLoader):
    """YAML as Kubernetes reads it: timestamps stay strings (sigs.k8s.io/yaml goes through JSON)."""


_KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Document:
    source: str  # file name, or "STDIN"
    index: int  # position in its source, for messages
    data: Any


def load_paths(paths: list[str], recursive: bool = False) -> list[Document]:
    """Every object in the named files, directories (their .yaml/.yml/.json files) or `-` (stdin)."""
    docs: list[Document] = []
    for path in paths:
        for source in _expand(path, recursive):
            docs.extend(_load_source(source))
    return docs


def _expand(path: str, recursive: bool) -> list[str]:
    if path == "-":
        return ["-"]
    if os.path.isdir(path):
        return _directory_files(path, recursive)
    if not os.path.exists(path):
        raise ManifestLoadError(f'the path "{path}" does not exist')
    return [path]


def _directory_files(path: str, recursive: bool) -> list[str]:
    found: list[str] = []
    for entry in sorted(os.listdir(path)):
        full = os.path.join(path, entry)
        if os.path.isdir(full):
            if recursive:
                found.extend(_directory_files(full, recursive))
        elif entry.endswith(_EXTENSIONS):
            found.append(full)
    return found


def _load_source(source: str) -> list[Document]:
    if source == "-":
        text, name = sys.stdin.read(), "STDIN"
    else:
        name = source
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise ManifestLoadError(f'error reading "{source}": {e}') from None
    return [Document(name, i, obj) for i, obj in enumerate(parse_text(text, name))]


def parse_text(text: str, name: str = "STDIN") -> list[Any]:
    """The objects in one text: YAML documents or a JSON stream; `kind: List` is unwrapped."""
    try:
        raw = _parse_json_stream(text) if _looks_like_json(text) else None
        if raw is None:
            raw = [d for d in yaml.load_all(text, Loader=_KubeLoader) if d is not None]
    except yaml.YAMLError as e:
        raise ManifestLoadError(f'error parsing "{name}": {e}') from None
    objects: list[Any] = []
    for obj in raw:
        objects.extend(_unwrap_list(obj))
    return objects


def _looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith("{") or stripped.startswith("[")


def _parse_json_stream(text: str) -> list[Any] | None:
    """Concatenated JSON values, or None when the text is not JSON (KYAML flow style is YAML)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return values
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return None
        values.append(value)


def _unwrap_list(obj: Any) -> list[Any]:
    if isinstance(obj, list):
        return [item for value in obj for item in _unwrap_list(value)]
    if isinstance(obj, dict) and isinstance(obj.get("kind"), str) and obj["kind"].endswith("List") \
            and isinstance(obj.get("items"), list):
        return [item for value in obj["items"] for item in _unwrap_list(value)]
    return [obj]


def mapping_not_found(doc: Document, error: Exception) -> str:
    """kubectl's words for an object whose kind the server does not serve."""
    meta = doc.data.get("metadata") if isinstance(doc.data, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    return (f'error: resource mapping not found for name: "{meta.get("name", "")}" namespace: '
            f'"{meta.get("namespace", "")}" from "{doc.source}": {error}\nensure CRDs are installed first')
