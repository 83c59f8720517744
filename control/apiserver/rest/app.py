"""Kubernetes' REST API: routes a request to discovery, OpenAPI or a resource verb, and answers errors
as Kubernetes `Status` objects."""

from __future__ import annotations

import json
import logging
import traceback

from control.apiserver import errors
from control.apiserver.context import ApiContext
from control.apiserver.rest import discovery, k8sencode, metrics, oidc, openapi, openapiv2, reviewapi, status
from control.apiserver.rest.http import Connection, Request, Response
from control.apiserver.rest.podwrites import WRITERS, PodSubresource
from control.apiserver.rest.resources import Resources, request_body
from control.apiserver.rest.routes import STREAMING, Route, resolve, split_group_version
from control.apiserver.rest.streams import Streams

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/version", "/healthz", "/livez", "/readyz"})


def _legacy_watch(req: Request, route: Route) -> Route | None:
    """`/api/v1/watch/...`, deprecated but still served by kube-apiserver: the collection's watch, one
    object's as the collection's filtered by its name."""
    if route.subresource:
        return None
    req.query["watch"] = ["true"]
    if not route.name:
        return route
    selector, given = f"metadata.name={route.name}", req.arg("fieldSelector")
    req.query["fieldSelector"] = [f"{selector},{given}" if given else selector]
    return Route(route.kind, route.namespace)


class Caller:
    """What the authenticator reads of a gRPC call, for one HTTP request: the connection's key in the
    TLS front's table of verified peers, and the Authorization header."""

    def __init__(self, peer_key: str, authorization: str) -> None:
        self.peer_key = peer_key
        self.authorization = authorization

    def peer(self) -> str:
        return self.peer_key

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return [("authorization", self.authorization)] if self.authorization else []

    def auth_context(self) -> dict:
        return {}


def _json(code: int, doc: dict, content_type: str = "application/json") -> Response:
    return Response(code, json.dumps(doc, separators=(",", ":")).encode(), content_type)


class RestApp:
    def __init__(self, api: ApiContext) -> None:
        self.api = api
        self.resources = Resources(api)
        self.streams = Streams(api, self.resources.guarded)
        self.pod_writers = {name: PodSubresource(api, self.resources, name) for name in WRITERS}

    async def handle(self, req: Request, conn: Connection, peer_key: str) -> Response:
        caller = Caller(peer_key, req.header("authorization"))
        route = user = None
        try:
            if req.path not in OPEN_PATHS and self.api.authenticator is not None:
                user = self.api.authenticator.authenticate(caller)
            gv, parts = split_group_version(req.path)
            legacy_watch = req.method == "GET" and parts[:1] == ["watch"]
            if legacy_watch:
                parts = parts[1:]
            if gv == metrics.GROUP_VERSION and parts and metrics.served(self.api):
                return _json(*await metrics.serve(self.api, req, parts, caller))
            if req.method == "GET" and oidc.served(self.api, req.path):
                return _json(*oidc.serve(self.api, req.path, caller))
            if review := reviewapi.find(gv, parts):
                return _json(201, reviewapi.serve(self.api, *review, req.method, user, request_body(req)))
            route = resolve(gv, parts) if gv else None
            if route is not None and legacy_watch:
                route = _legacy_watch(req, route)
            if route is None:
                return self._non_resource(req, gv, parts)
            if route.subresource in STREAMING:
                return await self.streams.serve(req, route, caller)
            if route.subresource in self.pod_writers:
                reply = await self.pod_writers[route.subresource].serve(req, route, caller)
            else:
                reply = await self.resources.serve(req, route, caller)
            if reply.stream is not None:
                return Response(reply.code, content_type="application/json", stream=reply.stream)
            response = _answer(req, reply.code, reply.doc)
            response.headers += [("Warning", _warning(w)) for w in reply.warnings]
            return response
        except errors.ApiError as e:
            code, doc = status.from_error(e, route.kind if route else None, route.name if route else "")
            return _json(code, doc)
        except status.RestError as e:
            return _json(e.code, status.status(e.code, e.reason, e.message))
        except Exception as e:  # noqa: BLE001 - never a traceback to the client
            log.error("internal error on %s %s: %s", req.method, req.path, "".join(traceback.format_exception(e)))
            return _json(500, status.status(500, "InternalError", f"an error on the server: {type(e).__name__}"))

    def _non_resource(self, req: Request, gv: tuple[str, str] | None, parts: list[str]) -> Response:
        if req.method != "GET":
            return _json(*status.not_found_path())
        path = req.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", "text/plain")
        if path == "/version":
            return _json(200, discovery.VERSION)
        aggregated = _wants_aggregated(req.header("accept"))
        with_metrics = metrics.served(self.api)
        if path in ("/api", "/apis"):
            if aggregated:
                doc = discovery.aggregated(legacy=path == "/api")
                if path == "/apis" and with_metrics:
                    doc["items"].append(metrics.aggregated_item())
                return _json(200, doc, discovery.AGGREGATED)
            if path == "/api":
                return _json(200, discovery.api_versions())
            doc = discovery.api_group_list()
            if with_metrics:
                doc["groups"].append(metrics.group_doc())
            return _json(200, doc)
        if with_metrics and gv == metrics.GROUP_VERSION and not parts:
            return _json(200, metrics.resource_list())
        if with_metrics and path == f"/apis/{metrics.GROUP}":
            return _json(200, {"kind": "APIGroup", "apiVersion": "v1", **metrics.group_doc()})
        if path == "/openapi/v2":
            if openapiv2.wants_protobuf(req.header("accept")):
                return Response(200, openapiv2.protobuf(), openapiv2.PROTOBUF)
            return _json(200, openapiv2.document())
        if path == "/openapi/v3":
            return _json(200, openapi.root())
        if path.startswith("/openapi/v3/"):
            doc = openapi.for_path(path)
            return _json(200, doc) if doc else _json(*status.not_found_path())
        if gv is not None and not parts and (doc := discovery.resource_list(*gv)):
            return _json(200, doc)
        if path.startswith("/apis/") and len(path.split("/")) == 3:
            doc = discovery.api_group(path.split("/")[2])
            return _json(200, doc) if doc else _json(*status.not_found_path())
        return _json(*status.not_found_path())


def _answer(req: Request, code: int, doc: dict) -> Response:
    """An object or list in Kubernetes' protobuf when the client prefers it, else JSON."""
    if k8sencode.prefers_protobuf(req.header("accept")) and (message := k8sencode.message_of(doc)):
        try:
            return Response(code, k8sencode.encode(doc, message), k8sencode.MEDIA_TYPE)
        except (k8sencode.EncodeError, ValueError, TypeError, AttributeError) as e:  # never worse than JSON
            log.warning("answering %s in JSON: %s does not encode: %s", req.path, message, e)
    return _json(code, doc)


def _warning(text: str) -> str:
    """An RFC 7234 warning as kube-apiserver sends them: `299 - "quoted text"`."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'299 - "{quoted}"'


def _wants_aggregated(accept: str) -> bool:
    for part in accept.split(","):
        params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
        if params.get("g") == "apidiscovery.k8s.io" and params.get("v") == "v2" and \
                params.get("as") == "APIGroupDiscoveryList":
            return True
    return False
