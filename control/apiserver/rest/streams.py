"""The pod streaming subresources over REST, relayed to the node's agent as the gRPC calls are:
`log` (a chunked text/plain body), `exec` and `attach` (WebSocket, v5.channel.k8s.io / v4.channel.k8s.io:
one channel byte per message, 0 stdin, 1 stdout, 2 stderr, 3 the Status that ends it, 4 terminal
resizes; v5's 255 closes a channel), `portforward` (WebSocket, v4.channel.k8s.io as the kubelet serves
it: per port a data and an error channel, each opened by the port number).

Authorization and the pod's checks happen before the protocol switch, so their failures are plain
Status answers; once switched, a failure is the Status on the error channel."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import struct
from collections.abc import AsyncIterator, Callable

import grpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.auth.gate import Action
from control.apiserver.context import ApiContext
from control.apiserver.rest import spdy, status
from control.apiserver.rest.http import Request, Response
from control.apiserver.rest.routes import Route
from control.apiserver.rest.websocket import (
    WebSocket,
    WebSocketClosed,
    handshake_headers,
    is_upgrade,
    offered_protocols,
)
from control.apiserver.rpc import request_target
from control.apiserver.storage import NotFoundError
from control.apiserver.validation.podlogs import check_pod_log_options
from control.client.kinds import KINDS
from skiff.v1 import node_agent_pb2 as na

POD = KINDS["Pod"]
SUBRESOURCES = ("log", "exec", "attach", "portforward")
CHANNEL_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
PORTFORWARD_PROTOCOLS = ("v4.channel.k8s.io", "")  # the kubelet's WebSocket port forwarding: "" when none is asked
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
_TRUE = ("true", "1")


def _flag(req: Request, name: str) -> bool:
    return req.arg(name).lower() in _TRUE


def _int(req: Request, name: str) -> int | None:
    text = req.arg(name)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise errors.bad_request(f"{name}: Invalid value: \"{text}\": must be an integer") from None


def _since_time(text: str) -> datetime.datetime:
    """sinceTime (RFC 3339, with its zone): the agent compares it with its own log timestamps."""
    try:
        then = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        then = None
    if then is None or then.tzinfo is None:
        raise errors.bad_request(f'sinceTime: Invalid value: "{text}": must be an RFC3339 time')
    return then


def log_request(req: Request, route: Route) -> na.LogsRequest:
    """PodLogOptions from the query, for the agent; sinceTime stays the instant it names."""
    request = na.LogsRequest(namespace=route.namespace, name=route.name, follow=_flag(req, "follow"),
                             previous=_flag(req, "previous"), timestamps=_flag(req, "timestamps"))
    for name, field in (("tailLines", "tail_lines"), ("sinceSeconds", "since_seconds")):
        value = _int(req, name)
        if value is not None:
            setattr(request, field, value)
    if req.arg("sinceTime"):
        request.since_time.FromDatetime(_since_time(req.arg("sinceTime")))
    return request


class Streams:
    def __init__(self, api: ApiContext, guarded: Callable) -> None:
        self.api = api
        self.guarded = guarded  # Resources.guarded: authorize, run, audit

    async def serve(self, req: Request, route: Route, caller) -> Response:
        if route.subresource == "log":
            if req.method != "GET":
                raise errors.ApiError(grpc.StatusCode.UNIMPLEMENTED, f"the server does not allow this "
                                      f"method on the requested resource ({req.method})")
            return await self._log(req, route, caller)
        verb = "get" if req.method == "GET" else "create"
        action = Action(verb, request_target, route.subresource, mutating=True)
        target = na.ExecRequest(namespace=route.namespace, name=route.name)
        return await self.guarded(POD, action, target, caller, lambda _call: self._switch(req, route))

    async def _pod(self, route: Route) -> Message:
        try:
            pod = await self.api.storage.get(POD, route.namespace, route.name)
        except NotFoundError:
            raise errors.not_found("pods", route.name) from None
        if not pod.spec.node_name:
            raise errors.bad_request(f"pod {route.name} does not have a host assigned")
        return pod

    async def _container(self, route: Route, given: str) -> str:
        pod = await self._pod(route)
        names = [c.name for c in pod.spec.containers]
        if not given:
            if len(names) == 1:
                return names[0]
            raise errors.bad_request(f"a container name must be specified for pod {route.name}, "
                                     f"choose one of: [{' '.join(names)}]")
        every = names + [c.name for c in (*pod.spec.init_containers, *pod.spec.ephemeral_containers)]
        if given not in every:
            raise errors.bad_request(f"container {given} is not valid for pod {route.name}")
        return given

    # -- log ------------------------------------------------------------------------------------------

    async def _log(self, req: Request, route: Route, caller) -> Response:
        request = log_request(req, route)
        limit = _int(req, "limitBytes")
        action = Action("get", request_target, "log")

        async def opened(_call) -> Response:
            check_pod_log_options(request, limit)
            request.container = await self._container(route, req.arg("container"))
            return Response(200, content_type="text/plain", stream=self._log_chunks(request, limit))
        return await self.guarded(POD, action, request, caller, opened)

    async def _log_chunks(self, request: na.LogsRequest, limit: int | None) -> AsyncIterator[bytes]:
        if limit is not None and limit <= 0:
            return
        try:
            async for chunk in self.api.agents.logs(request):
                data = chunk.data if limit is None else chunk.data[:limit]
                yield data
                if limit is not None:
                    limit -= len(data)
                    if limit <= 0:
                        return
        except errors.ApiError:
            return  # the body already started: the stream just ends

    # -- the protocol switch --------------------------------------------------------------------------

    async def _switch(self, req: Request, route: Route) -> Response:
        if route.subresource == "portforward" and (spdy_switch := await self._spdy(req, route)) is not None:
            return spdy_switch
        if route.subresource == "portforward":
            await self._pod(route)
        else:
            await self._container(route, req.arg("container"))
        if not is_upgrade(req):
            raise errors.bad_request("Upgrade request required")
        supported = PORTFORWARD_PROTOCOLS if route.subresource == "portforward" else CHANNEL_PROTOCOLS
        offered = offered_protocols(req)
        protocol = next((p for p in offered or [""] if p in supported), None)
        if protocol is None:
            raise errors.bad_request(f"requested protocol(s) are not supported: {offered}; "
                                     f"supports {list(supported)}")
        if route.subresource == "portforward":
            session = self._portforward_session(req, route)
        else:
            session = await self._channel_session(req, route, protocol == CHANNEL_PROTOCOLS[0])
        return Response(101, upgrade=session, headers=handshake_headers(req, protocol))

    async def _channel_session(self, req: Request, route: Route, v5: bool):
        container = await self._container(route, req.arg("container"))
        stdin, tty = _flag(req, "stdin"), _flag(req, "tty")
        start = na.ExecRequest(namespace=route.namespace, name=route.name, container=container)
        if route.subresource == "exec":
            start.command.extend(req.query.get("command", []))
            if not start.command:
                raise errors.bad_request("you must specify at least one command for the container")
            relay, first = self.api.agents.exec_stream, na.ExecInput(start=start, tty=tty)
        else:
            relay, first = self.api.agents.attach, na.ExecInput(start=start, tty=tty, stdin_open=stdin)

        async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await ChannelSession(WebSocket(reader, writer), v5, list(start.command)).run(relay, first, stdin)
        return session

    async def _spdy(self, req: Request, route: Route) -> Response | None:
        """kubectl's port forwarding: SPDY tunneled in a WebSocket, or on the connection upgraded to SPDY/3.1."""
        tunneled = is_upgrade(req) and spdy.TUNNELED in offered_protocols(req)
        direct = req.header("upgrade").lower() == "spdy/3.1" and \
            spdy.PROTOCOL in [p.strip() for p in req.header("x-stream-protocol-version").split(",")]
        if not tunneled and not direct:
            return None
        await self._pod(route)
        run = spdy.session(self.api, route.namespace, route.name, tunneled)
        if tunneled:
            return Response(101, upgrade=run, headers=handshake_headers(req, spdy.TUNNELED))
        return Response(101, upgrade=run, headers=[("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"),
                                                   ("X-Stream-Protocol-Version", spdy.PROTOCOL)])

    def _portforward_session(self, req: Request, route: Route):
        ports = []
        for text in req.query.get("ports", []):
            for part in text.split(","):
                if not part.strip().isdigit() or not 0 < int(part) < 65536:
                    raise errors.bad_request(f'invalid port "{part}"')
                ports.append(int(part))
        if not ports:
            raise errors.bad_request("at least one port must be specified")

        async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            ws = WebSocket(reader, writer)
            await ChannelPortForward(ws, self.api, route.namespace, route.name, ports).run()
        return session


