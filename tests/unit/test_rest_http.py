"""The REST API's HTTP/1.1 layer on a real loopback socket: keep-alive, chunked request bodies, and a
streamed response that ends as soon as its client goes away."""

from __future__ import annotations

import asyncio

from control.apiserver.rest.http import Connection, Request, Response


async def _serve(handler):
    async def accept(reader, writer):
        await Connection(reader, writer).serve(handler)
        writer.close()
    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _response(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    status = (await reader.readline()).decode().strip()
    headers = {}
    while (line := (await reader.readline()).decode().strip()):
        key, _, value = line.partition(":")
        headers[key.lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def test_keep_alive_serves_requests_in_order() -> None:
    async def echo(req: Request, _conn) -> Response:
        return Response(200, f"{req.method} {req.path} {req.arg('a')} {req.body.decode()}".encode(), "text/plain")
    server, port = await _serve(echo)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /x%2Fy?a=1&a=2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        writer.write(b"PUT /z HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        first, second = await _response(reader), await _response(reader)
        assert first[0] == "HTTP/1.1 200 OK" and first[2] == b"POST /x/y 2 hello"
        assert second[2] == b"PUT /z  abcde"
        writer.write(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        third = await _response(reader)
        assert third[1]["connection"] == "close" and await reader.read() == b""
    finally:
        server.close()


async def test_stream_ends_when_the_client_goes_away() -> None:
    ended = asyncio.Event()

    async def forever():
        try:
            yield b"first\n"
            await asyncio.Event().wait()
            yield b"never\n"
        finally:
            ended.set()

    async def watch(_req: Request, _conn) -> Response:
        return Response(200, stream=forever())
    server, port = await _serve(watch)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /w HTTP/1.1\r\nHost: h\r\n\r\n")
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        while (await reader.readline()).strip():
            pass
        assert await reader.readline() == b"6\r\n" and await reader.readexactly(8) == b"first\n\r\n"
        writer.close()
        await asyncio.wait_for(ended.wait(), 5)
    finally:
        server.close()


async def test_malformed_request_is_a_400() -> None:
    async def never(_req: Request, _conn) -> Response:
        raise AssertionError("not reached")
    server, port = await _serve(never)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"NONSENSE\r\n\r\n")
        status, headers, _ = await _response(reader)
        assert status == "HTTP/1.1 400 Bad Request" and headers["connection"] == "close"
    finally:
        server.close()
