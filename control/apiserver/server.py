"""The gRPC server: one service per kind, built from the kind table, plus health and reflection.

Every method of a kind's service is authenticated and authorized (watches and the pod proxy too);
health and reflection stay open: health is /healthz (open to all in Kubernetes too) and reflection
shows only the API schema, as discovery does."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from control.apiserver import errors, pods, reviews
from control.apiserver.auth.gate import Action, Call, Gate
from control.apiserver.context import ApiContext
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.listing import Lister
from control.client.kinds import KINDS, Kind
from skiff.v1 import meta_pb2, node_agent_pb2, pod_pb2, services_pb2

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def _identity(data: bytes) -> bytes:
    return data


class _Malformed:
    def __init__(self, type_name: str, error: Exception) -> None:
        self.error = errors.bad_request(f"malformed {type_name}: {error}")


def parser(message_type) -> Callable[[bytes], object]:
    """Deserializes a request, deferring a decode failure to the handler as INVALID_ARGUMENT
    (grpc would otherwise answer UNKNOWN)."""
    def parse(data: bytes):
        try:
            return message_type.FromString(data)
        except Exception as e:  # noqa: BLE001 - any decode failure is the client's
            return _Malformed(message_type.DESCRIPTOR.full_name, e)
    return parse


async def _abort(context: grpc.aio.ServicerContext, err: errors.ApiError) -> None:
    await context.abort_with_status(rpc_status.to_status(err.to_status()))


def _internal(e: BaseException) -> errors.ApiError:
    log.error("internal error: %s", "".join(traceback.format_exception(e)))
    return errors.ApiError(grpc.StatusCode.INTERNAL, f"internal error: {type(e).__name__}: {e}")


def _object_target(r) -> tuple[str, str]:
    return r.object.metadata.namespace, r.object.metadata.name


def _request_target(r) -> tuple[str, str]:
    return r.namespace, r.name


def _collection_target(r) -> tuple[str, str]:
    return r.namespace, ""


def _binding_target(r) -> tuple[str, str]:
    return r.metadata.namespace, r.metadata.name


def _node_target(r) -> tuple[str, str]:
    return "", r.name


CREATE = Action("create", _object_target, mutating=True, carries_object=True)
UPDATE = Action("update", _object_target, mutating=True, carries_object=True)
UPDATE_STATUS = Action("update", _object_target, "status", mutating=True, carries_object=True)
GET = Action("get", _request_target)
DELETE = Action("delete", _request_target, mutating=True)
LIST = Action("list", _collection_target)
WATCH = Action("watch", _collection_target)
BIND = Action("create", _binding_target, "binding", mutating=True)
LOGS = Action("get", _request_target, "log")
EXEC = Action("create", _request_target, "exec", mutating=True)
STATS = Action("get", _node_target, "stats")


class Guarded:
    """A kind's RPC handlers wrapped with the gate: errors become statuses, calls are authorized."""

    def __init__(self, kind: Kind, api: ApiContext) -> None:
        self.kind = kind
        self.gate = Gate(api)

    def unary(self, fn: Callable, action: Action) -> Callable:
        async def handler(request, context):
            if isinstance(request, _Malformed):
                await self._malformed(context, request)
            call = self.gate.begin(self.kind, action, request)
            try:
                await self.gate.admit(call, self.kind, action, request, context)
                result = await fn(request)
            except errors.ApiError as e:
                await self._fail(call, action, context, e)
            except (grpc.aio.AbortError, grpc.aio.UsageError):
                raise
            except Exception as e:  # noqa: BLE001 - never a traceback to the client
                await self._fail(call, action, context, _internal(e))
            self.gate.end(call, grpc.StatusCode.OK, action, context)
            return result
        return handler

    async def _malformed(self, context, request: _Malformed) -> None:
        """As kube-apiserver, who the caller is matters before what the body says."""
        try:
            self.gate.authenticate(context)
        except errors.ApiError as e:
            await _abort(context, e)
        await _abort(context, request.error)

    async def _fail(self, call: Call, action: Action, context, error: errors.ApiError) -> None:
        """Audits the failure before answering, so the log is complete once the caller sees it."""
        self.gate.end(call, error.code, action, context)
        await _abort(context, error)

    def streaming(self, fn: Callable[..., AsyncIterator], action: Action) -> Callable:
        async def handler(request, context):
            if isinstance(request, _Malformed):
                await self._malformed(context, request)
            try:
                await self.gate.admit(self.gate.begin(self.kind, action, request), self.kind, action,
                                      request, context)
                async for item in fn(request, context):
                    yield item
            except errors.ApiError as e:
                await _abort(context, e)
            except (grpc.aio.AbortError, grpc.aio.UsageError):
                raise
            except Exception as e:  # noqa: BLE001
                await _abort(context, _internal(e))
        return handler

    def exec_stream(self, proxy) -> Callable:
        """ExecStream: the first ExecInput names the pod; nothing is proxied before it is authorized."""
        async def handler(requests, context):
            first = await anext(aiter(requests), None)
            if isinstance(first, _Malformed):
                await self._malformed(context, first)
            if first is None or not first.HasField("start"):
                await _abort(context, errors.bad_request("the first ExecInput must carry start", "start"))
            call = self.gate.begin(self.kind, EXEC, first.start)
            try:
                await self.gate.admit(call, self.kind, EXEC, first.start, context)
                async for out in proxy.exec_stream(_chain(first, requests)):
                    yield out
            except errors.ApiError as e:
                await self._fail(call, EXEC, context, e)
            except (grpc.aio.AbortError, grpc.aio.UsageError):
                raise
            except Exception as e:  # noqa: BLE001
                await self._fail(call, EXEC, context, _internal(e))
            self.gate.end(call, grpc.StatusCode.OK, EXEC, context)
        return handler


