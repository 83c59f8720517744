"""The service health check server, as kube-proxy's: each LoadBalancer Service with
externalTrafficPolicy Local has a `spec.healthCheckNodePort` on which every node answers whether it
has local endpoints (200 and their number) or not (503), so a load balancer sends traffic only to
nodes that will not drop it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthCheck:
    namespace: str
    name: str
    local_endpoints: int


def response(check: HealthCheck) -> bytes:
    body = json.dumps({"service": {"namespace": check.namespace, "name": check.name},
                       "localEndpoints": check.local_endpoints, "serviceProxyHealthy": True}).encode()
    status = "200 OK" if check.local_endpoints > 0 else "503 Service Unavailable"
    head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
            f"X-Load-Balancing-Endpoint-Weight: {check.local_endpoints}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


class ServiceHealthServer:
    """One listener per health check port; `update` opens, changes and closes them."""

    def __init__(self, address: str = "0.0.0.0") -> None:
        self.address = address
        self.checks: dict[int, HealthCheck] = {}
        self.servers: dict[int, asyncio.Server] = {}

    async def update(self, checks: dict[int, HealthCheck]) -> None:
        self.checks = dict(checks)
        for port in [p for p in self.servers if p not in checks]:
            self.servers.pop(port).close()
        for port in [p for p in checks if p not in self.servers]:
            try:
                self.servers[port] = await asyncio.start_server(
                    lambda r, w, port=port: self._serve(port, r, w), self.address, port)
            except OSError as e:
                log.error("health check port %d for %s/%s: %s", port, checks[port].namespace,
                          checks[port].name, e)

    async def _serve(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            check = self.checks.get(port)
            if check is not None:
                writer.write(response(check))
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()

    def close(self) -> None:
        for server in self.servers.values():
            server.close()
        self.servers.clear()
