"""Sockets in another network namespace: a socket belongs to the namespace it was created in, so one
short-lived thread enters the namespace (setns is per thread), creates the socket and leaves; the
connection is then made and served from the event loop like any other."""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import struct
import threading

CLONE_NEWNET = 0x40000000


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def socket_in(netns: str, family: int = socket.AF_INET) -> socket.socket:
    """A TCP socket of the network namespace at path netns (e.g. /proc/PID/ns/net)."""
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


async def open_connection(netns: str | None, host: str, port: int, family: int = socket.AF_INET
                          ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """asyncio.open_connection, from inside netns when given."""
    if netns is None:
        return await asyncio.open_connection(host, port)
    sock = await asyncio.to_thread(socket_in, netns, family)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock)


def peer_netns(unix_socket: str) -> str | None:
    """The network namespace of the process serving unix_socket, None when it is our own: a runtime's
    streaming server listens there (on a node both share the host's)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(unix_socket)
        pid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[0]
    path = f"/proc/{pid}/ns/net"
    try:
        return None if os.stat(path).st_ino == os.stat("/proc/self/ns/net").st_ino else path
    except OSError:
        return None
