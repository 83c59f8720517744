"""The scale subresource (autoscaling/v1 Scale) of every kind declared with `scale` in the kind table:
GetScale reads spec.replicas, status.replicas and the selector (in the `-l` syntax, as Kubernetes'
status.selector); UpdateScale writes spec.replicas only, through the kind's own update (defaults,
validation, a stale resourceVersion refused), authorized as `update` on `<plural>/scale`."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.auth.gate import Action
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.rpc import Guarded, parser, request_target
from control.client.printers import selector_string
from skiff.v1 import autoscaling_pb2, requests_pb2

_RETRIES = 5
GET_SCALE = Action("get", request_target, "scale")
UPDATE_SCALE = Action("update", lambda s: (s.metadata.namespace, s.metadata.name), "scale", mutating=True)


def to_scale(obj: Message) -> autoscaling_pb2.Scale:
    scale = autoscaling_pb2.Scale(api_version="autoscaling/v1", kind="Scale")
    m = obj.metadata
    for field in ("name", "namespace", "uid", "resource_version"):
        setattr(scale.metadata, field, getattr(m, field))
    scale.metadata.creation_timestamp.CopyFrom(m.creation_timestamp)
    scale.spec.replicas = obj.spec.replicas if obj.spec.HasField("replicas") else 1
    scale.status.replicas = obj.status.replicas
    scale.status.selector = selector_string(obj.spec.selector)
    return scale


def scale_methods(handlers: ResourceHandlers, guard: Guarded) -> dict[str, grpc.RpcMethodHandler]:
    async def get_scale(r: requests_pb2.GetRequest) -> autoscaling_pb2.Scale:
        return to_scale(await handlers.get(r.namespace, r.name))

    async def update_once(scale: autoscaling_pb2.Scale) -> autoscaling_pb2.Scale:
        meta = scale.metadata
        obj = await handlers.get(meta.namespace, meta.name)
        if meta.uid and meta.uid != obj.metadata.uid:
            raise errors.conflict(handlers.kind.resource, meta.name,
                                  f"Precondition failed: UID in precondition: {meta.uid}, "
                                  f"UID in object meta: {obj.metadata.uid}")
        if meta.resource_version:
            obj.metadata.resource_version = meta.resource_version  # the update refuses it when stale
        obj.spec.replicas = scale.spec.replicas
        return to_scale(await handlers.update(obj, dry_run=False, subresource="scale"))

    async def update_scale(scale: autoscaling_pb2.Scale) -> autoscaling_pb2.Scale:
        if not scale.metadata.name:
            raise errors.bad_request("metadata.name: Required value", "metadata.name")
        for attempt in range(_RETRIES):
            try:
                return await update_once(scale)
            except errors.ApiError as e:
                # Without a resourceVersion of its own the caller asked for an unconditional write.
                if e.code != grpc.StatusCode.ABORTED or scale.metadata.resource_version or attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    return {
        "GetScale": grpc.unary_unary_rpc_method_handler(
            guard.unary(get_scale, GET_SCALE), parser(requests_pb2.GetRequest),
            autoscaling_pb2.Scale.SerializeToString),
        "UpdateScale": grpc.unary_unary_rpc_method_handler(
            guard.unary(update_scale, UPDATE_SCALE), parser(autoscaling_pb2.Scale),
            autoscaling_pb2.Scale.SerializeToString),
    }
