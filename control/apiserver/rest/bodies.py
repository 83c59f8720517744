"""Request bodies as objects of the route's kind, with the apiserver's field validation: `Strict` refuses
unknown fields, `Warn` (the default) drops them with a warning, `Ignore` drops them silently."""

from __future__ import annotations

import copy

import grpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.rest import gojson, k8sencode
from control.apiserver.rest.gotypes import type_error
from control.apiserver.rest.routes import Route
from control.cli.schema import shape_errors
from control.client.convert import ManifestError, from_dict

UNKNOWN = ': unknown field "'
VALIDATIONS = ("", "Ignore", "Warn", "Strict")


def unknown_fields(doc: dict, route: Route) -> list[str]:
    return [e.split(UNKNOWN)[0] for e in shape_errors(doc, route.kind.message.DESCRIPTOR) if UNKNOWN in e]


def parse_object(doc, route: Route, validation: str, warnings: list[str]) -> Message:
    kind = route.kind
    if not isinstance(doc, dict):
        raise errors.bad_request("the request body must be a JSON object")
    if validation not in VALIDATIONS:
        raise errors.bad_request(f'fieldValidation: Unsupported value: "{validation}": supported values: '
                                 '"Ignore", "Strict", "Warn"')
    if doc.get("apiVersion", kind.api_version) != kind.api_version or doc.get("kind", kind.kind) != kind.kind:
        raise errors.bad_request(f"the API version in the data ({doc.get('apiVersion')}) does not match the "
                                 f"expected API version ({kind.api_version})" if doc.get("apiVersion") !=
                                 kind.api_version else f"the kind in the data ({doc.get('kind')}) does not match "
                                 f"the expected kind ({kind.kind})")
    message = k8sencode.message_of(doc)
    if message:  # what Go writes of empty structs means nothing was set
        doc = gojson.drop(copy.deepcopy(doc), message)
    cannot = f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}'
    # An older version's body is converted to the stored version first.
    typed = {**doc, "apiVersion": kind.api_version, "kind": kind.kind}
    if wrong := type_error(typed):
        raise errors.bad_request(f"{cannot}: {wrong}")
    try:  # the common case first: a body with no unknown field parses strictly, and needs no shape walk
        obj = from_dict(typed, kind.stored)
    except ManifestError:
        obj = None
    if obj is not None:
        _check_target(obj, route)
        return obj
    unknown = unknown_fields(doc, route)
    if unknown and validation == "Strict":
        listed = ", ".join(f'unknown field "{p}"' for p in unknown)
        raise errors.bad_request(f"{cannot}: strict decoding error: {listed}")
    if validation != "Ignore":
        warnings += [f'unknown field "{p}"' for p in unknown]
    try:
        obj = from_dict(typed, kind.stored, ignore_unknown=True)
    except ManifestError as e:
        raise errors.bad_request(f"{cannot}: {str(e).splitlines()[0]}") from None
    _check_target(obj, route)
    return obj


def _check_target(obj: Message, route: Route) -> None:
    meta = obj.metadata
    if route.namespace and route.kind.namespaced:
        if meta.namespace and meta.namespace != route.namespace:
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent "
                                     "on the request")
        meta.namespace = route.namespace
    if route.name and meta.name != route.name:
        raise errors.bad_request(f"the name of the object ({meta.name}) does not match the name on the URL "
                                 f"({route.name})")


def unsupported(message: str) -> errors.ApiError:
    return errors.ApiError(grpc.StatusCode.UNIMPLEMENTED, message)
