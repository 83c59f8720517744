"""The watch cache's indices follow every add, move and delete (the Node authorizer's pods by node)."""

from __future__ import annotations

from control.apiserver.watchcache import CacheEvent, KindCache
from control.client.convert import from_dict
from control.client.kinds import KINDS


def pod(name: str, node: str):
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                      "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]}})


def names(cache: KindCache, node: str) -> list[str]:
    return sorted(p.metadata.name for p in cache.by_index("node", node))


def test_index_built_from_existing_objects_and_kept_through_events():
    cache = KindCache(KINDS["Pod"], storage=None)
    cache._apply(CacheEvent.of("ADDED", 1, pod("a", "n1")))
    cache.add_index("node", lambda p: p.spec.node_name)
    cache._apply(CacheEvent.of("ADDED", 2, pod("b", "n1")))
    cache._apply(CacheEvent.of("ADDED", 3, pod("c", "")))
    assert names(cache, "n1") == ["a", "b"] and names(cache, "") == ["c"]

    cache._apply(CacheEvent.of("MODIFIED", 4, pod("c", "n2"), pod("c", "")))  # bound
    cache._apply(CacheEvent.of("MODIFIED", 5, pod("a", "n2"), pod("a", "n1")))
    assert names(cache, "n1") == ["b"] and names(cache, "n2") == ["a", "c"] and names(cache, "") == []

    cache._apply(CacheEvent.of("DELETED", 6, pod("b", "n1")))
    assert names(cache, "n1") == [] and names(cache, "nowhere") == []
    assert sorted(cache.objects) == ["default/a", "default/c"]
