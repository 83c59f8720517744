"""Port forwarding into a pod: a TCP connection to localhost:PORT made inside the pod's network
namespace, which is what the CRI streaming server's port forwarder does."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

from node.netns import open_connection

READ_CHUNK = 64 * 1024


class ForwardError(Exception):
    pass


async def connect(netns: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connects to localhost:port in netns, IPv4 first then IPv6, as the kubelet's forwarder does."""
    errors = []
    for family, host, label in ((socket.AF_INET, "127.0.0.1", "IPv4"), (socket.AF_INET6, "::1", "IPv6")):
        try:
            return await open_connection(netns, host, port, family)
        except OSError as e:
            tcp = "tcp4" if family == socket.AF_INET else "tcp6"
            reason = e.strerror.lower() if e.strerror else str(e)
            errors.append(f"{label}: dial {tcp} {'[::1]' if family == socket.AF_INET6 else host}:{port}: "
                          f"connect: {reason}")
    raise ForwardError(f'failed to connect to localhost:{port} inside namespace "{netns}", '
                       + ", ".join(errors))


async def pump_in(inputs: AsyncIterator, writer: asyncio.StreamWriter) -> None:
    """Client bytes into the connection; the client's close (or end of its stream) is a half-close."""
    try:
        async for message in inputs:
            if message.data:
                writer.write(message.data)
                await writer.drain()
            if message.close:
                break
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def read_out(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while data := await reader.read(READ_CHUNK):
        yield data
