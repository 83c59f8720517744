"""skiff.v1.NodeAgent: what the agent serves on its node (logs, exec, stats), the kubelet's API.

Containers are found through a ContainerLookup; the kubelet passes its own (it knows its
pods), and CRILabelLookup finds them from the io.kubernetes.* labels on CRI containers.
Logs are read from the CRI log files (`<RFC3339Nano> <stdout|stderr> <F|P> <text>` lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import BinaryIO, Protocol

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from cri.runtime.v1 import api_pb2 as cri_pb
from node import portforward
from node.cri import (
    CONTAINER_NAME_LABEL,
    CRI,
    POD_NAME_LABEL,
    POD_NAMESPACE_LABEL,
    CRIError,
    CRITimeout,
    ExecSession,
)
from node.stats import StatsProvider
from skiff.v1 import node_agent_pb2 as na_pb
from skiff.v1 import node_agent_pb2_grpc as na_grpc

FOLLOW_POLL = 0.1  # seconds between looks at a followed log file
RUNNING_CHECK = 1.0  # seconds between checks whether a followed container still runs
READ_CHUNK = 64 * 1024
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class ContainerRef:
    container_id: str
    log_path: str


class LookupFailed(Exception):
    """The pod or container is not there (or ambiguous); `code` is the gRPC status to answer with."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class ContainerLookup(Protocol):
    async def find_container(self, namespace: str, pod: str, container: str, previous: bool) -> ContainerRef:
        """The current (or previous) instance of a container; container may be empty for one-container pods."""
        ...


class CRILabelLookup:
    """Finds containers by their CRI labels; the newest instance is current, the one before it previous."""

    def __init__(self, cri: CRI) -> None:
        self.cri = cri

    async def find_container(self, namespace: str, pod: str, container: str, previous: bool) -> ContainerRef:
        labels = {POD_NAMESPACE_LABEL: namespace, POD_NAME_LABEL: pod}
        found = await self.cri.list_containers(labels=labels)
        if not found:
            raise LookupFailed(grpc.StatusCode.NOT_FOUND, f'pods "{pod}" not found')
        names = sorted({c.labels.get(CONTAINER_NAME_LABEL, c.metadata.name) for c in found})
        if not container:
            if len(names) != 1:
                raise LookupFailed(grpc.StatusCode.INVALID_ARGUMENT,
                                   f"a container name must be specified for pod {pod}, "
                                   f"choose one of: [{' '.join(names)}]")
            container = names[0]
        instances = sorted((c for c in found if c.labels.get(CONTAINER_NAME_LABEL, c.metadata.name) == container),
                           key=lambda c: (c.metadata.attempt, c.created_at), reverse=True)
        if not instances:
            raise LookupFailed(grpc.StatusCode.INVALID_ARGUMENT,
                               f"container {container} is not valid for pod {pod}")
        if previous:
            if len(instances) < 2:
                raise LookupFailed(grpc.StatusCode.NOT_FOUND,
                                   f'previous terminated container "{container}" in pod "{pod}" not found')
            instances = instances[1:]
        status = await self.cri.container_status(instances[0].id)
        return ContainerRef(instances[0].id, status.log_path)


# ---- CRI log files ----

@dataclass(frozen=True)
class LogRecord:
    timestamp: str
    stream: str
    partial: bool
    content: bytes


def parse_log_line(line: bytes) -> LogRecord | None:
    """One CRI log line (without its newline); None when it is not in the CRI format."""
    parts = line.split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr"):
        return None
    if len(parts) == 3:  # an empty full line: the tag is the last field
        parts.append(b"")
    tag = parts[2].split(b":")[0]
    return LogRecord(parts[0].decode(), parts[1].decode(), tag == b"P", parts[3])


def timestamp_ns(text: str) -> int:
    """RFC3339Nano to Unix nanoseconds with every digit kept, so `since` is compared as the kubelet does."""
    date, sep, rest = text.partition(".")
    digits = len(rest) - len(rest.lstrip("0123456789")) if sep else 0
    fraction, zone = rest[:digits], rest[digits:]
    whole = datetime.datetime.fromisoformat((date + zone if sep else date).replace("Z", "+00:00"))
    return (whole - EPOCH) // datetime.timedelta(seconds=1) * 10**9 + int((fraction + "000000000")[:9])


def since_ns(request: na_pb.LogsRequest, now: datetime.datetime) -> int | None:
    """The instant before which lines are left out, as the kubelet takes it: sinceSeconds back from the
    agent's own clock (the one the runtime stamps lines with), or sinceTime when that is later."""
    since = None
    if request.HasField("since_seconds"):
        since = (now - EPOCH) // datetime.timedelta(microseconds=1) * 1000 - request.since_seconds * 10**9
    if request.HasField("since_time"):
        at = request.since_time.ToNanoseconds()
        since = at if since is None else max(since, at)
    return since


