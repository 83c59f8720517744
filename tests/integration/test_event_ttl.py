"""Events expire through etcd leases (kube-apiserver's --event-ttl); other kinds never do."""

from __future__ import annotations

import time

import pytest

from control.apiserver.encryption import Transformer
from control.apiserver.storage import NotFoundError, Storage
from control.client.convert import from_dict
from control.client.kinds import KINDS
from tests.fixtures.procs import eventually


@pytest.fixture
async def storage(etcd):
    s = Storage([etcd.url], {"secrets": Transformer(b"k" * 32)}, ttls={"events": 2})
    await s.connect()
    yield s
    await s.close()


async def test_events_expire_after_their_ttl_and_configmaps_stay(storage: Storage):
    event = from_dict({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "default"},
                       "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
                       "reason": "Started", "message": "m", "type": "Normal"})
    cm = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1", "namespace": "default"}})
    await storage.create(KINDS["Event"], event)
    await storage.create(KINDS["ConfigMap"], cm)
    written = time.monotonic()

    async def event_gone() -> bool:
        try:
            await storage.get(KINDS["Event"], "default", "e1")
        except NotFoundError:
            return True
        return False

    await eventually(event_gone, timeout=15, what="event expired")
    assert time.monotonic() - written >= 1.5  # not before its TTL (etcd rounds leases to whole seconds)
    assert (await storage.get(KINDS["ConfigMap"], "default", "c1")).metadata.name == "c1"


async def test_apiserver_event_ttl_flag_expires_events_for_clients_and_watchers(etcd):
    import grpc

    from control.client.client import Client
    from tests.fixtures.apiserver import start_apiserver

    server = start_apiserver(etcd, ["--event-ttl", "2s"])
    try:
        async with Client(server.target) as client:
            await client.create(from_dict({
                "apiVersion": "v1", "kind": "Event", "metadata": {"name": "short", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "R"}))

            async def gone() -> bool:
                try:
                    await client.get("Event", "short", "default")
                except grpc.aio.AioRpcError as e:
                    return e.code() == grpc.StatusCode.NOT_FOUND
                return False

            await eventually(gone, timeout=15, what="event expired through the apiserver")
            assert not [e for e in (await client.list("Event", "default")).items if e.metadata.name == "short"]
    finally:
        server.stop()
