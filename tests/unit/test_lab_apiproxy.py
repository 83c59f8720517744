"""The lab's apiserver load balancer: connections go to the apiservers in turn, a dead one is skipped
(and tried last for a while), bytes flow both ways, and a client is closed when none answers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from lablib import apiproxy  # noqa: E402


async def named_server(name: bytes) -> tuple[asyncio.Server, tuple[str, int]]:
    """A backend that answers each line with its name and the line, then closes at the client's end."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(name + b":" + line)
            await writer.drain()
        writer.close()
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[:2]


async def closed_port() -> tuple[str, int]:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    address = server.sockets[0].getsockname()[:2]
    server.close()
    await server.wait_closed()
    return address


async def ask(front: tuple[str, int], text: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(*front)
    writer.write(text + b"\n")
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_connections_take_turns_and_skip_a_dead_apiserver():
    a, a_addr = await named_server(b"a")
    b, b_addr = await named_server(b"b")
    dead = await closed_port()
    balancer = apiproxy.Balancer([a_addr, dead, b_addr])
    front = await asyncio.start_server(balancer.serve, "127.0.0.1", 0)
    address = front.sockets[0].getsockname()[:2]
    try:
        answers = [await ask(address, b"hello") for _ in range(6)]
        assert set(answers) == {b"a:hello\n", b"b:hello\n"}
        assert answers.count(b"a:hello\n") >= 2 and answers.count(b"b:hello\n") >= 2
        assert balancer.order()[-1] == dead  # failed lately: tried last
        a.close()
        await a.wait_closed()
        assert [await ask(address, b"x") for _ in range(3)] == [b"b:x\n"] * 3
        b.close()
        await b.wait_closed()
        assert await ask(address, b"x") == b""  # nobody answers: the client's connection is closed
    finally:
        front.close()
        for s in (a, b):
            s.close()


def test_routes_parse_listen_and_backends():
    assert apiproxy._route("172.31.250.1:6444=172.31.250.2:6444,172.31.250.3:6444") == (
        ("172.31.250.1", 6444), [("172.31.250.2", 6444), ("172.31.250.3", 6444)])
