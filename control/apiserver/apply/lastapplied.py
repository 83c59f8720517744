"""kubectl's move from client-side to server-side apply, as kube-apiserver eases it: when the manager
`kubectl` applies an object that client-side apply manages (it has the last-applied-configuration
annotation), conflicts on fields of that annotation are taken over without --force-conflicts, and the
annotation follows what is applied, so a later client-side apply still sees the truth."""

from __future__ import annotations

import copy
import json

from control.apiserver.apply import typed
from control.apiserver.apply.fieldpath import Path
from control.apiserver.apply.typed import Node

ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
MANAGER = "kubectl"


def _annotation(doc: dict) -> str:
    return ((doc.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION) or ""


def allowed_conflicts(manager: str, live: dict, node: Node) -> set[Path]:
    """The fields whose conflicts kubectl's apply may take over: those of the annotation."""
    text = _annotation(live) if manager == MANAGER else ""
    if not text:
        return set()
    try:
        applied = json.loads(text)
        return typed.field_set(applied, node) if isinstance(applied, dict) else set()
    except (ValueError, typed.FieldError):
        return set()


def synced(manager: str, live: dict, merged: dict, config: dict) -> dict:
    """The merged object with the annotation set to the applied configuration (kubectl's apply of an
    object that had the annotation)."""
    if manager != MANAGER or not _annotation(live):
        return merged
    applied = copy.deepcopy(config)
    meta = applied.get("metadata") or {}
    if isinstance(meta.get("annotations"), dict):
        meta["annotations"].pop(ANNOTATION, None)
        if not meta["annotations"]:
            del meta["annotations"]
    text = json.dumps(applied, separators=(",", ":"), sort_keys=True) + "\n"
    merged.setdefault("metadata", {}).setdefault("annotations", {})[ANNOTATION] = text
    return merged