async def _chain(first, rest: AsyncIterator) -> AsyncIterator:
    yield first
    async for item in rest:
        yield item


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
        "Get": method(get, GET, meta_pb2.GetRequest, obj.SerializeToString),
        "List": method(lister.list, LIST, meta_pb2.ListRequest, kind.list_message.SerializeToString),
        "Update": method(update, UPDATE, req, obj.SerializeToString),
        "UpdateStatus": method(update_status, UPDATE_STATUS, req, obj.SerializeToString),
        "Delete": method(delete, DELETE, meta_pb2.DeleteRequest, obj.SerializeToString),
        # Watch events are serialized once in the cache and shared by every watcher.
        "Watch": grpc.unary_stream_rpc_method_handler(guard.streaming(lister.watch, WATCH),
                                                      parser(meta_pb2.WatchRequest), _identity),
    }
    methods.update(_extra_methods(kind, api, guard))
    return grpc.method_handlers_generic_handler(kind.full_service_name, methods)


def _extra_methods(kind: Kind, api: ApiContext, guard: Guarded) -> dict[str, grpc.RpcMethodHandler]:
    if kind.kind == "Pod":
        proxy = api.agents

        async def bind(r):
            return await pods.bind(api, r)

        async def logs(r, _context):
            async for chunk in proxy.logs(r):
                yield chunk

        return {
            "Bind": grpc.unary_unary_rpc_method_handler(guard.unary(bind, BIND), parser(pod_pb2.Binding),
                                                        pod_pb2.Pod.SerializeToString),
            "Logs": grpc.unary_stream_rpc_method_handler(guard.streaming(logs, LOGS),
                                                         parser(node_agent_pb2.LogsRequest),
                                                         node_agent_pb2.LogChunk.SerializeToString),
            "Exec": grpc.unary_unary_rpc_method_handler(guard.unary(proxy.exec, EXEC),
                                                        parser(node_agent_pb2.ExecRequest),
                                                        node_agent_pb2.ExecResponse.SerializeToString),
            "ExecStream": grpc.stream_stream_rpc_method_handler(
                guard.exec_stream(proxy), parser(node_agent_pb2.ExecInput),
                node_agent_pb2.ExecOutput.SerializeToString),
        }
    if kind.kind == "Node":
        return {"Stats": grpc.unary_unary_rpc_method_handler(
            guard.unary(api.agents.stats, STATS), parser(node_agent_pb2.StatsRequest),
            node_agent_pb2.StatsSummary.SerializeToString)}
    return {}


def build_server(api: ApiContext) -> tuple[grpc.aio.Server, health.HealthServicer]:
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", 512 * 1024 * 1024),
        ("grpc.so_reuseport", 0),
    ])
    server.add_generic_rpc_handlers([*(kind_service(k, api) for k in KINDS.values()), *reviews.review_services(api)])
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [services_pb2.DESCRIPTOR.services_by_name[k.service].full_name for k in KINDS.values()]
    reflection.enable_server_reflection([*names, *reviews.SERVICE_NAMES,
                                         health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                                         reflection.SERVICE_NAME], server)
    for name in names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    return server, health_servicer
