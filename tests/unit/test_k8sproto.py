"""Kubernetes' protobuf request bodies: the field table covers every served kind, and the wire walker
reads maps, repeated and packed fields, embedded and inlined messages, pointers' zeros, IntOrString,
Quantity, Time, Duration, RawExtension and the Unknown envelope."""

from __future__ import annotations

import base64
import json
import re
import struct

import pytest
from google.protobuf.descriptor import Descriptor
from hypothesis import given, settings
from hypothesis import strategies as st

from control.apiserver.rest import k8sencode, k8sproto
from control.apiserver.rest.k8sproto import MAGIC, WireError, decode, go_duration, message_for, table
from control.client.convert import from_dict
from control.client.kinds import KINDS, Kind
from tests.fixtures.schema import differences, full_object

# An object's TypeMeta is carried by the Unknown envelope (or left out when embedded), not by its message.
TYPE_META = ("apiVersion", "kind")
OPAQUE = {"google.protobuf.Timestamp", "google.protobuf.Value", "google.protobuf.ListValue",
          "google.protobuf.Struct"}
# Fields the kubernetes client's models (Skiff's messages come from them) carry and the k8s.io/api the
# table was made from lacks: no client can send them in Kubernetes' protobuf yet.
NEWER_THAN_TABLE = {"io.k8s.api.core.v1.NodeSystemInfo: status.nodeInfo.runningInUserNamespace"}


def upstream(kind: Kind) -> str:
    return message_for(kind.api_version, kind.kind)


def flattened(message: str) -> dict[str, list]:
    """The table's entry with inlined members' fields in place of the member, as their JSON shows them."""
    out = {}
    for name, entry in table()[message].items():
        if "i" in entry[2]:
            out.update(flattened(entry[1]))
        else:
            out[name] = entry
    return out


def missing(descriptor: Descriptor, message: str, path: str, seen: set) -> list[str]:
    if (descriptor.full_name, message) in seen:
        return []
    seen.add((descriptor.full_name, message))
    fields = flattened(message)
    found = []
    for field in descriptor.fields:
        name = field.json_name
        if name in TYPE_META and "metadata" in descriptor.fields_by_name:
            continue
        here = f"{path}.{name}" if path else name
        if name not in fields:
            found.append(f"{message}: {here}")
            continue
        target = fields[name][1].split(":")[-1]
        sub = field.message_type
        if sub is not None and sub.GetOptions().map_entry:
            sub = sub.fields_by_name["value"].message_type
        if sub is not None and sub.full_name not in OPAQUE and target in table() and \
                target not in k8sproto.SPECIAL:
            found += missing(sub, target, here, seen)
    return found


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=lambda k: k.kind)
def test_table_covers_every_field_of_every_served_kind(kind: Kind) -> None:
    gaps = missing(kind.message.DESCRIPTOR, upstream(kind), "", set())
    assert [gap for gap in gaps if gap not in NEWER_THAN_TABLE] == []


def test_the_table_holds_facts_only() -> None:
    for message, entries in table().items():
        assert message.startswith("io.k8s."), message
        for name, (number, _, flags) in entries.items():
            assert isinstance(number, int) and number > 0, (message, name)
            assert set(flags) <= set("rpi"), (message, name)


# -- a small writer of Kubernetes' wire format, with upstream's field numbers spelled out ----------

def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def ln(number: int, data: bytes | str) -> bytes:
    data = data.encode() if isinstance(data, str) else data
    return tag(number, 2) + varint(len(data)) + data


def vi(number: int, value: int) -> bytes:
    return tag(number, 0) + varint(value)


def entry(number: int, key: str, value: bytes) -> bytes:
    return ln(number, ln(1, key) + ln(2, value))


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return MAGIC + ln(1, ln(1, api_version) + ln(2, kind)) + ln(2, raw) + ln(3, "") + ln(4, k8sproto.MEDIA_TYPE)


def meta(name: str, namespace: str = "", labels: dict | None = None) -> bytes:
    # ObjectMeta as Go writes it: every non-pointer field, zero or not; creationTimestamp an empty Time
    out = ln(1, name) + ln(2, "") + ln(3, namespace) + ln(4, "") + ln(5, "") + ln(6, "") + vi(7, 0) + ln(8, b"")
    for k, v in (labels or {}).items():
        out += entry(11, k, v.encode())
    return out


def test_configmap_with_data_binary_data_and_a_pointer_false() -> None:
    raw = ln(1, meta("cm", "ns", {"a": "b"})) + entry(2, "k", b"v") + entry(3, "bin", b"\x00\x01") + vi(4, 0)
    doc = decode(envelope("v1", "ConfigMap", raw))
    assert doc == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "ns",
                                                                         "labels": {"a": "b"}},
                   "data": {"k": "v"}, "binaryData": {"bin": base64.b64encode(b"\x00\x01").decode()},
                   "immutable": False}
    assert from_dict(doc).immutable is False