def exit_status(code: int, command: list[str]) -> dict:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    what = f"command '{' '.join(command)}' exited with {code}" if command else f"exit code {code}"
    return {"metadata": {}, "status": "Failure", "message": f"command terminated with non-zero exit code: {what}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def failure_status(e: errors.ApiError) -> dict:
    _, doc = status.from_error(e, POD, "")
    doc.pop("kind", None)
    doc.pop("apiVersion", None)
    return doc


class ChannelSession:
    """One exec or attach over a WebSocket: client channels become ExecInputs, ExecOutputs become frames."""

    def __init__(self, ws: WebSocket, v5: bool, command: list[str]) -> None:
        self.ws, self.v5, self.command = ws, v5, command
        self.inputs: asyncio.Queue[na.ExecInput | None] = asyncio.Queue()

    async def run(self, relay, first: na.ExecInput, stdin: bool) -> None:
        await self.inputs.put(first)
        if not stdin and not first.tty:
            await self.inputs.put(na.ExecInput(close_stdin=True))
        reader = asyncio.create_task(self._read())
        try:
            result = await self._relay(relay)
            await self.ws.send(bytes([ERROR]) + json.dumps(result, separators=(",", ":")).encode())
            await self.ws.close()
        except WebSocketClosed:
            pass
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _relay(self, relay) -> dict:
        async def requests():
            while (item := await self.inputs.get()) is not None:
                yield item
        code = 0
        try:
            # aclosing: a client gone mid-session ends the agent's call at once, not when collected
            async with contextlib.aclosing(relay(requests())) as outputs:
                async for out in outputs:
                    if out.stdout:
                        await self.ws.send(bytes([STDOUT]) + out.stdout)
                    if out.stderr:
                        await self.ws.send(bytes([STDERR]) + out.stderr)
                    if out.HasField("exit_code"):
                        code = out.exit_code
        except errors.ApiError as e:
            return failure_status(e)
        return exit_status(code, self.command)

    async def _read(self) -> None:
        try:
            while True:
                message = await self.ws.receive()
                if not message:
                    continue
                channel, data = message[0], message[1:]
                if channel == STDIN and data:
                    await self.inputs.put(na.ExecInput(stdin=data))
                elif channel == RESIZE and data:
                    size = json.loads(data)
                    await self.inputs.put(na.ExecInput(resize=na.TerminalSize(width=int(size.get("Width", 0)),
                                                                             height=int(size.get("Height", 0)))))
                elif self.v5 and channel == CLOSE and data[:1] == bytes([STDIN]):
                    await self.inputs.put(na.ExecInput(close_stdin=True))
        except (WebSocketClosed, ValueError):
            await self.inputs.put(None)


class ChannelPortForward:
    """portforward.k8s.io: port i's data on channel 2i and its errors on 2i+1; each channel's first message
    from the server is the port (uint16, little-endian). One connection to each port for the socket's life."""

    def __init__(self, ws: WebSocket, api: ApiContext, namespace: str, name: str, ports: list[int]) -> None:
        self.ws, self.api, self.namespace, self.name, self.ports = ws, api, namespace, name, ports
        self.inputs = [asyncio.Queue() for _ in ports]

    async def run(self) -> None:
        for i, port in enumerate(self.ports):
            for channel in (2 * i, 2 * i + 1):
                await self.ws.send(bytes([channel]) + struct.pack("<H", port))
        reader = asyncio.create_task(self._read())
        try:
            await asyncio.gather(*(self._forward(i, port) for i, port in enumerate(self.ports)))
            await self.ws.close()
        except WebSocketClosed:
            pass
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _forward(self, index: int, port: int) -> None:
        queue = self.inputs[index]
        start = na.PortForwardRequest(namespace=self.namespace, name=self.name, port=port)

        async def requests():
            yield na.PortForwardInput(start=start)
            while (data := await queue.get()) is not None:
                yield na.PortForwardInput(data=data)
            yield na.PortForwardInput(close=True)
        try:
            async for out in self.api.agents.port_forward(requests()):
                await self.ws.send(bytes([2 * index]) + out.data)
        except errors.ApiError as e:
            await self.ws.send(bytes([2 * index + 1]) + str(e).encode())

    async def _read(self) -> None:
        try:
            while True:
                message = await self.ws.receive()
                if len(message) > 1 and message[0] % 2 == 0 and message[0] // 2 < len(self.inputs):
                    await self.inputs[message[0] // 2].put(message[1:])
        except WebSocketClosed:
            for queue in self.inputs:
                await queue.put(None)
