"""List and Watch against a real etcd: selectors, pagination, resume, compaction, bookmarks, slow watchers."""

from __future__ import annotations

import asyncio
import subprocess

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from skiff.v1 import requests_pb2
from tests.fixtures.apiserver import start_apiserver


def labeled(name: str, namespace: str = "default", **labels: str):
    return from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": name, "namespace": namespace, "labels": labels}})


async def next_event(stream, timeout: float = 5.0, skip_bookmarks: bool = True):
    while True:
        event = await asyncio.wait_for(anext(stream), timeout)
        if not (skip_bookmarks and event.type == "BOOKMARK"):
            return event


async def test_label_selectors(client):
    await client.create(labeled("sel-a", env="prod", tier="web"))
    await client.create(labeled("sel-b", env="dev", tier="web"))
    await client.create(labeled("sel-c", env="prod"))

    async def names(selector: str) -> set[str]:
        page = await client.list("cm", "default", label_selector=selector)
        return {o.metadata.name for o in page.items if o.metadata.name.startswith("sel-")}

    assert await names("env=prod") == {"sel-a", "sel-c"}
    assert await names("env!=prod,tier") == {"sel-b"}
    assert await names("env in (dev, prod),tier=web") == {"sel-a", "sel-b"}
    assert await names("!tier") == {"sel-c"}
    assert await names("env notin (prod)") == {"sel-b"}
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.list("cm", "default", label_selector="env in (")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_field_selectors(client):
    for name in ("fs-1", "fs-2"):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                                       "spec": {"containers": [{"name": "c", "image": "i"}]}}))
    await client.bind("default", "fs-1", "n1")
    page = await client.list("pods", "default", field_selector="spec.nodeName=n1")
    assert [p.metadata.name for p in page.items] == ["fs-1"]
    page = await client.list("pods", "", field_selector="metadata.name=fs-2,status.phase=Pending")
    assert [p.metadata.name for p in page.items] == ["fs-2"]
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.list("pods", "", field_selector="spec.bogus=x")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_pagination_is_one_snapshot(client):
    ns = from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pages"}})
    await client.create(ns)
    for i in range(25):
        await client.create(labeled(f"p-{i:02d}", "pages"))
    first = await client.list("cm", "pages", limit=10)
    assert len(first.items) == 10 and first.metadata.continue_
    await client.create(labeled("p-99", "pages"))  # after the snapshot: not in later pages
    names = [o.metadata.name for o in first.items]
    token = first.metadata.continue_
    while token:
        page = await client.list("cm", "pages", limit=10, continue_token=token)
        names += [o.metadata.name for o in page.items]
        assert page.metadata.resource_version == first.metadata.resource_version
        token = page.metadata.continue_
    assert names == [f"p-{i:02d}" for i in range(25)]


async def test_watch_events_and_resume(client):
    listing = await client.list("cm", "default")
    rv = listing.metadata.resource_version
    stream = client.watch("cm", "default", resource_version=rv).__aiter__()
    await client.create(labeled("w-1"))
    ev = await next_event(stream)
    assert (ev.type, ev.object.metadata.name) == ("ADDED", "w-1")
    obj = await client.get("cm", "w-1", "default")
    obj.data["k"] = "v"
    await client.update(obj)
    ev = await next_event(stream)
    assert ev.type == "MODIFIED" and ev.object.data["k"] == "v"
    resume_from = ev.object.metadata.resource_version
    await client.delete("cm", "w-1", "default")
    ev = await next_event(stream)
    assert ev.type == "DELETED"
    await stream.aclose()
    # resuming from the MODIFIED event replays exactly what came after it
    resumed = client.watch("cm", "default", resource_version=resume_from).__aiter__()
    ev = await next_event(resumed)
    assert (ev.type, ev.object.metadata.name) == ("DELETED", "w-1")
    await resumed.aclose()


async def test_watch_without_version_starts_with_current_state(client):
    await client.create(labeled("init-1", app="init"))
    stream = client.watch("cm", "default", label_selector="app=init").__aiter__()
    ev = await next_event(stream)
    assert (ev.type, ev.object.metadata.name) == ("ADDED", "init-1")
    await stream.aclose()


async def test_selector_watch_sees_objects_leave_and_enter(client):
    created = await client.create(labeled("mover", app="in"))
    stream = client.watch("cm", "default", label_selector="app=in",
                          resource_version=created.metadata.resource_version).__aiter__()
    created.metadata.labels["app"] = "out"
    moved = await client.update(created)
    ev = await next_event(stream)
    assert (ev.type, ev.object.metadata.name) == ("DELETED", "mover")
    # As kube-apiserver's cacher: the state it was selected in, at the revision it left
    assert ev.object.metadata.labels["app"] == "in"
    assert ev.object.metadata.resource_version == moved.metadata.resource_version
    moved.metadata.labels["app"] = "in"
    await client.update(moved)
    ev = await next_event(stream)
    assert ev.type == "ADDED"
    await stream.aclose()


