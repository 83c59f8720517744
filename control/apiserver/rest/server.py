"""The REST port: TLS (HTTP/1.1 by ALPN) with optional client certificates verified against the client
CA, as the gRPC port's front. Each connection's verified certificate and address are entered in the
TLS front's table of peers under a key of its own, which is how the shared authenticator finds them."""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl

from control.apiserver.auth.tlsfront import HANDSHAKE_TIMEOUT, Peer, TLSFront, split_host_port
from control.apiserver.context import ApiContext
from control.apiserver.rest.app import RestApp
from control.apiserver.rest.http import Connection

log = logging.getLogger(__name__)

_ids = itertools.count(1)


def rest_context(cert_file: str, key_file: str, client_ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    ctx.set_alpn_protocols(["http/1.1"])
    if client_ca_file:
        ctx.load_verify_locations(client_ca_file)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


class RestServer:
    def __init__(self, api: ApiContext, listen: str, context: ssl.SSLContext | None, front: TLSFront | None) -> None:
        self.app = RestApp(api)
        self.host, self.port = split_host_port(listen)
        self.context = context
        self.front = front
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.Task] = set()
        self.reuse_port = False  # several apiserver workers share the port

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, self.host, self.port, ssl=self.context,
                                                 ssl_handshake_timeout=HANDSHAKE_TIMEOUT if self.context else None,
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
        key = f"rest:{next(_ids)}"
        tls = writer.get_extra_info("ssl_object")
        peername = writer.get_extra_info("peername")
        if self.front is not None:
            certificate = tls.getpeercert(binary_form=True) if tls else None
            self.front.peers[key] = Peer(certificate, peername[0] if isinstance(peername, tuple) else "")
        conn = Connection(reader, writer)
        try:
            await conn.serve(lambda req, c: self.app.handle(req, c, key))
        except (OSError, asyncio.IncompleteReadError) as e:
            log.debug("REST connection ended: %s", e)
        except asyncio.CancelledError:
            pass
        finally:
            if self.front is not None:
                self.front.peers.pop(key, None)
            self.connections.discard(task)
            writer.close()