def test_deployment_replicas_zero_kept_int_or_string_and_quantities() -> None:
    container = ln(1, "c") + ln(2, "nginx") + ln(8, entry(1, "cpu", ln(1, "100m"))) + \
        ln(6, ln(1, "http") + vi(3, 80) + ln(4, "TCP"))
    template = ln(1, meta("")) + ln(2, ln(2, container) + ln(3, "Always"))
    rolling = ln(1, vi(1, 1) + ln(3, "25%")) + ln(2, vi(1, 0) + vi(2, 2))
    strategy = ln(1, "RollingUpdate") + ln(2, rolling)
    spec = vi(1, 0) + ln(2, entry(1, "app", b"web")) + ln(3, template) + ln(4, strategy) + vi(5, 0) + vi(7, 0)
    doc = decode(envelope("apps/v1", "Deployment", ln(1, meta("web")) + ln(2, spec) + ln(3, b"")))
    assert doc["spec"]["replicas"] == 0
    assert "minReadySeconds" not in doc["spec"] and "paused" not in doc["spec"]
    assert doc["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": "25%", "maxSurge": 2}
    c = doc["spec"]["template"]["spec"]["containers"][0]
    assert c == {"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "100m"}},
                 "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}]}
    assert "status" not in doc
    assert from_dict(doc).spec.replicas == 0


def test_inlined_volume_source_negative_ints_and_packed_repeated() -> None:
    volume = ln(1, "data") + ln(2, ln(2, ln(1, "Memory")))  # VolumeSource inlined; emptyDir is field 2
    ctx = vi(2, -5 & (1 << 64) - 1)  # PodSecurityContext.runAsUser, a negative int64
    groups = ln(4, varint(1) + varint(2))  # supplementalGroups, packed
    spec = ln(1, volume) + ln(14, ctx + groups) + ln(2, ln(1, "c") + ln(2, "busybox"))
    doc = decode(envelope("v1", "Pod", ln(1, meta("p")) + ln(2, spec)))
    assert doc["spec"]["volumes"] == [{"name": "data", "emptyDir": {"medium": "Memory"}}]
    assert doc["spec"]["securityContext"] == {"runAsUser": -5, "supplementalGroups": [1, 2]}


def test_time_micro_time_duration_and_raw_extension() -> None:
    when = vi(1, 1_700_000_000)
    assert k8sproto.SPECIAL[f"{k8sproto.META}Time"](when) == "2023-11-14T22:13:20Z"
    assert k8sproto.SPECIAL[f"{k8sproto.META}MicroTime"](when + vi(2, 123_456_000)) == \
        "2023-11-14T22:13:20.123456Z"
    assert k8sproto.SPECIAL[f"{k8sproto.META}Time"](b"") is None
    assert [go_duration(n) for n in (0, 1_500_000_000, 3_723_000_000_000, 300_000_000, 90_000_000_000)] == \
        ["0s", "1.5s", "1h2m3s", "300ms", "1m30s"]
    revision = ln(1, meta("rev-1")) + ln(2, ln(1, json.dumps({"spec": {"a": 1}}))) + vi(3, 2)
    doc = decode(envelope("apps/v1", "ControllerRevision", revision))
    assert doc["data"] == {"spec": {"a": 1}} and doc["revision"] == 2


def test_double_and_reviews_with_extra_values() -> None:
    spec = ln(1, ln(1, "ns") + ln(2, "get") + ln(5, "pods")) + ln(3, "jane") + ln(4, "devs") + \
        entry(5, "scopes", ln(1, "a") + ln(1, "b"))
    doc = decode(envelope("authorization.k8s.io/v1", "SubjectAccessReview", ln(1, meta("")) + ln(2, spec)))
    assert doc["spec"] == {"resourceAttributes": {"namespace": "ns", "verb": "get", "resource": "pods"},
                           "user": "jane", "groups": ["devs"], "extra": {"scopes": ["a", "b"]}}
    assert struct.unpack("<d", struct.pack("<d", 0.5))[0] == 0.5


def test_eviction_carries_delete_options_from_meta() -> None:
    options = vi(1, 0) + ln(2, ln(1, "uid-1")) + ln(5, "All")
    doc = decode(envelope("policy/v1", "Eviction", ln(1, meta("p", "ns")) + ln(2, options)))
    assert doc["deleteOptions"] == {"gracePeriodSeconds": 0, "preconditions": {"uid": "uid-1"}, "dryRun": ["All"]}


@pytest.mark.parametrize("body, message", [
    (b"{}", "magic"),
    (MAGIC + ln(1, ln(1, "v1") + ln(2, "Nothing")), 'no kind "Nothing"'),
    (MAGIC + ln(1, ln(1, "v1") + ln(2, "ConfigMap")) + b"\x12\x05ab", "truncated"),
    (MAGIC + ln(1, ln(1, "v1") + ln(2, "ConfigMap")) + ln(2, ln(1, b"\xff" * 11)), "truncated"),
    (MAGIC + ln(1, ln(1, "v1") + ln(2, "ConfigMap")) + ln(3, "gzip"), "content encoding"),
    (MAGIC + ln(1, ln(1, "v1") + ln(2, "ConfigMap")) + ln(2, ln(1, ln(1, b"\xff\xfe"))), "UTF-8"),
])
def test_malformed_bodies_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(WireError, match=message):
        decode(body)


def test_unknown_fields_newer_than_the_table_are_ignored() -> None:
    doc = decode(envelope("v1", "ConfigMap", ln(1, meta("cm")) + ln(99, "future") + tag(98, 5) + b"\0\0\0\0"))
    assert doc == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}


