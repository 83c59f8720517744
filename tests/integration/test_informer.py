"""Informers against a real apiserver: list+watch, indexes, selectors, bookmarks,
resume after an apiserver restart, relist when the revision is gone, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import time

import grpc
import pytest

from control.client.client import CHANNEL_OPTIONS, Client
from control.client.convert import from_dict
from control.client.events import EventRecorder
from control.client.informer import Informer, key_of, split_key, strip_managed_fields
from control.client.kubeconfig import load_client_config, make_channel
from tests.fixtures.apiserver import start_apiserver
from tests.fixtures.procs import eventually
from tests.fixtures.workloads import new_namespace

# Reconnect quickly after the apiserver comes back (gRPC's default back-off grows to minutes).
FAST_RECONNECT = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
                  ("grpc.max_reconnect_backoff_ms", 500)]


@pytest.fixture(scope="module")
def apiserver(etcd):
    server = start_apiserver(etcd, ["--bookmark-interval", "0.3"])
    yield server
    server.stop()


@pytest.fixture
async def client(apiserver):
    c = Client(apiserver.target, make_channel(apiserver.target, load_client_config(),
                                              CHANNEL_OPTIONS + FAST_RECONNECT))
    yield c
    await c.close()


def configmap(name: str, namespace: str, **labels: str):
    return from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": name, "namespace": namespace, "labels": labels}})


def pod(name: str, namespace: str, node: str = ""):
    spec = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
                      "spec": spec})


async def create_when_reachable(client: Client, obj) -> None:
    """Creates obj once the client's channel has reconnected to a restarted apiserver."""
    async def created() -> bool:
        try:
            await client.create(obj)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
        return True
    await eventually(created, timeout=10, what="apiserver to accept writes again")


class Recorder:
    """Collects handler calls as (event, key) pairs."""

    def __init__(self, informer: Informer) -> None:
        self.calls: list[tuple[str, str]] = []
        informer.add_handler(lambda o: self.calls.append(("add", key_of(o))),
                             lambda old, new: self.calls.append(("update", key_of(new))),
                             lambda o: self.calls.append(("delete", key_of(o))))

    def has(self, event: str, key: str) -> bool:
        return (event, key) in self.calls


@contextlib.asynccontextmanager
async def running(informer: Informer):
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_synced(10), "informer did not sync"
        yield informer
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_key_of_and_split_key():
    assert key_of(configmap("a", "ns")) == "ns/a"
    node = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    assert key_of(node) == "n1"
    assert split_key("ns/a") == ("ns", "a")
    assert split_key("n1") == ("", "n1")


async def test_list_then_watch_keeps_store_and_fires_handlers(client):
    ns = await new_namespace(client, "inf")
    for i in range(5):
        await client.create(configmap(f"cm-{i}", ns))
    informer = Informer(client, "ConfigMap", namespace=ns, page_size=2)  # paginated list
    rec = Recorder(informer)
    assert not informer.has_synced
    async with running(informer):
        assert sorted(informer.store.keys()) == [f"{ns}/cm-{i}" for i in range(5)]
        assert all(rec.has("add", f"{ns}/cm-{i}") for i in range(5))
        await client.create(configmap("late", ns))
        changed = configmap("cm-0", ns, touched="yes")
        changed.metadata.resource_version = informer.store.get(f"{ns}/cm-0").metadata.resource_version
        await client.update(changed)
        await client.delete("ConfigMap", "cm-1", ns)

        async def seen() -> bool:
            return rec.has("add", f"{ns}/late") and rec.has("update", f"{ns}/cm-0") and \
                rec.has("delete", f"{ns}/cm-1")
        await eventually(seen, what="watch events")
        assert informer.store.get_by_name(ns, "cm-0").metadata.labels["touched"] == "yes"
        assert informer.store.get(f"{ns}/cm-1") is None
        assert len(informer.store.by_index("namespace", ns)) == 5


async def test_transform_strips_managed_fields_from_listed_and_watched_objects(client):
    ns = await new_namespace(client)
    await client.create(configmap("listed", ns, app="x"))  # a label: a field the writer manages
    stripped = Informer(client, "ConfigMap", namespace=ns, transform=strip_managed_fields)
    plain = Informer(client, "ConfigMap", namespace=ns)
    async with running(stripped), running(plain):
        await client.create(configmap("watched", ns, app="x"))

        async def both_have() -> bool:
            key = f"{ns}/watched"
            return stripped.store.get(key) is not None and plain.store.get(key) is not None
        await eventually(both_have, what="the watched ConfigMap in both stores")
        for name in ("listed", "watched"):
            assert plain.store.get(f"{ns}/{name}").metadata.managed_fields, "the server tracks fields"
            kept = stripped.store.get(f"{ns}/{name}")
            assert not kept.metadata.managed_fields
            assert kept.metadata.resource_version == plain.store.get(f"{ns}/{name}").metadata.resource_version
        assert stripped.store.get(f"{ns}/watched").metadata.labels["app"] == "x"


