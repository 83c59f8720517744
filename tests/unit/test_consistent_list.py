"""A list is a consistent read, as kube-apiserver's from its cache: it never misses a write etcd has
acknowledged (through any apiserver), whether the cache catches up or the list falls back to etcd."""

from __future__ import annotations

import asyncio

import pytest

from control.apiserver import listing
from control.apiserver.listing import Lister
from control.apiserver.watchcache import CacheEvent, KindCache
from control.client.convert import from_dict
from control.client.kinds import KINDS
from skiff.v1 import requests_pb2

KIND = KINDS["ConfigMap"]


def cm(name: str, revision: int):
    obj = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}})
    obj.metadata.resource_version = str(revision)
    return obj


class Etcd:
    """etcd as another apiserver left it: `b` written at revision 10, which this cache has not seen."""

    async def current_revision(self) -> int:
        return 10

    async def list(self, kind, namespace: str = ""):
        return [cm("a", 5), cm("b", 10)], 10


class LaggingWatch:
    """The cache's etcd watch: asked for progress, it delivers the missed event (or nothing)."""

    def __init__(self, cache: KindCache, delivers: bool) -> None:
        self.cache, self.delivers = cache, delivers

    def request_progress(self) -> None:
        if self.delivers:
            asyncio.get_running_loop().call_later(0.05, self.cache._apply, CacheEvent.of("ADDED", 10, cm("b", 10)))
            asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(self.cache._advance(10)))


class Api:
    def __init__(self, cache: KindCache) -> None:
        self.storage = cache.storage
        self.cache = {KIND: cache}


def lister(delivers: bool) -> Lister:
    cache = KindCache(KIND, Etcd())
    cache._apply(CacheEvent.of("ADDED", 5, cm("a", 5)))
    cache.revision = 5
    cache._watch = LaggingWatch(cache, delivers)
    return Lister(KIND, Api(cache))


async def test_a_list_waits_for_the_cache_to_reach_etcds_revision():
    result = await lister(delivers=True).list(requests_pb2.ListRequest(namespace="default"))
    assert [o.metadata.name for o in result.items] == ["a", "b"]
    assert result.metadata.resource_version == "10"


async def test_a_cache_that_does_not_catch_up_is_bypassed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(listing, "CONSISTENT_WAIT", 0.2)
    result = await lister(delivers=False).list(requests_pb2.ListRequest(namespace="default"))
    assert [o.metadata.name for o in result.items] == ["a", "b"]
    assert result.metadata.resource_version == "10"


async def test_a_serialized_list_is_the_list_and_waits_as_it_does(monkeypatch: pytest.MonkeyPatch):
    decode = KIND.list_message.FromString
    result = decode(await lister(delivers=True).list_serialized(requests_pb2.ListRequest(namespace="default")))
    assert [o.metadata.name for o in result.items] == ["a", "b"] and result.metadata.resource_version == "10"
    monkeypatch.setattr(listing, "CONSISTENT_WAIT", 0.2)
    result = decode(await lister(delivers=False).list_serialized(requests_pb2.ListRequest(namespace="default")))
    assert [o.metadata.name for o in result.items] == ["a", "b"]


class Current:
    async def current_revision(self) -> int:
        return 0


@pytest.mark.parametrize("namespace,labels,fields", [
    ("", "", ""), ("b", "", ""), ("", "tier=web", ""), ("a", "tier", "metadata.name!=x2"), ("b-c", "", ""),
    ("", "", "metadata.namespace=a")])
async def test_serialized_lists_select_and_order_as_parsed_ones(namespace, labels, fields):
    cache = KindCache(KIND, Current())
    revision = 0
    for ns in ("b", "a", "b-c", "a-b"):  # keys "a-b/…" sort before "a/…", namespaces do not
        for name, tier in (("x2", "web"), ("x1", "db"), ("x10", "")):
            revision += 1
            obj = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": name, "namespace": ns, "labels": {"tier": tier} if tier else {}}})
            obj.metadata.resource_version = str(revision)
            cache._apply(CacheEvent.of("ADDED", revision, obj))
    request = requests_pb2.ListRequest(namespace=namespace, label_selector=labels, field_selector=fields)
    lister = Lister(KIND, Api(cache))
    parsed = await lister.list(request)
    serialized = KIND.list_message.FromString(await lister.list_serialized(request))
    assert serialized == parsed
    assert [(o.metadata.namespace, o.metadata.name) for o in parsed.items] == \
        sorted((o.metadata.namespace, o.metadata.name) for o in parsed.items)


def test_a_namespaced_watch_takes_its_namespace_from_the_key_and_selectors_from_the_object():
    cache = KindCache(KIND, Current())
    lister = Lister(KIND, Api(cache))
    for revision, ns in enumerate(("a", "a-b", "ab", "b"), start=1):
        obj = from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "x", "namespace": ns, "labels": {"ns": ns}}})
        cache._apply(CacheEvent.of("ADDED", revision, obj))
    message = KIND.watch_event_message

    def seen(namespace: str, labels: str = "") -> list[str]:
        matches = listing.make_filter(KIND, namespace, labels, "")
        sent = [lister._wire_for(e, matches, message) for e in cache.events]
        return [message.FromString(d).object.metadata.namespace for d in sent if d]
    assert seen("a") == ["a"]
    assert seen("") == ["a", "a-b", "ab", "b"]
    assert seen("", "ns in (ab,b)") == ["ab", "b"]
    assert seen("a-b", "ns=a-b") == ["a-b"]
