"""A small HTTP/1.1 server on asyncio streams: keep-alive, Content-Length and chunked bodies, and
chunked streaming responses (watches). Only what Kubernetes' clients send is needed here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024
MAX_HEADERS = 200
MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT = 300.0
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 410: "Gone",
           413: "Request Entity Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout"}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    path: str = ""
    query: dict[str, list[str]] = field(default_factory=dict)

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterator[bytes] | None = None  # chunks of a chunked response, each flushed as sent
    # A protocol switch (101, WebSocket): after the headers it owns the connection until it ends.
    upgrade: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]] | None = None


Handler = Callable[[Request, "Connection"], Awaitable[Response]]


class Connection:
    """One client connection; `closed` is set when the client goes away during a streamed response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.closed = asyncio.Event()

    async def serve(self, handler: Handler) -> None:
        while True:
            try:
                request = await asyncio.wait_for(read_request(self.reader), IDLE_TIMEOUT)
            except HttpError as e:
                await self.send(Response(e.status, str(e).encode(), "text/plain"), keep_alive=False)
                return
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return
            if request is None:
                return
            response = await handler(request, self)
            keep_alive = request.header("connection").lower() != "close"
            if not await self.send(response, keep_alive):
                return
            if not keep_alive:
                return

    async def send(self, response: Response, keep_alive: bool = True) -> bool:
        """Writes the response; False when the connection is gone or must close."""
        if response.upgrade is not None:
            return await self._switch(response)
        lines = [f"HTTP/1.1 {response.status} {REASONS.get(response.status, 'Unknown')}",
                 f"Content-Type: {response.content_type}", "Cache-Control: no-cache, private"]
        lines += [f"{k}: {v}" for k, v in response.headers]
        if response.stream is None:
            lines.append(f"Content-Length: {len(response.body)}")
        else:
            lines.append("Transfer-Encoding: chunked")
        if not keep_alive:
            lines.append("Connection: close")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)
        try:
            await self.writer.drain()
            if response.stream is not None:
                return await self._stream(response.stream)
        except (ConnectionError, OSError):
            return False
        return True

    async def _switch(self, response: Response) -> bool:
        lines = [f"HTTP/1.1 {response.status} Switching Protocols", *(f"{k}: {v}" for k, v in response.headers)]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            await self.writer.drain()
            await response.upgrade(self.reader, self.writer)
        except (ConnectionError, OSError):
            pass
        return False

    async def _stream(self, chunks: AsyncIterator[bytes]) -> bool:
        """Sends chunks until the stream ends or the client goes away (then the stream is closed at once,
        not at its next chunk: a quiet watch would otherwise outlive its client)."""
        pump = asyncio.create_task(self._pump(chunks))
        eof = asyncio.create_task(self._wait_for_eof())
        try:
            await asyncio.wait({pump, eof}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, eof):
                task.cancel()
            await asyncio.gather(pump, eof, return_exceptions=True)
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        # A request pipelined behind a streamed response is not supported: the stream ends the connection.
        return False

    async def _pump(self, chunks: AsyncIterator[bytes]) -> None:
        async for chunk in chunks:
            if chunk:
                self.writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await self.writer.drain()
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()

    async def _wait_for_eof(self) -> None:
        try:
            while await self.reader.read(4096):
                pass
        except (ConnectionError, OSError):
            pass
        self.closed.set()


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await _line(reader)
    while line == b"\r\n":  # tolerated before a request line
        line = await _line(reader)
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ")
    except ValueError:
        raise HttpError(400, "malformed request line") from None
    if not version.startswith("HTTP/1."):
        raise HttpError(400, "unsupported HTTP version")
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        raw = await _line(reader)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise HttpError(400, "malformed header")
        key = name.strip().lower()
        headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value.strip()
    else:
        raise HttpError(431, "too many headers")
    body = await _body(reader, headers)
    url = urlsplit(target)
    return Request(method.upper(), target, headers, body, unquote(url.path),
                   parse_qs(url.query, keep_blank_values=True))


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as e:
        return e.partial
    except asyncio.LimitOverrunError:
        raise HttpError(400, "line too long") from None


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        size = 0
        while True:
            head = (await _line(reader)).split(b";")[0].strip()
            try:
                n = int(head, 16)
            except ValueError:
                raise HttpError(400, "malformed chunk") from None
            if n == 0:
                while (await _line(reader)) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            size += n
            if size > MAX_BODY:
                raise HttpError(413, "request body too large")
            parts.append(await reader.readexactly(n))
            await _line(reader)
    length = headers.get("content-length", "0") or "0"
    if not length.isdigit():
        raise HttpError(400, "malformed Content-Length")
    if int(length) > MAX_BODY:
        raise HttpError(413, "request body too large")
    return await reader.readexactly(int(length)) if int(length) else b""
