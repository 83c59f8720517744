"""Port forwarding into a pod: a TCP connection to localhost:PORT made inside the pod's network
namespace, which is what the CRI streaming server's port forwarder does.

A socket belongs to the network namespace it was created in, so one short-lived thread enters the
pod's namespace (setns is per thread), creates the socket and leaves; the connection itself is then
made and served from the event loop like any other."""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import threading
from collections.abc import AsyncIterator

CLONE_NEWNET = 0x40000000
READ_CHUNK = 64 * 1024


class ForwardError(Exception):
    pass


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _socket_in(netns: str, family: int) -> socket.socket:
    """A TCP socket of netns, made on a thread of its own that enters the namespace and leaves it."""
    result: list[socket.socket | BaseException] = []

    def make() -> None:
        try:
            with open(f"/proc/self/task/{threading.get_native_id()}/ns/net", "rb") as own, \
                    open(netns, "rb") as target:
                _setns(target.fileno())
                try:
                    result.append(socket.socket(family, socket.SOCK_STREAM))
                finally:
                    _setns(own.fileno())
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            result.append(e)

    thread = threading.Thread(target=make, name="netns-socket")
    thread.start()
    thread.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


async def connect(netns: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connects to localhost:port in netns, IPv4 first then IPv6, as the kubelet's forwarder does."""
    loop = asyncio.get_running_loop()
    errors = []
    for family, host, label in ((socket.AF_INET, "127.0.0.1", "IPv4"), (socket.AF_INET6, "::1", "IPv6")):
        try:
            sock = await asyncio.to_thread(_socket_in, netns, family)
        except OSError as e:
            errors.append(f"{label}: {e}")
            continue
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (host, port))
        except OSError as e:
            sock.close()
            tcp = "tcp4" if family == socket.AF_INET else "tcp6"
            reason = e.strerror.lower() if e.strerror else str(e)
            errors.append(f"{label}: dial {tcp} {'[::1]' if family == socket.AF_INET6 else host}:{port}: "
                          f"connect: {reason}")
            continue
        return await asyncio.open_connection(sock=sock)
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