async def test_pod_node_name_index_and_custom_indexer(client):
    ns = await new_namespace(client, "inf")
    await client.create(pod("a", ns, node="node-1"))
    await client.create(pod("b", ns, node="node-2"))
    await client.create(pod("c", ns))
    informer = Informer(client, "Pod", namespace=ns,
                        indexers={"first-letter": lambda o: [o.metadata.name[0]]})
    async with running(informer):
        assert [p.metadata.name for p in informer.store.by_index("nodeName", "node-1")] == ["a"]
        assert [p.metadata.name for p in informer.store.by_index("nodeName", "")] == ["c"]
        await client.bind(ns, "c", "node-1")

        async def moved() -> bool:
            return sorted(p.metadata.name for p in informer.store.by_index("nodeName", "node-1")) == ["a", "c"]
        await eventually(moved, what="index update after bind")
        assert informer.store.by_index("nodeName", "") == []
        assert [p.metadata.name for p in informer.store.by_index("first-letter", "b")] == ["b"]
        with pytest.raises(KeyError):
            informer.store.by_index("nope", "x")


async def test_label_selector_and_objects_leaving_it(client):
    ns = await new_namespace(client, "inf")
    await client.create(configmap("in", ns, app="web"))
    await client.create(configmap("out", ns, app="db"))
    informer = Informer(client, "ConfigMap", namespace=ns, label_selector="app=web")
    rec = Recorder(informer)
    async with running(informer):
        assert informer.store.keys() == [f"{ns}/in"]
        moved = configmap("in", ns, app="other")
        moved.metadata.resource_version = informer.store.get(f"{ns}/in").metadata.resource_version
        await client.update(moved)

        async def left() -> bool:
            return rec.has("delete", f"{ns}/in") and not informer.store.keys()
        await eventually(left, what="object leaving the selector to be deleted from the store")


async def test_handler_added_after_sync_gets_existing_objects(client):
    ns = await new_namespace(client, "inf")
    await client.create(configmap("x", ns))
    informer = Informer(client, "ConfigMap", namespace=ns)
    async with running(informer):
        rec = Recorder(informer)
        assert rec.calls == [("add", f"{ns}/x")]


async def test_bookmarks_advance_resource_version(client):
    ns = await new_namespace(client, "inf")
    informer = Informer(client, "ConfigMap", namespace=ns, label_selector="never=matches")
    async with running(informer):
        start = int(informer.resource_version)
        await client.create(configmap("unrelated", ns))  # advances etcd's revision, not delivered

        async def advanced() -> bool:
            return int(informer.resource_version) > start
        await eventually(advanced, timeout=5, what="a bookmark carrying the new revision")


async def test_resume_after_apiserver_restart_without_relist(client, apiserver):
    ns = await new_namespace(client, "inf")
    await client.create(configmap("before", ns))
    informer = Informer(client, "ConfigMap", namespace=ns, max_backoff=0.5)
    rec = Recorder(informer)
    async with running(informer):
        apiserver.restart()
        await create_when_reachable(client, configmap("after", ns))

        async def seen() -> bool:
            return rec.has("add", f"{ns}/after")
        await eventually(seen, timeout=15, what="event after the restart")
        assert informer.relists == 0
        assert sorted(informer.store.keys()) == [f"{ns}/after", f"{ns}/before"]


async def test_relist_when_revision_is_gone_fires_differences(client, apiserver, etcd):
    """Changes made through a second apiserver while ours is down are older than its new
    cache: the informer's resume fails OUT_OF_RANGE and it relists, firing the differences."""
    ns = await new_namespace(client, "inf")
    for name in ("keep", "change", "remove"):
        await client.create(configmap(name, ns))
    informer = Informer(client, "ConfigMap", namespace=ns, max_backoff=0.5)
    rec = Recorder(informer)
    other = start_apiserver(etcd)
    try:
        async with running(informer):
            apiserver.stop()
            async with Client(other.target) as second:
                changed = await second.get("ConfigMap", "change", ns)
                changed.metadata.labels["v"] = "2"
                await second.update(changed)
                await second.delete("ConfigMap", "remove", ns)
                await second.create(configmap("new", ns))
            rec.calls.clear()
            apiserver.restart()

            async def relisted() -> bool:
                return sorted(informer.store.keys()) == [f"{ns}/{n}" for n in ("change", "keep", "new")]
            await eventually(relisted, timeout=15, what="store to match after relist")
            assert informer.relists >= 1
            assert sorted(rec.calls) == [("add", f"{ns}/new"), ("delete", f"{ns}/remove"),
                                         ("update", f"{ns}/change")]
            assert informer.store.get(f"{ns}/change").metadata.labels["v"] == "2"
    finally:
        other.stop()
        if apiserver.proc.poll() is not None:
            apiserver.restart()


