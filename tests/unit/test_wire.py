"""Serialized objects changed without parsing them, and the watch cache that keeps objects so."""

from __future__ import annotations

from google.protobuf.wrappers_pb2 import UInt64Value

from control.apiserver import watchcache, wire
from control.apiserver.watchcache import CacheEvent, KindCache
from control.apiserver.wire import at_revision, metadata_field, varint, watch_event
from control.client.convert import from_dict
from control.client.kinds import KINDS
from skiff.v1 import meta_pb2

POD = KINDS["Pod"]


def pod(name: str, rv: str = "") -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default", "resourceVersion": rv,
                                   "labels": {"app": "a"}},
                      "spec": {"containers": [{"name": "c", "image": "busybox"}]}})


def test_varint_matches_protobuf() -> None:
    for n in (1, 127, 128, 300, 2**21, 2**35 + 7):  # (proto3 leaves 0 out)
        assert UInt64Value(value=n).SerializeToString() == b"\x08" + varint(n)


def test_at_revision_sets_the_resource_version_and_keeps_the_rest() -> None:
    for kind in KINDS.values():  # metadata is field 3, 4 or 5 depending on the kind
        obj = kind.new(metadata={"name": "x", "namespace": "ns", "resource_version": "7", "labels": {"a": "b"}})
        parsed = kind.message.FromString(at_revision(metadata_field(kind), obj.SerializeToString(), 12345))
        assert parsed.metadata.resource_version == "12345", kind.kind
        obj.metadata.resource_version = "12345"
        assert parsed == obj, kind.kind


def test_at_revision_suits_decoders_that_replace_a_repeated_message_field() -> None:
    """protobuf.js keeps only the last occurrence of a message field: it must hold all of the metadata."""
    obj = pod("p", "9")
    data = at_revision(metadata_field(POD), obj.SerializeToString(), 12)
    last = [data[payload:end] for number, _, _, payload, end in wire._fields(data) if number == metadata_field(POD)][-1]
    metadata = meta_pb2.ObjectMeta.FromString(last)
    assert (metadata.name, metadata.resource_version, dict(metadata.labels)) == ("p", "12", {"app": "a"})
    assert [n for n, *_ in wire._fields(last)].count(wire._RESOURCE_VERSION) == 1


def test_at_revision_gives_an_object_without_metadata_one_holding_the_revision() -> None:
    obj = POD.new()
    obj.spec.node_name = "n1"
    data = at_revision(metadata_field(POD), obj.SerializeToString(), 42)
    parsed = POD.message.FromString(data)
    assert (parsed.metadata, parsed.spec.node_name) == (meta_pb2.ObjectMeta(resource_version="42"), "n1")
    assert [n for n, *_ in wire._fields(data)].count(metadata_field(POD)) == 1


def test_watch_event_parses_as_the_message_would_serialize() -> None:
    obj = pod("p", "9")
    data = watch_event(POD.watch_event_message, "MODIFIED", obj.SerializeToString())
    event = POD.watch_event_message.FromString(data)
    assert event.type == "MODIFIED" and event.object == obj
    assert data == POD.watch_event_message(type="MODIFIED", object=obj).SerializeToString()


def test_cache_keeps_bytes_and_a_bounded_set_of_parsed_objects(monkeypatch) -> None:
    monkeypatch.setattr(watchcache, "KEPT", 4)
    monkeypatch.setattr(watchcache, "HOT_EVENTS", 4)
    cache = KindCache(POD, storage=None)
    for i in range(10):
        cache._apply(CacheEvent.of("ADDED", i + 1, pod(f"p{i}", str(i + 1))))
    assert all(isinstance(v, bytes) for v in cache.objects.values())
    assert cache.get("default", "p3").metadata.resource_version == "4"
    assert cache.get("default", "p3") is cache.get("default", "p3")  # parsed once while it is recent
    for i in range(10):
        cache.get("default", f"p{i}")
    assert len(cache._parsed) == 4
    memoized = [e for e in cache.events if e._wire is not None]
    assert memoized == list(cache.events)[-4:]  # only the newest events keep their WatchEvents
    items, revision = cache.snapshot()
    assert sorted(o.metadata.name for o in items) == [f"p{i}" for i in range(10)] and revision == 0


def test_deleted_event_carries_the_last_state_at_the_deletion_revision() -> None:
    cache = KindCache(POD, storage=None)
    cache._apply(CacheEvent.of("ADDED", 3, pod("p", "3")))
    old = cache.objects["default/p"]
    cache._apply(CacheEvent("DELETED", 8, cache.at(old, 8), old), "default/p")
    assert "default/p" not in cache.objects
    gone = POD.message.FromString(cache.events[-1].data)
    assert gone.metadata.resource_version == "8" and gone.metadata.labels["app"] == "a"
