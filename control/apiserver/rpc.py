"""The plumbing of every RPC: request parsing, errors as gRPC statuses, and the gate
(authentication, authorization, audit) around each handler."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar

import grpc
from grpc_status import rpc_status

from control.apiserver import errors, metrics
from control.apiserver.apply import tracking
from control.apiserver.auth.gate import Action, Call, Gate
from control.apiserver.context import ApiContext
from control.client.kinds import Kind

log = logging.getLogger(__name__)
# The call being served, for handlers whose write needs checks of its own (an Apply that creates).
CURRENT_CALL: ContextVar[Call | None] = ContextVar("skiff_current_call", default=None)


def identity(data: bytes) -> bytes:
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


def object_target(r) -> tuple[str, str]:
    return r.object.metadata.namespace, r.object.metadata.name


def request_target(r) -> tuple[str, str]:
    return r.namespace, r.name


def _collection_target(r) -> tuple[str, str]:
    return r.namespace, ""


CREATE = Action("create", object_target, mutating=True, carries_object=True)
UPDATE = Action("update", object_target, mutating=True, carries_object=True)
UPDATE_STATUS = Action("update", object_target, "status", mutating=True, carries_object=True)
GET = Action("get", request_target)
DELETE = Action("delete", request_target, mutating=True)
LIST = Action("list", _collection_target)
WATCH = Action("watch", _collection_target)


class Guarded:
    """A kind's RPC handlers wrapped with the gate: errors become statuses, calls are authorized."""

    def __init__(self, kind: Kind, api: ApiContext) -> None:
        self.kind = kind
        self.gate = Gate(api)

    def unary(self, fn: Callable, action: Action) -> Callable:
        async def handler(request, context):
            if isinstance(request, _Malformed):
                await self._malformed(context, request)
            started, info = time.monotonic(), self._info(action, request)
            call = self.gate.begin(self.kind, action, request)
            try:
                await self.gate.admit(call, self.kind, action, request, context)
                token = CURRENT_CALL.set(call)
                try:
                    with tracking.writing(tracking.Writer(tracking.manager_for("", user_agent(context)))):
                        result = await fn(request)
                finally:
                    CURRENT_CALL.reset(token)
            except errors.ApiError as e:
                await self._fail(call, action, context, e, info, started)
            except (grpc.aio.AbortError, grpc.aio.UsageError):
                raise
            except Exception as e:  # noqa: BLE001 - never a traceback to the client
                await self._fail(call, action, context, _internal(e), info, started)
            self.gate.end(call, grpc.StatusCode.OK, action, context)
            metrics.observe(info, grpc.StatusCode.OK, started)
            return result
        return handler

    def _info(self, action: Action, request) -> metrics.RequestInfo:
        namespace, name = action.target(request)
        if action.verb == "create" and not action.subresource:
            name = ""
        return metrics.request_info(self.kind, action.verb, action.subresource, namespace, name,
                                    bool(getattr(request, "dry_run", False)))

    async def _malformed(self, context, request: _Malformed) -> None:
        """As kube-apiserver, who the caller is matters before what the body says."""
        try:
            self.gate.authenticate(context)
        except errors.ApiError as e:
            await _abort(context, e)
        await _abort(context, request.error)

    async def _fail(self, call: Call, action: Action, context, error: errors.ApiError,
                    info: metrics.RequestInfo, started: float) -> None:
        """Audits the failure before answering, so the log is complete once the caller sees it."""
        self.gate.end(call, error.code, action, context)
        metrics.observe(info, error.code, started)
        await _abort(context, error)

    def streaming(self, fn: Callable[..., AsyncIterator], action: Action) -> Callable:
        async def handler(request, context):
            if isinstance(request, _Malformed):
                await self._malformed(context, request)
            started, info = time.monotonic(), self._info(action, request)
            code, running = grpc.StatusCode.OK, None
            try:
                await self.gate.admit(self.gate.begin(self.kind, action, request), self.kind, action,
                                      request, context)
                running = metrics.longrunning(info)
                running.inc()
                async for item in fn(request, context):
                    yield item
            except errors.ApiError as e:
                code = e.code
                await _abort(context, e)
            except (grpc.aio.AbortError, grpc.aio.UsageError):
                raise
            except Exception as e:  # noqa: BLE001
                code = grpc.StatusCode.INTERNAL
                await _abort(context, _internal(e))
            finally:
                # A stream the client closes ended well: its 200 was sent when it began.
                if running is not None:
                    running.dec()
                metrics.observe(info, code, started)
        return handler

    def exec_stream(self, relay: Callable[[AsyncIterator], AsyncIterator], action: Action,
                    first_name: str = "ExecInput") -> Callable:
        """A bidirectional stream (exec, attach, port-forward): the first message's `start` names the pod;
        nothing is relayed before it is authorized."""
        async def handler(requests, context):
            first = await anext(aiter(requests), None)
            if isinstance(first, _Malformed):
                await self._malformed(context, first)
            if first is None or not first.HasField("start"):
                await _abort(context, errors.bad_request(f"the first {first_name} must carry start", "start"))
            started, info = time.monotonic(), self._info(action, first.start)
            call = self.gate.begin(self.kind, action, first.start)
            running = None
            try:
                await self.gate.admit(call, self.kind, action, first.start, context)
                running = metrics.longrunning(info)
                running.inc()
                async for out in relay(chain(first, requests)):
                    yield out
            except errors.ApiError as e:
                await self._fail(call, action, context, e, info, started)
            except (grpc.aio.AbortError, grpc.aio.UsageError):
                raise
            except Exception as e:  # noqa: BLE001
                await self._fail(call, action, context, _internal(e), info, started)
            finally:
                if running is not None:
                    running.dec()
            self.gate.end(call, grpc.StatusCode.OK, action, context)
            metrics.observe(info, grpc.StatusCode.OK, started)
        return handler


def user_agent(context: grpc.aio.ServicerContext) -> str:
    return next((v for k, v in context.invocation_metadata() or () if k == "user-agent"), "")


async def chain(first, rest: AsyncIterator) -> AsyncIterator:
    yield first
    async for item in rest:
        yield item
