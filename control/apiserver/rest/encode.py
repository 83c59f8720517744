"""Objects as Kubernetes' JSON: the kind's apiVersion and kind set, empty metadata strings left out,
and the autoscaling/v1 Scale of a kind with the scale subresource."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.convert import to_dict
from control.client.kinds import Kind
from control.client.printers import selector_string


def object_doc(kind: Kind, obj: Message) -> dict:
    doc = clean(to_dict(obj))
    doc["apiVersion"] = kind.api_version
    doc["kind"] = kind.kind
    return doc


def clean(doc: dict) -> dict:
    """Kubernetes omits empty metadata strings (`generateName: ""`) from its JSON."""
    meta = doc.get("metadata")
    if isinstance(meta, dict):
        for key in [k for k, v in meta.items() if v == ""]:
            del meta[key]
    return doc


def scale_doc(kind: Kind, obj: Message) -> dict:
    meta = to_dict(obj).get("metadata", {})
    keep = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
    return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {k: meta[k] for k in keep if k in meta},
            "spec": {"replicas": int(obj.spec.replicas)},
            "status": {"replicas": int(obj.status.replicas), "selector": selector_string(obj.spec.selector)}}