def format_record(record: LogRecord, timestamps: bool) -> bytes:
    out = record.content if record.partial else record.content + b"\n"
    return (record.timestamp.encode() + b" " + out) if timestamps else out


def _complete_lines(data: bytes) -> tuple[list[bytes], bytes]:
    *lines, rest = data.split(b"\n")
    return lines, rest


def tail_offset(f: BinaryIO, lines: int, block: int = READ_CHUNK) -> int:
    """Where the last `lines` complete lines of f start, found reading backwards from the end."""
    pos = f.seek(0, os.SEEK_END)
    wanted = lines + 1  # the newline that ends the line before the first one wanted
    while pos > 0:
        size = min(block, pos)
        pos -= size
        f.seek(pos)
        chunk = f.read(size)
        index = len(chunk)
        while wanted and (index := chunk.rfind(b"\n", 0, index)) >= 0:
            wanted -= 1
            if wanted == 0:
                return pos + index + 1
    return 0


class LogReader:
    """Reads one CRI log file as kubectl logs shows it (tail, since, timestamps, follow)."""

    def __init__(self, request: na_pb.LogsRequest, now: Callable[[], datetime.datetime] | None = None) -> None:
        self.request = request
        self.since = since_ns(request, (now or (lambda: datetime.datetime.now(datetime.UTC)))())

    def render(self, lines: list[bytes]) -> bytes:
        out = []
        for line in lines:
            record = parse_log_line(line)
            if record is None:
                continue
            if self.since is not None and timestamp_ns(record.timestamp) < self.since:
                continue
            out.append(format_record(record, self.request.timestamps))
        return b"".join(out)

    def initial(self, data: bytes) -> tuple[bytes, bytes]:
        """The rendered existing content (tail applied) and the unterminated remainder."""
        lines, rest = _complete_lines(data)
        if self.request.HasField("tail_lines"):
            lines = lines[-self.request.tail_lines:] if self.request.tail_lines > 0 else []
        return self.render(lines), rest

    async def stream(self, path: str, running: Callable[[], Awaitable[bool]]) -> AsyncIterator[bytes]:
        with open(path, "rb") as f:  # noqa: ASYNC230 - a local log file; reads are short
            if self.request.HasField("tail_lines"):
                f.seek(tail_offset(f, self.request.tail_lines))
            chunk, rest = self.initial(f.read())
            if chunk:
                yield chunk
            if not self.request.follow:
                return
            async for chunk in self._follow(f, rest, running):
                yield chunk

    async def _follow(self, f, rest: bytes, running: Callable[[], Awaitable[bool]]) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        next_check = loop.time() + RUNNING_CHECK
        while True:
            data = f.read(READ_CHUNK)
            if data:
                lines, rest = _complete_lines(rest + data)
                chunk = self.render(lines)
                if chunk:
                    yield chunk
                continue
            if loop.time() >= next_check:
                if not await running():
                    if not f.read(1):  # nothing written since the container stopped
                        return
                    f.seek(-1, os.SEEK_CUR)
                next_check = loop.time() + RUNNING_CHECK
            await asyncio.sleep(FOLLOW_POLL)


# ---- the service ----

