"""TLS termination in front of the gRPC server, so that client certificates can be optional.

gRPC's Python server credentials either require a client certificate or never ask for one,
but kube-apiserver asks for one and also accepts callers that bring a bearer token instead.
So the apiserver's port is served here with Python's ssl (CERT_OPTIONAL, verified against
--client-ca-file, ALPN h2) and each connection is relayed to the gRPC server on a private
loopback port. The relay's local port identifies the connection to the gRPC server
(context.peer()), which is how the authenticator finds the verified certificate and the
caller's real address. Something else on the host that dials the private port directly is
just a caller without a certificate.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
BACKEND_HOST = "127.0.0.1"
HANDSHAKE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Peer:
    certificate: bytes | None  # DER, verified against the client CA
    address: str  # the caller's IP


def server_context(cert_file: str, key_file: str, client_ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    ctx.set_alpn_protocols(["h2"])
    if client_ca_file:
        ctx.load_verify_locations(client_ca_file)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


def split_host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"--listen: {listen!r} is neither HOST:PORT nor unix:PATH")
    return host.strip("[]") or "0.0.0.0", int(port)


def relay_peer(port: int) -> str:
    """How the gRPC server names a relay connection from 127.0.0.1:port (host and port must both match:
    a local process dialing the private port from 127.0.0.2 with the same port is someone else)."""
    return f"ipv4:{BACKEND_HOST}:{port}"


class TLSFront:
    def __init__(self, listen: str, backend_port: int, context: ssl.SSLContext) -> None:
        self.unix_path = listen.removeprefix("unix://").removeprefix("unix:") if listen.startswith("unix:") else ""
        self.host, self.port = split_host_port(listen) if not self.unix_path else ("", 0)
        self.backend_port = backend_port
        self.context = context
        self.peers: dict[str, Peer] = {}  # the relay connection, as gRPC's peer string -> the caller behind it
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.Task] = set()
        self.reuse_port = False  # several apiserver workers share the address (control/apiserver/workers.py)

    def lookup(self, grpc_peer: str) -> Peer | None:
        return self.peers.get(grpc_peer)

    async def start(self) -> None:
        if self.unix_path:
            self.server = await asyncio.start_unix_server(self._accept, self.unix_path, ssl=self.context,
                                                          ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        else:
            self.server = await asyncio.start_server(self._accept, self.host, self.port, ssl=self.context,
                                                     ssl_handshake_timeout=HANDSHAKE_TIMEOUT,
                                                     reuse_port=self.reuse_port or None)

    async def close(self) -> None:
        if self.server:
            self.server.close()
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.connections.add(task)
        try:
            await self._relay(reader, writer)
        except (OSError, asyncio.IncompleteReadError) as e:
            log.debug("connection ended: %s", e)
        except asyncio.CancelledError:
            pass  # close() ends the relays; asyncio's stream callback would log it as an error
        finally:
            self.connections.discard(task)
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tls = writer.get_extra_info("ssl_object")
        certificate = tls.getpeercert(binary_form=True) if tls else None
        peername = writer.get_extra_info("peername")
        address = peername[0] if isinstance(peername, tuple) else ""  # a unix socket's peer has no address
        up_reader, up_writer = await asyncio.open_connection(BACKEND_HOST, self.backend_port)
        relay = relay_peer(up_writer.get_extra_info("sockname")[1])
        self.peers[relay] = Peer(certificate, address)
        try:
            pipes = [asyncio.create_task(_pipe(reader, up_writer)), asyncio.create_task(_pipe(up_reader, writer))]
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for p in pipes:
                    p.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self.peers.pop(relay, None)
            up_writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(CHUNK):
        writer.write(data)
        await writer.drain()
