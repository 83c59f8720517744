"""The gRPC server: one service per kind, built from the kind table, plus health and reflection.

Every method of a kind's service is authenticated and authorized (watches and the pod proxy too);
health, version and reflection stay open: health is /healthz and version /version (open to all in
Kubernetes too), and reflection shows only the API schema, as discovery does."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from control.apiserver import errors, metricsapi, reviews, version
from control.apiserver.applyrpc import APPLY, apply_handler
from control.apiserver.context import ApiContext
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.listing import Lister
from control.apiserver.registry import strategy_for
from control.apiserver.rpc import (
    CREATE,
    DELETE,
    GET,
    LIST,
    UPDATE,
    UPDATE_STATUS,
    WATCH,
    Guarded,
    identity,
    parser,
)
from control.apiserver.scale import scale_methods
from control.client.kinds import KINDS, Kind
from skiff.v1 import requests_pb2, services_pb2

MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def kind_service(kind: Kind, api: ApiContext) -> grpc.GenericRpcHandler:
    handlers = ResourceHandlers(kind, api)
    lister = Lister(kind, api)
    guard = Guarded(kind, api)
    req = kind.request_message
    obj = kind.message

    async def create(r):
        return await handlers.create(r.object, r.dry_run)

    async def get(r):
        return await handlers.get(r.namespace, r.name)

    async def update(r):
        return await handlers.update(r.object, r.dry_run)

    async def update_status(r):
        if not kind.has_status:  # no status subresource: Kubernetes answers 404 for its path
            raise errors.ApiError(grpc.StatusCode.NOT_FOUND, "the server could not find the requested resource")
        return await handlers.update(r.object, r.dry_run, status_only=True)

    async def delete(r):
        return await handlers.delete(r)

    def method(fn, action, request_type, response):
        return grpc.unary_unary_rpc_method_handler(guard.unary(fn, action), parser(request_type), response)

    methods = {
        "Create": method(create, CREATE, req, obj.SerializeToString),
        "Get": method(get, GET, requests_pb2.GetRequest, obj.SerializeToString),
        "List": method(lister.list_serialized, LIST, requests_pb2.ListRequest, identity),
        "Update": method(update, UPDATE, req, obj.SerializeToString),
        "UpdateStatus": method(update_status, UPDATE_STATUS, req, obj.SerializeToString),
        "Delete": method(delete, DELETE, requests_pb2.DeleteRequest, obj.SerializeToString),
        # Watch events are serialized once in the cache and shared by every watcher.
        "Watch": grpc.unary_stream_rpc_method_handler(guard.streaming(lister.watch, WATCH),
                                                      parser(requests_pb2.WatchRequest), identity),
        "Apply": method(apply_handler(handlers, guard.gate), APPLY, requests_pb2.ApplyRequest, obj.SerializeToString),
    }
    methods.update(strategy_for(kind).rpc_methods(api, guard))
    if kind.scale:
        methods.update(scale_methods(handlers, guard))
    return grpc.method_handlers_generic_handler(kind.full_service_name, methods)


def build_server(api: ApiContext) -> tuple[grpc.aio.Server, health.HealthServicer]:
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", 512 * 1024 * 1024),
        ("grpc.so_reuseport", 0),
        # Clients ping every 30 s (CHANNEL_OPTIONS) to find a dead connection; gRPC's default would answer
        # pings that frequent on a quiet connection with GOAWAY too_many_pings.
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 20_000),
        ("grpc.keepalive_permit_without_calls", 1),
    ])
    server.add_generic_rpc_handlers([*(kind_service(k, api) for k in KINDS.values()), *reviews.review_services(api),
                                     version.service()])
    extra = [*reviews.SERVICE_NAMES, version.SERVICE_NAME]
    if api.resource_metrics is not None:
        server.add_generic_rpc_handlers(metricsapi.metrics_services(api, api.resource_metrics))
        extra += metricsapi.SERVICE_NAMES
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [services_pb2.DESCRIPTOR.services_by_name[k.service].full_name for k in KINDS.values()]
    reflection.enable_server_reflection([*names, *extra,
                                         health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                                         reflection.SERVICE_NAME], server)
    for name in names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return server, health_servicer