def test_scalar_types_in_the_table_are_known() -> None:
    known = {"string", "bytes", "bool", "int32", "int64", "double", "float", "uint32", "uint64"}
    for message, entries in table().items():
        for name, (_, type_, _) in entries.items():
            for part in type_.removeprefix("map:").split(":"):
                assert part in known or part in table(), (message, name, part)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["ConfigMap", "Pod", "Deployment", "ControllerRevision"]))
def test_any_bytes_are_an_object_or_a_wire_error(raw: bytes, kind: str) -> None:
    api_version = "apps/v1" if kind in ("Deployment", "ControllerRevision") else "v1"
    try:
        doc = decode(envelope(api_version, kind, raw))
    except WireError:
        return
    assert doc["kind"] == kind


def test_objects_nested_without_end_are_refused() -> None:
    raw = b""
    for _ in range(400):
        raw = ln(2, ln(1, envelope("apps/v1", "ControllerRevision", raw)))
    with pytest.raises(WireError, match="too deeply"):
        decode(envelope("apps/v1", "ControllerRevision", raw))


def test_wrong_wire_types_are_refused() -> None:
    with pytest.raises(WireError, match="wrong wire type"):
        decode(envelope("v1", "ConfigMap", vi(1, 5)))  # metadata as a varint
    with pytest.raises(WireError, match="wrong wire type"):
        decode(envelope("v1", "ConfigMap", ln(4, b"x")))  # immutable, a bool, length-delimited


# Read-back differences that are Kubernetes' too: MicroTime keeps microseconds, and an object embedded in
# another (a StatefulSet's claim templates) has no TypeMeta on the wire.
EXPECTED = re.compile(r"^.*: sent '(.*)Z', got '\1\.000000Z'$|^\..+\.(apiVersion|kind): missing after a round trip$")


def conform(doc, message: str):
    """The sample with the values the client's models type as `object` where the table has a message left out
    (their JSON is whatever the object is; the sample's "x" is no object)."""
    entries = {name: entry for name, entry in flattened(message).items()}
    out = {}
    for name, value in doc.items():
        entry = entries.get(name)
        target = entry[1].split(":")[-1] if entry else ""
        if entry is None or target not in table() or target in k8sproto.SPECIAL:
            out[name] = value
        elif entry[1].startswith("map:"):
            out[name] = {k: conform(v, target) for k, v in value.items() if isinstance(v, dict)}
        elif isinstance(value, list):
            out[name] = [conform(v, target) for v in value if isinstance(v, dict)]
        elif isinstance(value, dict):
            out[name] = conform(value, target)
    return out


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=lambda k: k.kind)
def test_answers_encode_every_field_and_read_back_equal(kind: Kind) -> None:
    doc = conform(full_object(kind), upstream(kind))
    encoded = k8sencode.encode(doc, k8sencode.message_of(doc))
    problems = [p for p in differences(doc, decode(encoded)) if not _newer_than_table(p) and not EXPECTED.match(p)]
    assert not problems, f"{kind.kind}:\n" + "\n".join(problems)
    listed = {"apiVersion": kind.api_version, "kind": f"{kind.kind}List", "metadata": {"resourceVersion": "5"},
              "items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}
    assert decode(k8sencode.encode(listed, k8sencode.message_of(listed))) == listed


def _newer_than_table(problem: str) -> bool:
    return any(problem.startswith("." + gap.split(": ")[1]) for gap in NEWER_THAN_TABLE)


def test_protobuf_answers_only_for_a_client_that_prefers_them() -> None:
    assert k8sencode.prefers_protobuf("application/vnd.kubernetes.protobuf, */*")
    assert not k8sencode.prefers_protobuf("application/json, application/vnd.kubernetes.protobuf")
    assert k8sencode.message_of({"apiVersion": "v1", "kind": "Status"}) is None
    assert k8sencode.message_of({"apiVersion": "v1", "kind": "PodList"}) == "io.k8s.api.core.v1.PodList"
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "eventTime": "2024-01-02T03:04:05.123456Z",
             "count": 0, "series": {"lastObservedTime": "2024-01-02T03:04:06.000001Z", "count": 2}}
    back = decode(k8sencode.encode(event, "io.k8s.api.core.v1.Event"))
    assert (back["eventTime"], back["series"]) == (event["eventTime"], event["series"])
    assert "count" not in back  # a non-pointer zero reads back as unset
