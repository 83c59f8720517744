"""`--workers`: several apiserver processes share one address (SO_REUSEPORT). Every connection is
served, each client reads its own writes, a worker that dies comes back, and stopping the server
stops them all."""

from __future__ import annotations

import asyncio
import os
import signal

import psutil
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd
from tests.fixtures.procs import eventually

WORKERS = 3


@pytest.fixture(scope="module")
def served():
    etcd = start_etcd()
    server = None
    try:
        server = start_apiserver(etcd, ["--workers", str(WORKERS)])
        yield server
    finally:
        if server is not None:
            server.stop()
        etcd.stop()


def listeners(port: int) -> set[int]:
    """Pids of the processes listening on the port."""
    found = set()
    for proc in psutil.process_iter():
        try:
            if any(c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
                   for c in proc.net_connections("tcp")):
                found.add(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def workers_of(server) -> list[psutil.Process]:
    return psutil.Process(server.proc.pid).children()


async def test_every_worker_listens_and_many_clients_read_their_writes(served):
    await eventually(lambda: asyncio.sleep(0, len(listeners(served.port)) == WORKERS), timeout=20,
                     what=f"{WORKERS} workers listening")
    clients = [Client(served.target) for _ in range(12)]
    try:
        async def write_then_read(i: int, client: Client) -> None:
            name = f"w-{i}"
            await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                                           "data": {"i": str(i)}}))
            listed, _ = await client.list_all("ConfigMap", "default")
            assert name in {cm.metadata.name for cm in listed}  # from this worker's watch cache
            assert (await client.get("ConfigMap", name, "default")).data["i"] == str(i)
        await asyncio.gather(*(write_then_read(i, c) for i, c in enumerate(clients)))
    finally:
        for c in clients:
            await c.close()


async def test_a_dead_worker_is_started_again_and_stop_takes_all(served):
    before = {p.pid for p in workers_of(served)}
    assert len(before) == WORKERS - 1
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)

    async def replaced() -> bool:
        now = {p.pid for p in workers_of(served) if p.status() != psutil.STATUS_ZOMBIE}
        return victim not in now and len(now) == WORKERS - 1 and len(listeners(served.port)) == WORKERS
    await eventually(replaced, timeout=30, what="the killed worker replaced")
    client = Client(served.target)
    try:
        assert (await client.get("Namespace", "default", "")).metadata.name == "default"
    finally:
        await client.close()
    children = workers_of(served)
    served.stop()
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"workers left behind: {[p.pid for p in alive]}"
