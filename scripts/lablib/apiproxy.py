"""The lab's load balancer in front of an HA control plane's apiservers (kubeadm's "control-plane
endpoint"): one address for clients that take a single server, kubectl above all.

A TCP proxy, so TLS runs end to end between the client and an apiserver (clients verify the name
`kubernetes`, which every apiserver's certificate carries). Each new connection goes to the next
apiserver in turn; one that refuses or does not answer within a second is skipped, and left out for a
few seconds, so a crashed member costs its clients a reconnect, not an error. Run by `scripts/lab up
--control-planes N` as the lab process `apiserver-lb`:

    python scripts/lablib/apiproxy.py --listen 172.31.250.1:6444=172.31.250.2:6444,172.31.250.3:6444 ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import signal
import time

log = logging.getLogger("apiserver-lb")

CONNECT_TIMEOUT = 1.0
LEFT_OUT = 5.0  # seconds a backend that failed is tried last
BUFFER = 64 * 1024


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: want HOST:PORT")
    return host, int(port)


def _route(text: str) -> tuple[tuple[str, int], list[tuple[str, int]]]:
    listen, sep, backends = text.partition("=")
    if not sep or not backends:
        raise argparse.ArgumentTypeError(f"{text!r}: want LISTEN=BACKEND[,BACKEND...]")
    return _address(listen), [_address(b) for b in backends.split(",")]


class Balancer:
    """The backends of one listening address, taken in turn, those that failed lately last."""

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._turn = itertools.count()
        self._failed: dict[tuple[str, int], float] = {}

    def order(self) -> list[tuple[str, int]]:
        start = next(self._turn) % len(self.backends)
        turn = self.backends[start:] + self.backends[:start]
        now = time.monotonic()
        return sorted(turn, key=lambda b: self._failed.get(b, 0) > now)  # stable: keeps the turn

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for backend in self.order():
            try:
                return await asyncio.wait_for(asyncio.open_connection(*backend), CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as e:
                log.warning("apiserver %s:%d: %s; trying the next", *backend, e or "no answer")
                self._failed[backend] = time.monotonic() + LEFT_OUT
        return None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self.connect()
        if upstream is None:
            log.warning("no apiserver answers; closing the client's connection")
            writer.close()
            return
        up_reader, up_writer = upstream
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies one direction; at its end, passes the end on (the other direction may still flow)."""
    try:
        while data := await reader.read(BUFFER):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()


async def run(routes: list[tuple[tuple[str, int], list[tuple[str, int]]]]) -> None:
    servers = []
    for (host, port), backends in routes:
        servers.append(await asyncio.start_server(Balancer(backends).serve, host, port, reuse_address=True))
        log.info("%s:%d -> %s", host, port, ", ".join(f"{h}:{p}" for h, p in backends))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    for server in servers:
        server.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", type=_route, action="append", required=True, metavar="HOST:PORT=BACKEND,...")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run(args.listen))


if __name__ == "__main__":
    main()
