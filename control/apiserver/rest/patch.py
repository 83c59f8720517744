"""PATCH bodies by content type, on the patch implementation the CLI shares (control/client/patches.py)."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor

from control.client import patches
from control.client.patches import PatchError

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
_PATCH_TYPES = {JSON_PATCH: "json", MERGE_PATCH: "merge", STRATEGIC: "strategic"}

__all__ = ["APPLY", "JSON_PATCH", "MERGE_PATCH", "STRATEGIC", "PatchError", "apply_patch"]


def apply_patch(content_type: str, original: dict, patch: Any, descriptor: Descriptor | None = None) -> dict:
    """The object with the patch applied; `descriptor` (the kind's message) tells strategic merge
    which lists merge by key."""
    patch_type = _PATCH_TYPES.get(content_type)
    if patch_type is None:
        raise PatchError(f"unsupported patch type: {content_type}")
    return patches.apply_patch(original, patch, patch_type, descriptor)
