"""WebSocket (RFC 6455) for the streaming subresources: the opening handshake's answer and a framed
connection (binary messages, fragments joined, pings answered, close handshake). Kubernetes' channel
protocols ride on it: each binary message starts with its channel's byte."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct

from control.apiserver.rest.http import Request

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_MESSAGE = 16 * 1024 * 1024
NORMAL_CLOSURE = 1000


class WebSocketClosed(Exception):
    pass


def is_upgrade(req: Request) -> bool:
    return req.header("upgrade").lower() == "websocket" and "upgrade" in req.header("connection").lower()


def offered_protocols(req: Request) -> list[str]:
    return [p.strip() for p in req.header("sec-websocket-protocol").split(",") if p.strip()]


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()  # noqa: S324 - the RFC's hash


def handshake_headers(req: Request, protocol: str) -> list[tuple[str, str]]:
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Accept", accept_key(req.header("sec-websocket-key")))]
    return headers + ([("Sec-WebSocket-Protocol", protocol)] if protocol else [])


class WebSocket:
    """The server's end: receive() yields whole binary or text messages; send() writes one binary message."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.closed = False
        self._lock = asyncio.Lock()

    async def send(self, data: bytes, opcode: int = OP_BINARY) -> None:
        if self.closed:
            raise WebSocketClosed()
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        async with self._lock:
            self.writer.write(head + data)
            await self.writer.drain()

    async def close(self, code: int = NORMAL_CLOSURE) -> None:
        if not self.closed:
            try:
                await self.send(struct.pack("!H", code), OP_CLOSE)
            except (ConnectionError, OSError, WebSocketClosed):
                pass
            self.closed = True

    async def receive(self) -> bytes:
        """The next data message; WebSocketClosed once the client closed (its close is answered)."""
        parts: list[bytes] = []
        while True:
            fin, opcode, payload = await self._frame()
            if opcode == OP_PING:
                await self.send(payload, OP_PONG)
            elif opcode == OP_CLOSE:
                await self.close()
                raise WebSocketClosed()
            elif opcode in (OP_BINARY, OP_TEXT, OP_CONT):
                parts.append(payload)
                if sum(map(len, parts)) > MAX_MESSAGE:
                    raise WebSocketClosed()
                if fin:
                    return b"".join(parts)

    async def _frame(self) -> tuple[bool, int, bytes]:
        try:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            if length > MAX_MESSAGE:
                raise WebSocketClosed()
            mask = await self.reader.readexactly(4) if second & 0x80 else b""
            payload = await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.closed = True
            raise WebSocketClosed() from None
        if mask and length:
            key = (mask * (length // 4 + 1))[:length]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")
        return bool(first & 0x80), first & 0x0F, payload
