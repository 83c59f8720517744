"""Subresources served over REST through a kind's own RPCs: `pods/binding` (a v1 Binding, as the
scheduler's Pods.Bind) and `pods/eviction` (a policy/v1 Eviction, as Pods.Evict: a PodDisruptionBudget
that allows no disruption refuses it with 429). Both are POST, authorized as `create` on the
subresource, and answer 201 with a `Success` Status, as kube-apiserver does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from google.protobuf import json_format
from google.protobuf.message import Message

from control.apiserver import errors, eviction, pods
from control.apiserver.auth.gate import Action
from control.apiserver.context import ApiContext
from control.apiserver.rest.routes import Route, rpc_of
from skiff.v1 import pod_pb2, policy_pb2

# (kind, action, request, caller, fn) -> what fn returned, authorized and audited (Resources.guarded)
Guarded = Callable[..., Awaitable]
SUCCESS = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

# subresource -> (the body's message, what serves it)
HANDLERS: dict[str, tuple[type[Message], Callable[[ApiContext, Message], Awaitable]]] = {
    "binding": (pod_pb2.Binding, pods.bind),
    "eviction": (policy_pb2.Eviction, eviction.evict),
}
# subresource -> the (group, version, kind) of its body, as discovery names it
BODY_KINDS = {"binding": ("", "v1", "Binding"), "eviction": ("policy", "v1", "Eviction"),
              "token": ("authentication.k8s.io", "v1", "TokenRequest")}  # served by tokens.py


def _target(message: Message) -> tuple[str, str]:
    return message.metadata.namespace, message.metadata.name


async def serve(api: ApiContext, guarded: Guarded, route: Route, caller, body) -> dict:
    """POST of the subresource: the body's message through the kind's RPC handler; the Status to answer."""
    rpc = rpc_of(route.kind, route.subresource)
    message_type, handler = HANDLERS[route.subresource]
    message = parse(body, message_type, route)
    action = Action(rpc.verb, _target, rpc.subresource, mutating=True)
    await guarded(route.kind, action, message, caller, lambda _: handler(api, message))
    return dict(SUCCESS)


def parse(body, message_type: type[Message], route: Route) -> Message:
    name = message_type.DESCRIPTOR.name
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    if body.get("kind", name) != BODY_KINDS[route.subresource][2]:
        raise errors.bad_request(f"the kind in the data ({body.get('kind')}) does not match the expected kind "
                                 f"({name})")
    message = message_type()
    try:
        json_format.ParseDict(body, message, ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise errors.bad_request(f"{name} in version \"v1\" cannot be handled as a {name}: {e}") from None
    meta = message.metadata
    if meta.name != route.name:
        raise errors.bad_request(f"name in URL does not match name in {name} object")
    if meta.namespace and meta.namespace != route.namespace:
        raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                 "request")
    meta.namespace = route.namespace
    return message
