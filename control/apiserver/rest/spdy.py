"""kubectl's port forwarding: portforward.k8s.io over SPDY/3.1, either on the upgraded HTTP connection or
tunneled in WebSocket binary messages (kubectl 1.31+ asks for `SPDY/3.1+portforward.k8s.io`).

Per forwarded connection the client opens two streams with the same `requestid`: `error` and `data`,
each naming the `port`. Every stream gets a SYN_REPLY; once both are there, the data stream is carried
by its own Pods.PortForward call, and a failure is written on the error stream."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from control.apiserver import errors
from control.apiserver.context import ApiContext
from control.apiserver.rest.websocket import WebSocket, WebSocketClosed
from skiff.v1 import node_agent_pb2 as na

PROTOCOL = "portforward.k8s.io"
TUNNELED = "SPDY/3.1+portforward.k8s.io"
_SYN_STREAM, _SYN_REPLY, _RST_STREAM, _PING, _GOAWAY = 1, 2, 3, 6, 7
_FIN = 0x01
_MAX_DATA = 64 * 1024

# The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1): length-prefixed words, then text.
_WORDS = (*(
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age "
    "allow authorization cache-control connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status").split(), "200 OK",
    *"version HTTP/1.1 url public set-cookie keep-alive origin".split())
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")


def _dictionary() -> bytes:
    return b"".join(struct.pack("!I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()


DICTIONARY = _dictionary()


class Transport:
    """Bytes in and out: the upgraded connection itself, or WebSocket binary messages."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ws: WebSocket | None) -> None:
        self.reader, self.writer, self.ws = reader, writer, ws
        self.buffer = bytearray()
        self.lock = asyncio.Lock()

    async def read(self, n: int) -> bytes:
        if self.ws is None:
            return await self.reader.readexactly(n)
        while len(self.buffer) < n:
            self.buffer += await self.ws.receive()
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    async def write(self, data: bytes) -> None:
        async with self.lock:
            if self.ws is not None:
                await self.ws.send(data)
            else:
                self.writer.write(data)
                await self.writer.drain()


@dataclass
class _Pair:
    port: int = 0
    error: int = 0
    data: int = 0
    inputs: asyncio.Queue = field(default_factory=asyncio.Queue)


class PortForwardSession:
    def __init__(self, transport: Transport, api: ApiContext, namespace: str, name: str) -> None:
        self.t, self.api, self.namespace, self.name = transport, api, namespace, name
        self.inflate = zlib.decompressobj(zdict=DICTIONARY)
        self.deflate = zlib.compressobj()
        self.pairs: dict[str, _Pair] = {}
        self.by_stream: dict[int, _Pair] = {}
        self.tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        try:
            while True:
                first, second = struct.unpack("!II", await self.t.read(8))
                payload = await self.t.read(second & 0xFFFFFF)
                flags = second >> 24
                if first & 0x80000000:
                    if not await self._control(first & 0xFFFF, flags, payload):
                        break
                else:
                    await self._data(first & 0x7FFFFFFF, flags, payload)
        except (asyncio.IncompleteReadError, ConnectionError, OSError, WebSocketClosed, zlib.error):
            pass
        finally:
            for pair in self.pairs.values():
                await pair.inputs.put(None)
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _control(self, kind: int, flags: int, payload: bytes) -> bool:
        if kind == _SYN_STREAM:
            await self._syn_stream(payload)
        elif kind == _PING:
            await self._frame(True, _PING, 0, payload)
        elif kind == _RST_STREAM:
            pair = self.by_stream.get(struct.unpack("!I", payload[:4])[0] & 0x7FFFFFFF)
            if pair is not None:
                await pair.inputs.put(None)
        return kind != _GOAWAY

    def _headers(self, block: bytes) -> dict[str, str]:
        data = self.inflate.decompress(block)
        (count,), pos, out = struct.unpack("!I", data[:4]), 4, {}
        for _ in range(count):
            (n,) = struct.unpack("!I", data[pos:pos + 4])
            key, pos = data[pos + 4:pos + 4 + n].decode().lower(), pos + 4 + n
            (n,) = struct.unpack("!I", data[pos:pos + 4])
            out[key], pos = data[pos + 4:pos + 4 + n].decode(), pos + 4 + n
        return out

    async def _syn_stream(self, payload: bytes) -> None:
        stream_id = struct.unpack("!I", payload[:4])[0] & 0x7FFFFFFF
        headers = self._headers(payload[10:])
        block = struct.pack("!I", 0)
        block = self.deflate.compress(block) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        await self._frame(True, _SYN_REPLY, 0, struct.pack("!I", stream_id) + block)
        pair = self.pairs.setdefault(headers.get("requestid", str(stream_id)), _Pair())
        pair.port = int(headers.get("port", "0") or 0)
        setattr(pair, "error" if headers.get("streamtype") == "error" else "data", stream_id)
        self.by_stream[stream_id] = pair
        if pair.error and pair.data:
            task = asyncio.create_task(self._forward(pair))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _data(self, stream_id: int, flags: int, payload: bytes) -> None:
        pair = self.by_stream.get(stream_id)
        if pair is None or stream_id != pair.data:
            return
        if payload:
            await pair.inputs.put(payload)
        if flags & _FIN:
            await pair.inputs.put(None)

    async def _forward(self, pair: _Pair) -> None:
        start = na.PortForwardRequest(namespace=self.namespace, name=self.name, port=pair.port)

        async def requests():
            yield na.PortForwardInput(start=start)
            while (data := await pair.inputs.get()) is not None:
                yield na.PortForwardInput(data=data)
            yield na.PortForwardInput(close=True)
        try:
            async for out in self.api.agents.port_forward(requests()):
                for i in range(0, len(out.data), _MAX_DATA):
                    await self._frame(False, pair.data, 0, out.data[i:i + _MAX_DATA])
            failure = b""
        except errors.ApiError as e:
            failure = str(e).encode()
        # The client waits for the error stream's end (empty: no error) before it closes the local connection.
        await self._frame(False, pair.error, _FIN, failure)
        await self._frame(False, pair.data, _FIN, b"")

    async def _frame(self, control: bool, kind_or_stream: int, flags: int, payload: bytes) -> None:
        head = struct.pack("!HH", 0x8003, kind_or_stream) if control else struct.pack("!I", kind_or_stream)
        await self.t.write(head + struct.pack("!I", (flags << 24) | len(payload)) + payload)


def session(api: ApiContext, namespace: str, name: str, tunneled: bool
            ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        transport = Transport(reader, writer, WebSocket(reader, writer) if tunneled else None)
        await PortForwardSession(transport, api, namespace, name).run()
    return run
