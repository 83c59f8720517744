"""The pod subresources that write part of a pod, over REST (GET, PUT, PATCH): pods/ephemeralcontainers
(`kubectl debug` patches it; only spec.ephemeralContainers is written, control/apiserver/ephemeral.py)
and pods/resize (`kubectl patch --subresource resize`; only the containers' resources,
control/apiserver/resize.py). The whole Pod goes in and out."""

from __future__ import annotations

from types import ModuleType

import grpc

from control.apiserver import ephemeral, errors, resize
from control.apiserver.auth.gate import Action
from control.apiserver.context import ApiContext
from control.apiserver.rest import patch as patches
from control.apiserver.rest.bodies import parse_object
from control.apiserver.rest.encode import object_doc, patch_base
from control.apiserver.rest.http import Request
from control.apiserver.rest.resources import Reply, Resources, _dry_run, _json_body, _patch_type
from control.apiserver.rest.routes import Route
from control.apiserver.rpc import request_target
from skiff.v1 import requests_pb2, services_pb2

PATCH_ATTEMPTS = 8
# subresource -> the module with its get(api, GetRequest) and update(api, PodRequest)
WRITERS: dict[str, ModuleType] = {"ephemeralcontainers": ephemeral, resize.SUBRESOURCE: resize}


class PodSubresource:
    def __init__(self, api: ApiContext, resources: Resources, subresource: str) -> None:
        self.api = api
        self.resources = resources
        self.subresource = subresource
        self.writer = WRITERS[subresource]

    async def serve(self, req: Request, route: Route, caller) -> Reply:
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch"}.get(req.method)
        if verb is None:
            raise errors.ApiError(grpc.StatusCode.UNIMPLEMENTED, "the server does not allow this method on "
                                  f"the requested resource ({req.method})")
        action = Action(verb, request_target, self.subresource, mutating=verb != "get")
        target = requests_pb2.GetRequest(namespace=route.namespace, name=route.name)
        warnings: list[str] = []

        async def run(_call):
            if verb == "get":
                return await self.writer.get(self.api, target)
            if verb == "update":
                obj = parse_object(_json_body(req), route, req.arg("fieldValidation"), warnings)
                return await self._update(obj, _dry_run(req))
            return await self._patch(req, route, warnings)
        pod = await self.resources.guarded(route.kind, action, target, caller, run)
        return Reply(200, object_doc(route.kind, pod), warnings=warnings)

    async def _update(self, obj, dry_run: bool):
        return await self.writer.update(self.api, services_pb2.PodRequest(object=obj, dry_run=dry_run))

    async def _patch(self, req: Request, route: Route, warnings: list[str]):
        content_type, body = _patch_type(req), _json_body(req)
        for _ in range(PATCH_ATTEMPTS):
            current = await self.writer.get(self.api, requests_pb2.GetRequest(namespace=route.namespace,
                                                                             name=route.name))
            try:
                patched = patches.apply_patch(content_type, patch_base(route.kind, current, content_type), body,
                                              route.kind.message.DESCRIPTOR)
            except patches.PatchError as e:
                raise errors.bad_request(str(e)) from None
            warnings.clear()
            obj = parse_object(patched, route, req.arg("fieldValidation"), warnings)
            obj.metadata.resource_version = current.metadata.resource_version
            try:
                return await self._update(obj, _dry_run(req))
            except errors.ApiError as e:
                if e.code is not grpc.StatusCode.ABORTED:
                    raise
        raise errors.conflict("pods", route.name)