class NodeAgentServicer(na_grpc.NodeAgentServicer):
    def __init__(self, cri: CRI, stats: StatsProvider, lookup: ContainerLookup | None = None) -> None:
        self.cri = cri
        self.stats = stats
        self.lookup = lookup or CRILabelLookup(cri)

    async def _find(self, context: grpc.aio.ServicerContext, namespace: str, pod: str, container: str,
                    previous: bool = False) -> ContainerRef:
        if not pod:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "name: Required value: pod name is required")
        try:
            return await self.lookup.find_container(namespace or "default", pod, container, previous)
        except LookupFailed as e:
            await context.abort(e.code, str(e))
        except CRIError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(e))
        raise AssertionError("unreachable")

    async def _running(self, container_id: str) -> bool:
        try:
            return (await self.cri.container_status(container_id)).state == cri_pb.CONTAINER_RUNNING
        except CRIError:
            return False

    async def Logs(self, request: na_pb.LogsRequest,  # noqa: N802 - gRPC method name
                   context: grpc.aio.ServicerContext) -> AsyncIterator[na_pb.LogChunk]:
        if request.HasField("tail_lines") and request.tail_lines < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "tailLines: Invalid value: must be >= 0")
        if request.HasField("since_seconds") and request.since_seconds < 1:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "sinceSeconds: Invalid value: must be >= 1")
        ref = await self._find(context, request.namespace, request.name, request.container, request.previous)
        try:
            async for chunk in LogReader(request).stream(ref.log_path, lambda: self._running(ref.container_id)):
                yield na_pb.LogChunk(data=chunk)
        except FileNotFoundError:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"log file of container {ref.container_id} not found")

    async def _runnable(self, context: grpc.aio.ServicerContext, start: na_pb.ExecRequest) -> str:
        if not start.command:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "command: Required value")
        ref = await self._find(context, start.namespace, start.name, start.container)
        if not await self._running(ref.container_id):
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"container {start.container or ref.container_id[:12]} is not running")
        return ref.container_id

    async def Exec(self, request: na_pb.ExecRequest,  # noqa: N802 - gRPC method name
                   context: grpc.aio.ServicerContext) -> na_pb.ExecResponse:
        if request.timeout_seconds < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "timeoutSeconds: Invalid value: must be >= 0")
        container_id = await self._runnable(context, request)
        try:
            r = await self.cri.exec_sync(container_id, list(request.command), timeout=request.timeout_seconds)
        except CRITimeout as e:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(e))
        except CRIError as e:
            await context.abort(grpc.StatusCode.UNKNOWN, str(e))
        return na_pb.ExecResponse(stdout=r.stdout, stderr=r.stderr, exit_code=r.exit_code)

    async def ExecStream(self, request_iterator: AsyncIterator[na_pb.ExecInput],  # noqa: N802
                         context: grpc.aio.ServicerContext) -> AsyncIterator[na_pb.ExecOutput]:
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.HasField("start"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "start: Required value: the first message "
                                "of an exec stream names the pod, container and command")
        container_id = await self._runnable(context, first.start)
        try:
            session = await self.cri.exec_stream(container_id, list(first.start.command), tty=first.tty)
        except CRIError as e:
            await context.abort(grpc.StatusCode.UNKNOWN, str(e))
        async with session:
            async for out in _serve_session(first, request_iterator, session):
                yield out
        if session.exit_code is None or session.exit_code < 0:
            # the command never ran (not found, not executable) or the runtime dropped the session
            await context.abort(grpc.StatusCode.UNKNOWN, session.error or "exec session ended without an exit status")
        yield na_pb.ExecOutput(exit_code=session.exit_code)

    async def Attach(self, request_iterator: AsyncIterator[na_pb.ExecInput],  # noqa: N802
                     context: grpc.aio.ServicerContext) -> AsyncIterator[na_pb.ExecOutput]:
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.HasField("start"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "start: Required value: the first message "
                                "of an attach stream names the pod and container")
        start = first.start
        ref = await self._find(context, start.namespace, start.name, start.container)
        if not await self._running(ref.container_id):
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"container {start.container or ref.container_id[:12]} is not running")
        try:
            session = await self.cri.attach_stream(ref.container_id, stdin=first.stdin_open, tty=first.tty)
        except CRIError as e:
            await context.abort(grpc.StatusCode.UNKNOWN, str(e))
        async with session:
            async for out in _serve_session(first, request_iterator, session):
                yield out
        if session.exit_code is not None and session.exit_code < 0:
            await context.abort(grpc.StatusCode.UNKNOWN, session.error or "attach session broke")
        yield na_pb.ExecOutput(exit_code=session.exit_code or 0)

    async def PortForward(self, request_iterator: AsyncIterator[na_pb.PortForwardInput],  # noqa: N802
                          context: grpc.aio.ServicerContext) -> AsyncIterator[na_pb.PortForwardOutput]:
        first = await anext(aiter(request_iterator), None)
        if first is None or not first.HasField("start"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "start: Required value: the first message "
                                "of a port-forward stream names the pod and port")
        start = first.start
        if not 0 < start.port < 65536:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"invalid port {start.port}: must be between 1 and 65535, inclusive")
        netns = await self._pod_netns(context, start.namespace or "default", start.name)
        try:
            reader, writer = await portforward.connect(netns, start.port)
        except (portforward.ForwardError, OSError) as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                f"error forwarding port {start.port} to pod {start.name}: {e}")
        pump = asyncio.create_task(portforward.pump_in(_chain(first, request_iterator), writer))
        try:
            async for data in portforward.read_out(reader):
                yield na_pb.PortForwardOutput(data=data)
        except (ConnectionError, OSError):
            pass
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
            writer.close()

    async def _pod_netns(self, context: grpc.aio.ServicerContext, namespace: str, pod: str) -> str:
        """The network namespace of the pod's ready sandbox (/proc/PID/ns/net of its pause process)."""
        try:
            sandboxes = await self.cri.list_pod_sandboxes(
                labels={POD_NAMESPACE_LABEL: namespace, POD_NAME_LABEL: pod}, state=cri_pb.SANDBOX_READY)
            pid = await self.cri.sandbox_pid(sandboxes[0].id) if sandboxes else 0
        except CRIError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(e))
        if not sandboxes:
            await context.abort(grpc.StatusCode.NOT_FOUND, f'pods "{pod}" not found')
        if not pid:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"the sandbox of pod {pod} has no process")
        return f"/proc/{pid}/ns/net"

    async def Stats(self, request: na_pb.StatsRequest,  # noqa: N802 - gRPC method name
                    context: grpc.aio.ServicerContext) -> na_pb.StatsSummary:
        try:
            return await self.stats.summary()
        except CRIError as e:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(e))
        raise AssertionError("unreachable")


