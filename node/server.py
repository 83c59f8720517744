"""skiff.v1.NodeAgent: what the agent serves on its node (logs, exec, stats), the kubelet's API.

Containers are found through a ContainerLookup; the kubelet passes its own (it knows its
pods), and CRILabelLookup finds them from the io.kubernetes.* labels on CRI containers.
Logs are read by node/logs.py; who may call is node/serverauth.py's to decide.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import grpc

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
from node.logs import LogReader
from node.serverauth import MastersOnly
from node.stats import StatsProvider
from skiff.v1 import node_agent_pb2 as na_pb
from skiff.v1 import node_agent_pb2_grpc as na_grpc


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


async def serve(listen: str, servicer: NodeAgentServicer, credentials: grpc.ServerCredentials | None = None
                ) -> tuple[grpc.aio.Server, int]:
    """Starts a gRPC server with the NodeAgent service on listen (HOST:PORT); returns it and its port.

    With credentials it serves TLS only, to callers whose client certificate is in system:masters."""
    server = grpc.aio.server(interceptors=[MastersOnly()] if credentials else None)
    na_grpc.add_NodeAgentServicer_to_server(servicer, server)
    if credentials:
        port = server.add_secure_port(listen, credentials)
    else:
        port = server.add_insecure_port(listen)
    if port == 0:
        raise OSError(f"cannot listen on {listen}")
    await server.start()
    return server, port
