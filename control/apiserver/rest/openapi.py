"""OpenAPI v3, one document per group-version, generated from the kinds' protobuf descriptors: a schema
per message (Kubernetes' JSON field names and types), the kinds tagged with
x-kubernetes-group-version-kind, and one PATCH operation per kind naming the fieldValidation parameter
so that kubectl leaves validation to the server. Enough for `kubectl explain` and kubectl's checks."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from control.apiserver.rest.routes import GROUP_VERSIONS
from control.client.kinds import Kind
from control.client.version import MAJOR, MINOR
from skiff.v1 import options_pb2

_SCALARS = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_INT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "double"},
}
_WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Value": {"x-kubernetes-int-or-string": True,
                              "anyOf": [{"type": "integer"}, {"type": "string"}]},
    "google.protobuf.Struct": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
}


def _ref(descriptor: Descriptor) -> dict:
    return {"allOf": [{"$ref": f"#/components/schemas/{descriptor.full_name}"}]}


def _value_schema(field: FieldDescriptor, found: dict[str, Descriptor]) -> dict:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        name = field.message_type.full_name
        if name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[name])
        found.setdefault(name, field.message_type)
        return _ref(field.message_type)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return {"type": "string"}
    return dict(_SCALARS.get(field.type, {"type": "string"}))


def _field_schema(field: FieldDescriptor, found: dict[str, Descriptor]) -> dict:
    if field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        return {"type": "object", "additionalProperties": _value_schema(field.message_type.fields_by_name["value"],
                                                                         found)}
    if field.is_repeated:
        return {"type": "array", "items": _value_schema(field, found)}
    return _value_schema(field, found)


def _message_schema(descriptor: Descriptor, found: dict[str, Descriptor]) -> dict:
    props = {f.json_name: _field_schema(f, found) for f in descriptor.fields}
    schema = {"type": "object", "description": "", "properties": dict(sorted(props.items()))}
    required = sorted(f.json_name for f in descriptor.fields if f.GetOptions().Extensions[options_pb2.required])
    if required:
        schema["required"] = required
    return schema


def _schemas(kinds: list[Kind]) -> dict[str, dict]:
    found: dict[str, Descriptor] = {k.message.DESCRIPTOR.full_name: k.message.DESCRIPTOR for k in kinds}
    schemas: dict[str, dict] = {}
    while len(schemas) < len(found):
        for name, descriptor in list(found.items()):
            if name not in schemas:
                schemas[name] = _message_schema(descriptor, found)
    for kind in kinds:
        schemas[kind.message.DESCRIPTOR.full_name]["x-kubernetes-group-version-kind"] = [
            {"group": kind.group, "version": kind.version, "kind": kind.kind}]
    return schemas


def _query_param(name: str) -> dict:
    return {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}


def _patch_operation(kind: Kind) -> dict:
    body = _ref(kind.message.DESCRIPTOR)
    return {"patch": {
        "operationId": f"patch{kind.kind}",
        "x-kubernetes-group-version-kind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
        "x-kubernetes-action": "patch",
        "parameters": [_query_param("fieldValidation"), _query_param("dryRun"), _query_param("fieldManager")],
        # Without strategic-merge-patch here kubectl computes its patches from its own compiled-in types.
        "requestBody": {"content": {"application/json-patch+json": {"schema": {"type": "object"}},
                                    "application/merge-patch+json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": body}}}},
    }}


def _key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


@cache
def group_version_document(group: str, version: str) -> dict | None:
    kinds = GROUP_VERSIONS.get((group, version))
    if kinds is None:
        return None
    prefix = f"/{_key(group, version)}"
    paths = {}
    for kind in kinds.values():
        scope = "/namespaces/{namespace}" if kind.namespaced else ""
        paths[f"{prefix}{scope}/{kind.plural}/{{name}}"] = _patch_operation(kind)
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": f"v{MAJOR}.{MINOR}.0"}, "paths": paths,
            "components": {"schemas": _schemas(list(kinds.values()))}}


@cache
def root() -> dict:
    paths = {}
    for group, version in GROUP_VERSIONS:
        doc = group_version_document(group, version)
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
        paths[_key(group, version)] = {"serverRelativeURL": f"/openapi/v3/{_key(group, version)}?hash={digest}"}
    return {"paths": paths}


def for_path(path: str) -> dict | None:
    """`/openapi/v3/api/v1` or `/openapi/v3/apis/apps/v1`."""
    parts = [p for p in path.split("/") if p][2:]
    if len(parts) == 2 and parts[0] == "api":
        return group_version_document("", parts[1])
    if len(parts) == 3 and parts[0] == "apis":
        return group_version_document(parts[1], parts[2])
    return None
