"""The apiserver on a 3-member etcd cluster: a member crashes (SIGKILL) under a steady stream of
writes, rejoins, another crashes; writes resume within seconds and no acknowledged write is lost."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.etcd import start_etcd_cluster
from tests.fixtures.procs import port_open, wait_for

RESUME_SECONDS = 10


@pytest.fixture(scope="module")
def cluster():
    etcd = start_etcd_cluster(3)
    api = None
    try:
        api = start_apiserver(etcd)
        yield etcd, api
    finally:
        if api:
            api.stop()
        etcd.stop()


class Writer:
    """Creates ConfigMaps one after another; remembers what was acknowledged and the longest gap."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.acked: dict[str, str] = {}
        self.last_ack = time.monotonic()
        self.longest_gap = 0.0
        self.errors: list[str] = []
        self.stopped = False

    async def run(self) -> None:
        i = 0
        while not self.stopped:
            name, value = f"w-{i}", f"value-{i}"
            try:
                await self.client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                                    "metadata": {"name": name}, "data": {"v": value}}))
            except grpc.aio.AioRpcError as e:
                self.errors.append(f"{e.code().name}: {e.details()}")
                if e.code() == grpc.StatusCode.ALREADY_EXISTS:  # an earlier attempt landed after all
                    i += 1
                await asyncio.sleep(0.05)
                continue
            now = time.monotonic()
            self.longest_gap = max(self.longest_gap, now - self.last_ack)
            self.last_ack = now
            self.acked[name] = value
            i += 1

    async def acks_after(self, count: int, timeout: float = RESUME_SECONDS) -> None:
        target = len(self.acked) + count
        deadline = time.monotonic() + timeout
        while len(self.acked) < target:
            assert time.monotonic() < deadline, f"writes did not resume within {timeout}s: {self.errors[-3:]}"
            await asyncio.sleep(0.05)


async def test_writes_survive_the_crash_of_any_one_member(cluster):
    etcd, api = cluster
    async with Client(api.target) as client:
        writer = Writer(client)
        task = asyncio.create_task(writer.run())
        try:
            await writer.acks_after(20)
            for index in (0, 1, 2):  # every member in turn, the apiserver's first one first
                member = etcd.members[index]
                member.kill()
                await writer.acks_after(20)
                member.start()
                wait_for(lambda m=member: port_open(m.client_port), timeout=15, what=f"{member.name} back")
                await writer.acks_after(20)
        finally:
            writer.stopped = True
            await task
        assert writer.longest_gap < RESUME_SECONDS, writer.longest_gap
        listed = {o.metadata.name: o.data["v"] for o in (await client.list("cm", "default")).items
                  if o.metadata.name.startswith("w-")}
        lost = {k: v for k, v in writer.acked.items() if listed.get(k) != v}
        assert not lost, f"acknowledged writes lost or changed: {sorted(lost)[:10]}"
        for name, value in list(writer.acked.items())[::25]:
            assert (await client.get("cm", name, "default")).data["v"] == value


async def test_a_watch_goes_on_across_a_member_crash(cluster):
    etcd, api = cluster
    async with Client(api.target) as client:
        seen: set[str] = set()

        since = (await client.list("cm", "default")).metadata.resource_version

        async def watch() -> None:
            async for event in client.watch("cm", "default", resource_version=since):
                if event.object.metadata.name.startswith("x-"):
                    seen.add(event.object.metadata.name)

        watching = asyncio.create_task(watch())
        try:
            await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x-0"}}))
            etcd.members[0].kill()
            etcd.members[1].kill()  # no quorum: writes wait
            etcd.members[1].start()  # quorum again
            names = [f"x-{i}" for i in range(1, 11)]
            for name in names:
                deadline = time.monotonic() + RESUME_SECONDS
                while True:
                    try:
                        await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                                       "metadata": {"name": name}}))
                        break
                    except grpc.aio.AioRpcError as e:
                        if e.code() == grpc.StatusCode.ALREADY_EXISTS:
                            break
                        assert time.monotonic() < deadline, e.details()
                        await asyncio.sleep(0.1)
            deadline = time.monotonic() + RESUME_SECONDS
            while seen != {"x-0", *names}:
                assert time.monotonic() < deadline, f"the watch missed {sorted({'x-0', *names} - seen)}"
                await asyncio.sleep(0.05)
        finally:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
            etcd.members[0].start()
