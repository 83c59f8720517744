"""Objects as Kubernetes' JSON: the kind's apiVersion and kind set (converted to an older version the
client asked for), empty metadata strings left out, and the autoscaling/v1 Scale of a kind with the
scale subresource."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.rest import gojson, k8sencode
from control.client.conversion import convert
from control.client.convert import to_dict, with_required
from control.client.kinds import Kind
from control.client.printers import selector_string


def object_doc(kind: Kind, obj: Message) -> dict:
    """The object as an answer shows it: plain_doc with Go's always-written empty structs."""
    return go_json(kind, plain_doc(kind, obj))


def plain_doc(kind: Kind, obj: Message) -> dict:
    """The stored object as `kind`'s version shows it (converted for an older version's view), with only
    the fields it has: what patches apply to and bookmarks carry."""
    return versioned(kind, clean(to_dict(obj)))


def patch_base(kind: Kind, obj: Message, content_type: str) -> dict:
    """What a patch applies to: a JSON patch sees the object as clients read it (it may add below an empty
    struct, `/spec/template/spec/containers/0/resources/limits`); the merging patches its fields only."""
    return object_doc(kind, obj) if content_type == "application/json-patch+json" else plain_doc(kind, obj)


def go_json(kind: Kind, doc: dict) -> dict:
    """`doc` with the structs Go always writes, and the scalars those hold that Kubernetes requires."""
    message = k8sencode.message_of(doc)
    if not message:
        return doc
    return with_required(gojson.fill(doc, message), kind.message.DESCRIPTOR)


def versioned(kind: Kind, doc: dict) -> dict:
    doc["apiVersion"] = kind.stored.api_version
    doc["kind"] = kind.kind
    if not kind.stored_version:
        return doc
    return with_required(convert(doc, kind.api_version), kind.message.DESCRIPTOR)


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