async def _chain(first, rest: AsyncIterator) -> AsyncIterator:
    yield first
    async for message in rest:
        yield message


async def _serve_session(first: na_pb.ExecInput, rest: AsyncIterator[na_pb.ExecInput],
                         session: ExecSession) -> AsyncIterator[na_pb.ExecOutput]:
    """The session's output while its input is pumped in."""
    pump = asyncio.create_task(_pump_stdin(first, rest, session))
    try:
        async for stream, data in session.output():
            yield na_pb.ExecOutput(**{stream: data})
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


async def _pump_stdin(first: na_pb.ExecInput, rest: AsyncIterator[na_pb.ExecInput], session: ExecSession) -> None:
    """Forwards stdin and terminal resizes; close_stdin, or the client ending its side of the stream,
    is the command's EOF.

    Not with a TTY: there EOF is typed in-band (^D), and closing the console's input makes the
    runtime drop its output."""
    async for message in _chain(first, rest):
        if message.HasField("resize"):
            await session.resize(message.resize.width, message.resize.height)
        if message.stdin:
            await session.write_stdin(message.stdin)
        if message.close_stdin:
            break
    if not first.tty:
        await session.close_stdin()


# ---- TLS: only the apiserver (a kube-apiserver-kubelet-client certificate in system:masters) may call ----

MASTERS = "system:masters"


@functools.lru_cache(maxsize=64)
def _subject(pem: bytes) -> tuple[str, tuple[str, ...]]:
    """(CN, O...) of a client certificate: Kubernetes' user and groups."""
    name = x509.load_pem_x509_certificate(pem).subject
    cn = next((str(a.value) for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)), "")
    return cn, tuple(str(a.value) for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))


async def _authorize(context: grpc.aio.ServicerContext, method: str) -> None:
    pems = context.auth_context().get("x509_pem_cert")
    if not pems:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "Unauthorized: a client certificate is required")
    user, groups = _subject(pems[0])
    if MASTERS not in groups:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                            f"Forbidden (user={user}, groups={list(groups)}, method={method}): "
                            f"the node agent serves only members of {MASTERS}")


def _guarded(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    """The same handler, authorizing the caller before the method runs."""
    if handler.unary_unary:
        async def unary_unary(request, context):
            await _authorize(context, method)
            return await handler.unary_unary(request, context)
        return grpc.unary_unary_rpc_method_handler(unary_unary, handler.request_deserializer,
                                                   handler.response_serializer)
    if handler.unary_stream:
        async def unary_stream(request, context):
            await _authorize(context, method)
            async for response in handler.unary_stream(request, context):
                yield response
        return grpc.unary_stream_rpc_method_handler(unary_stream, handler.request_deserializer,
                                                    handler.response_serializer)
    if handler.stream_stream:
        async def stream_stream(requests, context):
            await _authorize(context, method)
            async for response in handler.stream_stream(requests, context):
                yield response
        return grpc.stream_stream_rpc_method_handler(stream_stream, handler.request_deserializer,
                                                     handler.response_serializer)
    raise TypeError(f"{method}: unsupported handler type")


class _MastersOnly(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        return _guarded(handler, handler_call_details.method) if handler else handler


def server_credentials(cert_file: str, key_file: str, client_ca_file: str) -> grpc.ServerCredentials:
    """The agent's serving certificate, requiring a client certificate signed by the cluster CA."""
    def read(path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()
    return grpc.ssl_server_credentials([(read(key_file), read(cert_file))], root_certificates=read(client_ca_file),
                                       require_client_auth=True)


async def serve(listen: str, servicer: NodeAgentServicer, credentials: grpc.ServerCredentials | None = None
                ) -> tuple[grpc.aio.Server, int]:
    """Starts a gRPC server with the NodeAgent service on listen (HOST:PORT); returns it and its port.

    With credentials it serves TLS only, to callers whose client certificate is in system:masters."""
    server = grpc.aio.server(interceptors=[_MastersOnly()] if credentials else None)
    na_grpc.add_NodeAgentServicer_to_server(servicer, server)
    if credentials:
        port = server.add_secure_port(listen, credentials)
    else:
        port = server.add_insecure_port(listen)
    if port == 0:
        raise OSError(f"cannot listen on {listen}")
    await server.start()
    return server, port