class WatchClock(Client):
    """A client that notes when each watch is opened (the informer's attempts)."""

    def __init__(self, target: str) -> None:
        super().__init__(target, make_channel(target, load_client_config(), CHANNEL_OPTIONS + FAST_RECONNECT))
        self.opened: list[float] = []

    def watch(self, *args, **kwargs):
        self.opened.append(time.monotonic())
        return super().watch(*args, **kwargs)


async def test_reconnects_with_backoff_while_apiserver_is_down(apiserver):
    initial, cap = 0.05, 0.4
    clock = WatchClock(apiserver.target)
    try:
        ns = await new_namespace(clock, "inf")
        informer = Informer(clock, "ConfigMap", namespace=ns, initial_backoff=initial, max_backoff=cap)
        rec = Recorder(informer)
        async with running(informer):
            apiserver.stop()
            down = len(clock.opened)

            async def attempts() -> bool:
                return len(clock.opened) >= down + 8
            await eventually(attempts, timeout=10, what="eight attempts while the apiserver is down")
            # opened[down] is the immediate retry after the stream broke; from it the waits double up to the cap.
            gaps = [b - a for a, b in zip(clock.opened[down:], clock.opened[down + 1:], strict=False)]
            assert min(gaps) < 2 * initial + 0.05, gaps  # started small, not at the cap
            assert all(b >= a * 0.8 for a, b in zip(gaps, gaps[1:], strict=False)), gaps  # never shrinks
            assert gaps[-1] >= cap * 0.9, gaps  # grew to the cap...
            assert max(gaps) <= cap + 0.5, gaps  # ...and stayed there
            apiserver.restart()
            await create_when_reachable(clock, configmap("back", ns))

            async def seen() -> bool:
                return rec.has("add", f"{ns}/back")
            await eventually(seen, timeout=15, what="event after reconnect")
    finally:
        await clock.close()
        if apiserver.proc.poll() is not None:
            apiserver.restart()


async def test_wait_synced_times_out_without_apiserver():
    c = Client("127.0.0.1:1")
    try:
        informer = Informer(c, "ConfigMap", max_backoff=0.1)
        task = asyncio.create_task(informer.run())
        assert await informer.wait_synced(0.3) is False
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await c.close()


async def test_event_recorder_creates_and_aggregates_events(client):
    ns = await new_namespace(client, "inf")
    cm = await client.create(configmap("subject", ns))
    node = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{ns}"}})
    recorder = EventRecorder(client, "test-controller", host="host-1")
    try:
        for _ in range(3):
            recorder.event(cm, "Normal", "Tested", "it works")  # never blocks the caller
        recorder.event(cm, "Warning", "Broken", "something else")
        recorder.event(node, "Normal", "NodeThing", "cluster-scoped")
        for i in range(11):  # similar events: the 10th and 11th go to one combined Event
            recorder.event(cm, "Warning", "Similar", f"attempt {i}")
        await asyncio.wait_for(recorder.flush(), 10)
    finally:
        await recorder.close()
    similar = [e for e in (await client.list("Event", ns)).items if e.reason == "Similar"]
    assert len(similar) == 10
    [combined] = [e for e in similar if e.message.startswith("(combined")]
    assert (combined.message, combined.count) == ("(combined from similar events): attempt 10", 2)
    events = {e.reason: e for e in (await client.list("Event", ns)).items if e.reason != "Similar"}
    assert set(events) == {"Tested", "Broken"}
    tested = events["Tested"]
    assert tested.count == 3 and tested.type == "Normal" and tested.message == "it works"
    assert tested.metadata.name.startswith("subject.")
    assert (tested.involved_object.kind, tested.involved_object.name, tested.involved_object.uid) == \
        ("ConfigMap", "subject", cm.metadata.uid)
    assert (tested.source.component, tested.source.host) == ("test-controller", "host-1")
    assert tested.last_timestamp.ToNanoseconds() >= tested.first_timestamp.ToNanoseconds()
    assert events["Broken"].count == 1 and events["Broken"].type == "Warning"
    in_default = (await client.list("Event", "default", field_selector="reason=NodeThing")).items
    assert [e.involved_object.name for e in in_default] == [f"node-{ns}"]
