"""`POST .../serviceaccounts/NAME/token` over REST (what `kubectl create token` sends): an
authentication.k8s.io/v1 TokenRequest through the same gate and handler as gRPC's CreateToken,
answered with the TokenRequest (201). TokenReview is one of the review APIs (reviewapi.py)."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message

from control.apiserver import errors, tokenrequest
from control.apiserver.auth.gate import Call
from control.apiserver.registry.serviceaccount import CREATE_TOKEN
from control.apiserver.rest.routes import Route
from control.client.convert import to_dict
from skiff.v1 import authz_pb2

API_VERSION = "authentication.k8s.io/v1"


def parse(body, kind: str, message_type: type[Message]) -> Message:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise errors.bad_request(f"a {kind} must be a JSON object")
    if body.get("kind", kind) != kind or body.get("apiVersion", API_VERSION) != API_VERSION:
        raise errors.bad_request(f"the kind in the data ({body.get('apiVersion')}, {body.get('kind')}) does not "
                                 f"match the expected kind ({API_VERSION}, {kind})")
    msg = message_type()
    try:
        json_format.ParseDict(body, msg, ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise errors.bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: {e}') from None
    return msg


async def create_token(resources, body, route: Route, caller) -> tuple[int, dict]:
    request = parse(body, "TokenRequest", authz_pb2.TokenRequest)
    if request.metadata.name and request.metadata.name != route.name:
        raise errors.bad_request("name in URL does not match name in TokenRequest object")
    request.metadata.namespace, request.metadata.name = route.namespace, route.name

    async def run(_call: Call) -> Message:
        return await tokenrequest.create_token(resources.api, request)
    out = await resources.guarded(route.kind, CREATE_TOKEN, request, caller, run)
    doc = to_dict(out)
    doc["apiVersion"], doc["kind"] = API_VERSION, "TokenRequest"
    return 201, doc
