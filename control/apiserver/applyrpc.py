"""The gRPC Apply of every kind: server-side apply (control/apiserver/apply/serverside.py) with the
configuration as JSON, authorized as patch (and as create when it creates, as over REST)."""

from __future__ import annotations

import json

from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.apply import serverside
from control.apiserver.auth.gate import Action, Gate
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.rpc import CURRENT_CALL, request_target
from control.client.convert import ManifestError, from_dict
from skiff.v1 import requests_pb2

APPLY = Action("patch", request_target, mutating=True)


def apply_handler(handlers: ResourceHandlers, gate: Gate):
    kind = handlers.kind

    async def apply(r: requests_pb2.ApplyRequest) -> Message:
        try:
            config = json.loads(r.configuration or b"null")
        except ValueError as e:
            raise errors.bad_request(f"the configuration is not valid JSON: {e}") from None

        def decode(doc: dict) -> Message:
            try:
                obj = from_dict(doc, kind)
            except ManifestError as e:
                raise errors.bad_request(f"{kind.kind} in version \"{kind.version}\" cannot be handled as a "
                                         f"{kind.kind}: {str(e).splitlines()[0]}") from None
            if obj.metadata.name != r.name:
                raise errors.bad_request(f"the name of the object ({obj.metadata.name}) does not match the name "
                                         f"of the request ({r.name})")
            if kind.namespaced:
                obj.metadata.namespace = handlers.namespace_of(r.namespace)
            return obj

        async def create(obj: Message) -> Message:
            call = CURRENT_CALL.get()
            if call is not None:
                await gate.admit_create(call, kind, obj)
            return await handlers.create(obj, r.dry_run)

        async def update(obj: Message) -> Message:
            call = CURRENT_CALL.get()
            if call is not None:
                await gate.admit_object(call, kind, obj)
            return await handlers.update(obj, r.dry_run)

        target = serverside.Target(kind, r.name, lambda: handlers.get(r.namespace, r.name), create, update, decode)
        written, _ = await serverside.apply(target, config, r.field_manager, r.force)
        return written
    return apply