async def test_bookmarks(etcd):
    server = start_apiserver(etcd, ["--bookmark-interval", "0.2"])
    try:
        async with Client(server.target) as c:
            rv = (await c.list("cm", "default")).metadata.resource_version
            stream = c.watch("cm", "default", resource_version=rv, allow_bookmarks=True).__aiter__()
            seen = set()
            for _ in range(50):
                ev = await asyncio.wait_for(anext(stream), 5)
                seen.add(ev.type)
                if "BOOKMARK" in seen:
                    break
            assert "BOOKMARK" in seen
            await stream.aclose()
    finally:
        server.stop()


async def test_compacted_resource_version_is_out_of_range(client, etcd):
    first = await client.create(labeled("compact-1"))
    await client.create(labeled("compact-2"))
    latest = await client.create(labeled("compact-3"))
    subprocess.run(["etcdctl", "--endpoints", etcd.url, "compact", latest.metadata.resource_version],
                   check=True, capture_output=True, env={"ETCDCTL_API": "3"})
    stream = client.watch("cm", "default", resource_version=first.metadata.resource_version).__aiter__()
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await next_event(stream)
    assert e.value.code() == grpc.StatusCode.OUT_OF_RANGE
    # a watch from a live revision still works
    ok = client.watch("cm", "default", resource_version=latest.metadata.resource_version).__aiter__()
    await client.create(labeled("compact-4"))
    assert (await next_event(ok)).object.metadata.name == "compact-4"
    await ok.aclose()


async def test_slow_watcher_is_cut_off_without_holding_up_others(etcd):
    server = start_apiserver(etcd, ["--watcher-queue", "20"])
    try:
        async with Client(server.target) as c:
            ns = from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "slow"}})
            await c.create(ns)
            await c.create(labeled("s-start", "slow"))
            stub = c.stub("cm")
            # Both watches are open (each has read its first event) before the writes start, so the
            # events reach them live, side by side. The slow watcher then never reads; the fast one reads all.
            slow = stub.Watch(requests_pb2.WatchRequest(namespace="slow", resource_version="0"))
            assert (await asyncio.wait_for(slow.read(), 5)).object.metadata.name == "s-start"
            fast = c.watch("cm", "slow", resource_version="0").__aiter__()
            assert (await next_event(fast)).object.metadata.name == "s-start"

            async def read_fast() -> list[str]:
                got = []
                while len(got) < 60:
                    ev = await next_event(fast, timeout=10)
                    if ev.type == "ADDED":
                        got.append(ev.object.metadata.name)
                return got
            reader = asyncio.create_task(read_fast())  # reads while the writes happen
            payload = "x" * 200_000  # big events fill the slow stream's transport windows quickly
            for i in range(60):
                await c.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": f"s-{i}", "namespace": "slow"},
                                          "data": {"p": payload}}))
            assert await reader == [f"s-{i}" for i in range(60)]
            with pytest.raises(grpc.aio.AioRpcError) as e:
                while await asyncio.wait_for(slow.read(), 10) is not grpc.aio.EOF:
                    pass
            assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "fell more than" in e.value.details()
            await fast.aclose()
    finally:
        server.stop()


async def test_watch_from_a_revision_written_to_another_kind(client):
    """A list's resourceVersion may be a write to another kind; watching from it must still work."""
    await client.create(labeled("before-other-kind"))
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "elsewhere"}}))
    page = await client.list("cm", "default", limit=1)  # paginated lists read etcd at its current revision
    stream = client.watch("cm", "default", resource_version=page.metadata.resource_version).__aiter__()
    await client.create(labeled("after-other-kind"))
    ev = await next_event(stream)
    assert (ev.type, ev.object.metadata.name) == ("ADDED", "after-other-kind")
    await stream.aclose()


async def test_own_writes_are_read_even_while_progress_is_requested(client):
    """Progress notifications must not stand in for this server's own writes (etcd < 3.4.26 may send
    progress while events are still on their way)."""
    for i in range(20):
        page = await client.list("ns", limit=1)  # etcd's current revision
        stream = client.watch("ns", resource_version=page.metadata.resource_version).__aiter__()
        watching = asyncio.create_task(next_event(stream))  # the watch is running while we write
        await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"rw-{i}"}}))
        await client.create(labeled("in-new-ns", f"rw-{i}"))  # needs the namespace in the cache
        ev = await watching
        assert (ev.type, ev.object.metadata.name) == ("ADDED", f"rw-{i}")
        await stream.aclose()
