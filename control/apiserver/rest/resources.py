"""The resource verbs over REST: each request becomes the same request message the gRPC service takes
and runs through the same gate (authentication, authorization, admission, audit) and handlers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import grpc
import yaml
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.apply import tracking
from control.apiserver.auth.gate import Action, Call, Gate
from control.apiserver.context import ApiContext
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.listing import Lister
from control.apiserver.listoptions import validate_watch
from control.apiserver.rest import apply as applying
from control.apiserver.rest import k8sproto, rpcsubs, status, table, tokens
from control.apiserver.rest import patch as patches
from control.apiserver.rest.bodies import parse_object
from control.apiserver.rest.collection import delete_collection
from control.apiserver.rest.encode import clean, go_json, object_doc, patch_base, scale_doc, versioned
from control.apiserver.rest.http import Request
from control.apiserver.rest.routes import RPC_SUBRESOURCES, Route
from control.apiserver.rest.status import RestError
from control.apiserver.rest.watch import watch_stream
from control.apiserver.rpc import CREATE, DELETE, GET, LIST, UPDATE, UPDATE_STATUS, WATCH, request_target
from control.client.convert import to_dict
from control.client.kinds import Kind
from skiff.v1 import requests_pb2

PATCH = Action("patch", request_target, mutating=True)
PATCH_STATUS = Action("patch", request_target, "status", mutating=True)
GET_STATUS = Action("get", request_target, "status")
GET_SCALE = Action("get", request_target, "scale")
UPDATE_SCALE = Action("update", request_target, "scale", mutating=True)
PATCH_SCALE = Action("patch", request_target, "scale", mutating=True)
PATCH_ATTEMPTS = 8


@dataclass
class Reply:
    code: int
    doc: dict | None = None
    stream: AsyncIterator[bytes] | None = None
    warnings: list[str] = field(default_factory=list)


class Resources:
    def __init__(self, api: ApiContext) -> None:
        self.api = api
        self.gate = Gate(api)
        self._handlers: dict[str, ResourceHandlers] = {}
        self._listers: dict[str, Lister] = {}

    def handlers(self, kind: Kind) -> ResourceHandlers:
        kind = kind.stored  # an older version's view reads and writes the stored version
        if kind.kind not in self._handlers:
            self._handlers[kind.kind] = ResourceHandlers(kind, self.api)
        return self._handlers[kind.kind]

    def lister(self, kind: Kind) -> Lister:
        kind = kind.stored
        if kind.kind not in self._listers:
            self._listers[kind.kind] = Lister(kind, self.api)
        return self._listers[kind.kind]

    async def guarded(self, kind: Kind, action: Action, request: Message, caller,
                      fn: Callable[[Call], Awaitable]):
        """Authorizes, runs fn and audits its outcome, as rpc.Guarded does for gRPC."""
        kind = kind.stored
        call = self.gate.begin(kind, action, request)
        try:
            await self.gate.admit(call, kind, action, request, caller)
            result = await fn(call)
        except errors.ApiError as e:
            self.gate.end(call, e.code, action, caller)
            raise
        self.gate.end(call, grpc.StatusCode.OK, action, caller)
        return result

    # -- dispatch -------------------------------------------------------------------------------------

    async def serve(self, req: Request, route: Route, caller) -> Reply:
        writer = tracking.Writer(tracking.manager_for(req.arg("fieldManager"), req.header("user-agent")))
        with tracking.writing(writer):
            return await self._serve(req, route, caller)

    async def _serve(self, req: Request, route: Route, caller) -> Reply:
        m, sub = req.method, route.subresource
        if m == "GET" and not route.name:
            if req.arg("watch") in ("true", "1"):
                return await self.watch(req, route, caller)
            return await self.list(req, route, caller)
        if m == "POST" and not route.name:
            return await self.create(req, route, caller)
        if m == "DELETE" and not route.name:
            if not route.kind.delete_collection or route.kind.namespaced and not route.namespace:
                raise _not_allowed(m)  # no deletecollection across namespaces, as in Kubernetes
            doc = await delete_collection(self, req, route, caller, delete_request(req, route))
            return Reply(200, doc)
        if not route.name:
            raise _not_allowed(m)
        if sub in RPC_SUBRESOURCES:
            if m != "POST":
                raise _not_allowed(m)
            if sub == "token":  # answered with the TokenRequest itself, not a Status
                return Reply(*await tokens.create_token(self, _json_body(req), route, caller))
            return Reply(201, await rpcsubs.serve(self.api, self.guarded, route, caller, _json_body(req)))
        if sub == "scale":
            return await self.scale(req, route, caller)
        if m == "GET":
            return await self.get(req, route, caller, GET_STATUS if sub else GET)
        if m == "PUT":
            return await self.update(req, route, caller)
        if m == "PATCH":
            return await self.patch(req, route, caller)
        if m == "DELETE" and not sub:
            return await self.delete(req, route, caller)
        raise _not_allowed(m)

    # -- verbs ----------------------------------------------------------------------------------------

    async def get(self, req: Request, route: Route, caller, action: Action) -> Reply:
        request = requests_pb2.GetRequest(namespace=route.namespace, name=route.name)
        obj = await self.guarded(route.kind, action, request, caller,
                                 lambda _: self.handlers(route.kind).get(route.namespace, route.name))
        if table.wants_table(req.header("accept")):  # `kubectl get KIND NAME`: one row, the same columns
            return Reply(200, table.table(route.kind, [obj], obj.metadata.resource_version,
                                          req.arg("includeObject", "Metadata")))
        return Reply(200, object_doc(route.kind, obj))

    async def list(self, req: Request, route: Route, caller) -> Reply:
        limit = _int_arg(req, "limit")
        request = requests_pb2.ListRequest(namespace=route.namespace, label_selector=req.arg("labelSelector"),
                                           field_selector=req.arg("fieldSelector"), limit=limit,
                                           continue_token=req.arg("continue"),
                                           resource_version=req.arg("resourceVersion"),
                                           resource_version_match=req.arg("resourceVersionMatch"))
        result = await self.guarded(route.kind, LIST, request, caller,
                                    lambda _: self.lister(route.kind).list(request))
        if table.wants_table(req.header("accept")):
            return Reply(200, table.table(route.kind, list(result.items), result.metadata.resource_version,
                                          req.arg("includeObject", "Metadata"), result.metadata.continue_))
        doc = to_dict(result)
        doc["items"] = [go_json(route.kind, versioned(route.kind, clean(item))) for item in doc.get("items", [])]
        return Reply(200, doc)

    async def create(self, req: Request, route: Route, caller) -> Reply:
        warnings: list[str] = []
        obj = self.decode(req, route, warnings)
        request = route.kind.request_message(object=obj, dry_run=_dry_run(req))
        created = await self.guarded(route.kind, CREATE, request, caller,
                                     lambda _: self.handlers(route.kind).create(obj, request.dry_run))
        return Reply(201, object_doc(route.kind, created), warnings=warnings)

    async def update(self, req: Request, route: Route, caller) -> Reply:
        warnings: list[str] = []
        obj = self.decode(req, route, warnings)
        written = await self._write(route, obj, _dry_run(req), caller)
        return Reply(200, object_doc(route.kind, written), warnings=warnings)

    async def _write(self, route: Route, obj: Message, dry_run: bool, caller, call: Call | None = None) -> Message:
        status_only = route.subresource == "status"
        if call is not None:  # a PATCH, authorized already: the object checks of the write remain
            await self.gate.admit_object(call, route.kind.stored, obj)
            return await self.handlers(route.kind).update(obj, dry_run, status_only)
        request = route.kind.request_message(object=obj, dry_run=dry_run)
        return await self.guarded(route.kind, UPDATE_STATUS if status_only else UPDATE, request, caller,
                                  lambda _: self.handlers(route.kind).update(obj, dry_run, status_only))

    async def delete(self, req: Request, route: Route, caller) -> Reply:
        request = delete_request(req, route)
        obj = await self.guarded(route.kind, DELETE, request, caller,
                                 lambda _: self.handlers(route.kind).delete(request))
        if obj.metadata.HasField("deletion_timestamp"):  # still there: graceful or held by finalizers
            return Reply(200, object_doc(route.kind, obj))
        return Reply(200, status.success(route.kind, obj.metadata.name, obj.metadata.uid))

    async def patch(self, req: Request, route: Route, caller) -> Reply:
        content_type = _patch_type(req)
        manager, force = applying.options(req, content_type)
        action = PATCH_STATUS if route.subresource == "status" else PATCH
        request = requests_pb2.GetRequest(namespace=route.namespace, name=route.name)
        warnings: list[str] = []
        if content_type == applying.APPLY:
            async def run_apply(call: Call) -> tuple[Message, bool]:
                return await applying.apply(self._apply_target(route, req, call, warnings), req, manager, force)
            written, created = await self.guarded(route.kind, action, request, caller, run_apply)
            return Reply(201 if created else 200, object_doc(route.kind, written), warnings=warnings)
        body = _json_body(req)

        async def run(call: Call) -> Message:
            return await self._patch(route, content_type, body, caller, call, req, warnings)
        patched = await self.guarded(route.kind, action, request, caller, run)
        return Reply(200, object_doc(route.kind, patched), warnings=warnings)

    def _apply_target(self, route: Route, req: Request, call: Call, warnings: list[str]) -> applying.Target:
        handlers, dry_run = self.handlers(route.kind), _dry_run(req)

        async def create(obj: Message) -> Message:
            await self.gate.admit_create(call, route.kind, obj)
            return await handlers.create(obj, dry_run)

        async def update(obj: Message) -> Message:
            return await self._write(route, obj, dry_run, None, call)
        return applying.Target(route.kind, route.name, lambda: handlers.get(route.namespace, route.name), create,
                               update, applying.decoder(req, route, warnings), route.subresource)

    async def _patch(self, route: Route, content_type: str, body, caller, call: Call, req: Request,
                     warnings: list[str]) -> Message:
        for _ in range(PATCH_ATTEMPTS):
            current = await self.handlers(route.kind).get(route.namespace, route.name)
            try:
                patched = patches.apply_patch(content_type, patch_base(route.kind, current, content_type), body,
                                              route.kind.message.DESCRIPTOR)
            except patches.PatchError as e:
                raise errors.bad_request(str(e)) from None
            pinned = bool(patched.get("metadata", {}).get("resourceVersion")) and \
                patched["metadata"]["resourceVersion"] != current.metadata.resource_version
            warnings.clear()
            obj = parse_object(patched, route, req.arg("fieldValidation"), warnings)
            if not pinned:
                obj.metadata.resource_version = current.metadata.resource_version
            try:
                return await self._write(route, obj, _dry_run(req), caller, call)
            except errors.ApiError as e:
                if e.code is not grpc.StatusCode.ABORTED or pinned:
                    raise
        raise errors.conflict(route.kind.resource, route.name)

    async def scale(self, req: Request, route: Route, caller) -> Reply:
        request = requests_pb2.GetRequest(namespace=route.namespace, name=route.name)
        handlers = self.handlers(route.kind)
        if req.method == "GET":
            obj = await self.guarded(route.kind, GET_SCALE, request, caller,
                                     lambda _: handlers.get(route.namespace, route.name))
            return Reply(200, scale_doc(route.kind, obj))
        if req.method not in ("PUT", "PATCH"):
            raise _not_allowed(req.method)
        action = UPDATE_SCALE if req.method == "PUT" else PATCH_SCALE
        content_type = _patch_type(req) if req.method == "PATCH" else ""
        body = _json_body(req)

        async def run(call: Call) -> Message:
            for _ in range(PATCH_ATTEMPTS):
                obj = await handlers.get(route.namespace, route.name)
                current = scale_doc(route.kind, obj)
                wanted = body if req.method == "PUT" else _patched(content_type, current, body)
                rv = (wanted.get("metadata") or {}).get("resourceVersion", "")
                replicas = (wanted.get("spec") or {}).get("replicas", 0)
                if not isinstance(replicas, int) or isinstance(replicas, bool):
                    raise errors.bad_request("spec.replicas: Invalid value: must be an integer", "spec.replicas")
                obj.spec.replicas = replicas
                if rv and rv != obj.metadata.resource_version:
                    raise errors.conflict(route.kind.resource, route.name)
                try:
                    await self.gate.admit_object(call, route.kind, obj)
                    return await handlers.update(obj, _dry_run(req), subresource="scale")
                except errors.ApiError as e:
                    if e.code is not grpc.StatusCode.ABORTED or rv:
                        raise
            raise errors.conflict(route.kind.resource, route.name)
        written = await self.guarded(route.kind, action, request, caller, run)
        return Reply(200, scale_doc(route.kind, written))

    async def watch(self, req: Request, route: Route, caller) -> Reply:
        request = requests_pb2.WatchRequest(
            namespace=route.namespace, label_selector=req.arg("labelSelector"),
            field_selector=req.arg("fieldSelector"), resource_version=req.arg("resourceVersion"),
            allow_watch_bookmarks=req.arg("allowWatchBookmarks") in ("true", "1"),
            resource_version_match=req.arg("resourceVersionMatch"))
        initial = req.arg("sendInitialEvents")
        if initial:
            request.send_initial_events = _bool_arg(initial, "sendInitialEvents")
        lister = self.lister(route.kind)
        await self.guarded(route.kind, WATCH, request, caller, _nothing)
        validate_watch(request)  # refused with a 422 before the stream starts
        await lister.wait_for_watch(request)
        return Reply(200, stream=watch_stream(route.kind, lister, request, req, caller))

    # -- bodies ---------------------------------------------------------------------------------------

    def decode(self, req: Request, route: Route, warnings: list[str]) -> Message:
        return parse_object(_json_body(req), route, req.arg("fieldValidation"), warnings)


async def _nothing(_call: Call) -> None:
    return None


def _patched(content_type: str, current: dict, body) -> dict:
    try:
        return patches.apply_patch(content_type, current, body)
    except patches.PatchError as e:
        raise errors.bad_request(str(e)) from None


def delete_request(req: Request, route: Route) -> requests_pb2.DeleteRequest:
    options = _json_body(req) if req.body else {}
    if not isinstance(options, dict):
        raise errors.bad_request("DeleteOptions must be a JSON object")
    request = requests_pb2.DeleteRequest(namespace=route.namespace, name=route.name)
    request.propagation_policy = options.get("propagationPolicy") or req.arg("propagationPolicy")
    grace = options.get("gracePeriodSeconds", req.arg("gracePeriodSeconds") or None)
    if grace is not None:
        try:
            request.grace_period_seconds = int(grace)
        except (TypeError, ValueError):
            raise errors.bad_request("gracePeriodSeconds must be an integer", "gracePeriodSeconds") from None
    if options.get("orphanDependents") is True and not request.propagation_policy:
        request.propagation_policy = "Orphan"
    pre = options.get("preconditions") or {}
    request.preconditions.uid = pre.get("uid") or ""
    request.preconditions.resource_version = pre.get("resourceVersion") or ""
    request.dry_run = _dry_run(req) or "All" in (options.get("dryRun") or [])
    return request


def _patch_type(req: Request) -> str:
    content_type = req.header("content-type").split(";")[0].strip()
    known = (patches.JSON_PATCH, patches.MERGE_PATCH, patches.STRATEGIC, applying.APPLY)
    if content_type not in known:
        supported = ", ".join(known)
        raise RestError(415, "UnsupportedMediaType", f'the server does not support the patch type "{content_type}" '
                        f"yet; supported: {supported}")
    return content_type


def _dry_run(req: Request) -> bool:
    values = req.query.get("dryRun", [])
    if any(v != "All" for v in values):
        raise errors.bad_request('dryRun: Unsupported value: "{}": supported values: "All"'.format(
            next(v for v in values if v != "All")))
    return bool(values)


def _bool_arg(text: str, name: str) -> bool:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise errors.bad_request(f'{name}: Invalid value: "{text}": must be true or false', name)


def _int_arg(req: Request, name: str) -> int:
    text = req.arg(name, "0") or "0"
    try:
        return int(text)
    except ValueError:
        raise errors.bad_request(f"{name}: Invalid value: {text!r}", name) from None


def _json_body(req: Request):
    content_type = req.header("content-type").split(";")[0].strip()
    if content_type == k8sproto.MEDIA_TYPE:
        try:
            return k8sproto.decode(req.body)
        except k8sproto.WireError as e:
            raise errors.bad_request(f"the request body is not valid in Kubernetes' protobuf encoding: {e}") from None
    if content_type.startswith("application/vnd.kubernetes.protobuf") or content_type.endswith("cbor"):
        raise RestError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted '
                        f'media types include: application/json, application/yaml (got "{content_type}")')
    if content_type == "application/yaml":
        try:
            return yaml.safe_load(req.body or b"null")
        except yaml.YAMLError as e:
            raise errors.bad_request(f"the request body is not valid YAML: {e}") from None
    try:
        return json.loads(req.body or b"null")
    except ValueError as e:
        raise errors.bad_request(f"the request body is not valid JSON: {e}") from None


request_body = _json_body  # a request's body as a JSON document, whatever its media type


def _not_allowed(method: str) -> errors.ApiError:
    return errors.ApiError(grpc.StatusCode.UNIMPLEMENTED, f"the server does not allow this method on the requested "
                          f"resource ({method})")
