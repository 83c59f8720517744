"""Hostile and malformed requests against a real apiserver (hypothesis).

Properties, for every method of every kind's service:
- the answer is a proper gRPC status from an allowed set (never UNKNOWN or INTERNAL);
- the server survives: Health answers SERVING after every batch;
- a rejected write changes nothing in etcd (its revision stays put);
- an accepted write reads back equal to what the server answered.

Hypothesis drives synchronous tests; the gRPC calls run on one event loop and one
channel shared by the whole module (asyncio.Runner), which keeps thousands of calls fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from control.client.client import Client
from control.client.convert import from_dict
from control.client.kinds import KINDS, Kind
from skiff.v1 import meta_pb2, requests_pb2
from tests.fixtures.fuzzing import (
    BASE_OBJECTS,
    EtcdRevision,
    Method,
    call_raw,
    call_unary,
    hostile_text,
    kind_methods,
    mutations,
)
from tests.fixtures.procs import wait_for

pytestmark = pytest.mark.timeout(180)

C = grpc.StatusCode
# What a request may be answered with. UNAVAILABLE only where the apiserver proxies to a node agent.
# UNIMPLEMENTED: a subresource the kind lacks (UpdateStatus of a ConfigMap; Kubernetes answers 404).
ALLOWED = {C.OK, C.UNIMPLEMENTED, C.INVALID_ARGUMENT, C.NOT_FOUND, C.ALREADY_EXISTS, C.ABORTED, C.FAILED_PRECONDITION,
           C.OUT_OF_RANGE, C.PERMISSION_DENIED, C.UNAUTHENTICATED, C.RESOURCE_EXHAUSTED}
PROXIED = ALLOWED | {C.UNAVAILABLE}
FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


@dataclass
class Harness:
    runner: asyncio.Runner
    client: Client
    etcd: EtcdRevision

    def run(self, coro: Awaitable):
        return self.runner.run(coro)

    async def healthy(self) -> None:
        resp = await health_pb2_grpc.HealthStub(self.client.channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def harness(apiserver, etcd):
    runner = asyncio.Runner()

    async def connect() -> Harness:
        return Harness(runner, Client(apiserver.target), await EtcdRevision.connect(etcd.url))

    h = runner.run(connect())
    try:
        yield h
    finally:
        with contextlib.suppress(Exception):
            runner.run(h.client.close())
            runner.run(h.etcd.close())
        runner.close()


METHODS: list[Method] = [m for k in KINDS.values() for m in kind_methods(k)]


def _allowed(method: Method) -> set[C]:
    return PROXIED if method.proxied else ALLOWED


# -- random bytes as every request ---------------------------------------------------------------

@settings(FUZZ, max_examples=25)
@given(payloads=st.lists(st.binary(max_size=300), min_size=8, max_size=8))
def test_random_bytes_to_every_method(harness: Harness, payloads: list[bytes]) -> None:
    async def batch() -> list[tuple[Method, bytes, C]]:
        before = await harness.etcd.revision()
        limit = asyncio.Semaphore(64)

        async def one(method: Method, payload: bytes) -> tuple[Method, bytes, C]:
            async with limit:
                return method, payload, await call_raw(harness.client.channel, method, payload)

        results = await asyncio.gather(*(one(m, p) for m in METHODS for p in payloads))
        await harness.healthy()
        if not any(code == C.OK and m.mutating for m, _, code in results):
            assert await harness.etcd.revision() == before, "a rejected request wrote to etcd"
        return results

    for method, payload, code in harness.run(batch()):
        assert code in _allowed(method), f"{method.path} answered {code.name} to {payload!r}"


def test_deeply_nested_and_oversized_payloads(harness: Harness) -> None:
    nested = b"\xc3\x3e" * 5000 + b"\xc4\x3e" * 5000  # 5000 nested groups of unknown field 1000
    huge = b"\x0a" + b"\xff\xff\xff\x07" + b"\x00" * 17_000_000  # over the server's 16 MiB limit

    async def batch() -> None:
        before = await harness.etcd.revision()
        for method in METHODS:
            assert await call_raw(harness.client.channel, method, nested) in _allowed(method), method.path
        create = next(m for m in METHODS if m.path == "/skiff.v1.ConfigMaps/Create")
        assert await call_raw(harness.client.channel, create, huge) == C.RESOURCE_EXHAUSTED
        await harness.healthy()
        assert await harness.etcd.revision() == before

    harness.run(batch())


def test_invalid_utf8_in_a_string_field(harness: Harness) -> None:
    # ConfigMapRequest.object (1) -> ConfigMap.metadata (3?) is resolved from the descriptors, not guessed.
    kind = KINDS["ConfigMap"]
    obj_field = kind.request_message.DESCRIPTOR.fields_by_name["object"].number
    meta_field = kind.message.DESCRIPTOR.fields_by_name["metadata"].number
    name_field = meta_pb2.ObjectMeta.DESCRIPTOR.fields_by_name["name"].number
    name = bytes([name_field << 3 | 2, 2]) + b"\xc3\x28"
    meta = bytes([meta_field << 3 | 2, len(name)]) + name
    payload = bytes([obj_field << 3 | 2, len(meta)]) + meta
    create = next(m for m in METHODS if m.path == f"/{kind.full_service_name}/Create")

    async def check() -> None:
        before = await harness.etcd.revision()
        assert await call_raw(harness.client.channel, create, payload) == C.INVALID_ARGUMENT
        assert await harness.etcd.revision() == before

    harness.run(check())


# -- structurally valid objects with hostile field values ----------------------------------------

WRITABLE = [k for k in KINDS.values() if k.kind in BASE_OBJECTS]


async def _create_checked(harness: Harness, obj: Message) -> tuple[C, Message | None]:
    before = await harness.etcd.revision()
    try:
        created = await harness.client.create(obj)
    except grpc.aio.AioRpcError as e:
        assert await harness.etcd.revision() == before, f"rejected ({e.code().name}: {e.details()}) but wrote"
        return e.code(), None
    return C.OK, created


async def _read_back_equal(harness: Harness, kind: Kind, written: Message) -> None:
    got = await harness.client.get(kind, written.metadata.name, written.metadata.namespace)
    assert got == written, f"{kind.kind} {written.metadata.name!r} read back differs from the write's answer"


@settings(FUZZ, max_examples=400)
@given(kind=st.sampled_from(WRITABLE), data=st.data())
def test_create_with_hostile_fields(harness: Harness, kind: Kind, data: st.DataObject) -> None:
    obj = from_dict(copy.deepcopy(BASE_OBJECTS[kind.kind]))
    obj.metadata.name = data.draw(st.from_regex(r"\Afz[a-z0-9]{1,12}\Z"), label="base name")
    for mutate in data.draw(mutations(obj), label="mutations"):
        mutate(obj)

    async def check() -> None:
        code, created = await _create_checked(harness, obj)
        event(f"create {code.name}")
        assert code in ALLOWED, f"Create {kind.kind} answered {code.name}"
        if created is not None:
            await _read_back_equal(harness, kind, created)

    harness.run(check())
    harness.run(harness.healthy())


@pytest.fixture(scope="module")
def stored(harness: Harness) -> dict[str, Message]:
    """One stored object per writable kind, the target of the hostile updates."""
    async def create_all() -> dict[str, Message]:
        out = {}
        for kind in WRITABLE:
            obj = from_dict(copy.deepcopy(BASE_OBJECTS[kind.kind]))
            obj.metadata.name = "fuzz-target"
            out[kind.kind] = await harness.client.create(obj)
        return out
    return harness.run(create_all())


@settings(FUZZ, max_examples=400)
@given(kind=st.sampled_from(WRITABLE), status=st.booleans(), data=st.data())
def test_update_with_hostile_fields(harness: Harness, stored: dict[str, Message], kind: Kind,
                                    status: bool, data: st.DataObject) -> None:
    async def current() -> Message:
        return await harness.client.get(kind, "fuzz-target", stored[kind.kind].metadata.namespace)

    obj = harness.run(current())
    old = copy.deepcopy(obj)
    for mutate in data.draw(mutations(obj), label="mutations"):
        mutate(obj)
    send: Callable = harness.client.update_status if status else harness.client.update

    async def check() -> None:
        before = await harness.etcd.revision()
        try:
            updated = await send(obj)
        except grpc.aio.AioRpcError as e:
            event(f"{send.__name__} {e.code().name}")
            assert e.code() in ALLOWED, f"Update {kind.kind} answered {e.code().name}: {e.details()}"
            assert await harness.etcd.revision() == before, f"rejected ({e.code().name}) but wrote"
            if e.code() != C.NOT_FOUND:
                assert await current() == old, "a rejected update changed the stored object"
            return
        await _read_back_equal(harness, kind, updated)

    harness.run(check())


HOSTILE_SELECTOR = st.one_of(st.just(""), hostile_text(),
                             st.sampled_from(["a in (", "a!=", "!", "a,b,", "=b", "a notin", "metadata.name==x"]))


@settings(FUZZ, max_examples=60)
@given(kind=st.sampled_from(list(KINDS.values())), namespace=st.one_of(st.just("default"), hostile_text()),
       label_selector=HOSTILE_SELECTOR, field_selector=HOSTILE_SELECTOR,
       resource_version=st.one_of(st.just(""), hostile_text(), st.integers(-2**63, 2**64).map(str)),
       limit=st.integers(-2**31, 2**31 - 1), continue_token=st.one_of(st.just(""), hostile_text()))
def test_list_and_watch_with_hostile_parameters(harness: Harness, kind: Kind, namespace: str, label_selector: str,
                                                field_selector: str, resource_version: str, limit: int,
                                                continue_token: str) -> None:
    listing = requests_pb2.ListRequest(namespace=namespace, label_selector=label_selector,
                                   field_selector=field_selector, limit=limit, continue_token=continue_token)
    watching = requests_pb2.WatchRequest(namespace=namespace, label_selector=label_selector,
                                     field_selector=field_selector, resource_version=resource_version)
    methods = {m.name: m for m in kind_methods(kind)}

    async def check() -> list[tuple[str, C]]:
        return [("List", await call_raw(harness.client.channel, methods["List"], listing.SerializeToString())),
                ("Watch", await call_raw(harness.client.channel, methods["Watch"], watching.SerializeToString())),
                ("Get", await call_raw(harness.client.channel, methods["Get"], requests_pb2.GetRequest(
                    namespace=namespace, name=continue_token).SerializeToString()))]

    for name, code in harness.run(check()):
        assert code in ALLOWED, f"{kind.kind} {name} answered {code.name}"


# -- races on one name ---------------------------------------------------------------------------

@settings(FUZZ, max_examples=12)
@given(kind=st.sampled_from(WRITABLE), writers=st.integers(2, 12), suffix=st.uuids())
def test_concurrent_creates_and_updates_of_one_name(harness: Harness, kind: Kind, writers: int, suffix) -> None:
    name = f"race-{suffix.hex[:12]}"

    def fresh(i: int) -> Message:
        obj = from_dict(copy.deepcopy(BASE_OBJECTS[kind.kind]))
        obj.metadata.name = name
        obj.metadata.labels["writer"] = str(i)
        return obj

    async def outcome(coro: Awaitable) -> Message | C:
        try:
            return await coro
        except grpc.aio.AioRpcError as e:
            return e.code()

    async def race() -> None:
        created = await asyncio.gather(*(outcome(harness.client.create(fresh(i))) for i in range(writers)))
        winners = [r for r in created if isinstance(r, Message)]
        assert len(winners) == 1, f"{len(winners)} creates of one name succeeded"
        assert all(r == C.ALREADY_EXISTS for r in created if not isinstance(r, Message)), created
        await _read_back_equal(harness, kind, winners[0])
        stale = winners[0]
        updates = []
        for i in range(writers):
            obj = copy.deepcopy(stale)
            obj.metadata.labels["writer"] = f"update-{i}"
            updates.append(obj)
        updated = await asyncio.gather(*(outcome(harness.client.update(o)) for o in updates))
        winners = [r for r in updated if isinstance(r, Message)]
        assert len(winners) == 1, f"{len(winners)} updates from one resourceVersion succeeded"
        assert all(r == C.ABORTED for r in updated if not isinstance(r, Message)), updated
        await _read_back_equal(harness, kind, winners[0])

    harness.run(race())


def test_every_method_is_fuzzed() -> None:
    """The method table covers every kind and every RPC in the services' descriptors."""
    from skiff.v1 import services_pb2
    described = {f"/{s.full_name}/{m.name}" for s in services_pb2.DESCRIPTOR.services_by_name.values()
                 for m in s.methods}
    assert described == {m.path for m in METHODS}


# -- hostile credentials --------------------------------------------------------------------------

_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7e)
HOSTILE_AUTHORIZATION = st.one_of(
    st.text(_PRINTABLE, max_size=64).map(lambda t: f"Bearer {t}"),
    st.sampled_from(["Bearer", "Bearer ", "bearer x", "Basic YWRtaW46YWRtaW4=", "", " ", "Bearer  x",
                     "Bearer x y", "Negotiate x"]),
    st.integers(1_000, 7_000).map(lambda n: "Bearer " + "A" * n),
)


@pytest.fixture(scope="module")
def anonymous(harness: Harness, apiserver, pki):
    """A TLS channel that trusts the cluster CA and presents no client certificate."""
    async def connect() -> Client:
        return Client(apiserver.target, config=pki.config(cert=None))
    c = harness.run(connect())
    yield c
    harness.run(c.close())


@settings(FUZZ, max_examples=60)
@given(authorization=HOSTILE_AUTHORIZATION, method=st.sampled_from([m for m in METHODS if not m.server_streaming]),
       payload=st.binary(max_size=64))
def test_hostile_credentials_are_unauthenticated(harness: Harness, anonymous: Client, authorization: str,
                                                 method: Method, payload: bytes) -> None:
    async def check() -> C:
        before = await harness.etcd.revision()
        code = await call_unary(anonymous, method, payload, metadata=(("authorization", authorization),))
        assert await harness.etcd.revision() == before, f"{method.path} wrote for {authorization[:40]!r}"
        return code

    code = harness.run(check())
    assert code == C.UNAUTHENTICATED, f"{method.path} answered {code.name} to authorization {authorization[:40]!r}"


@settings(FUZZ, max_examples=60)
@given(method=st.sampled_from(METHODS), payload=st.binary(max_size=64))
def test_a_user_without_rules_is_denied_everything(harness: Harness, apiserver, pki, method: Method,
                                                   payload: bytes) -> None:
    async def check() -> C:
        async with Client(apiserver.target, config=pki.user_config("mallory")) as mallory:
            before = await harness.etcd.revision()
            code = await call_raw(mallory.channel, method, payload)
            assert await harness.etcd.revision() == before, f"{method.path} wrote for a user without rules"
            return code

    code = harness.run(check())
    # A payload that does not parse may be refused before anything is authorized.
    assert code in (C.PERMISSION_DENIED, C.INVALID_ARGUMENT), f"{method.path} answered {code.name} to mallory"


def test_audit_log_stays_one_json_event_per_line(harness: Harness, apiserver) -> None:
    """After hostile writes (names with newlines, quotes, control characters, huge strings; and whatever
    the tests above sent): each line of the audit log is one whole audit.k8s.io/v1 Event."""
    names = ["a\nb", 'q"uote', "\x00", "\u2028x", "}{", "x" * 300_000, "名前", "\\"]

    async def hostile_writes() -> None:
        for name in names:
            obj = from_dict(copy.deepcopy(BASE_OBJECTS["ConfigMap"]))
            obj.metadata.name = name
            obj.metadata.namespace = name
            with contextlib.suppress(grpc.aio.AioRpcError):
                await harness.client.create(obj)
            with contextlib.suppress(grpc.aio.AioRpcError):
                await harness.client.delete("configmaps", name, name)
        await harness.healthy()

    harness.run(hostile_writes())

    def audit_lines() -> list[str]:
        return Path(apiserver.audit_log).read_text(encoding="utf-8").splitlines()
    wait_for(lambda: len(audit_lines()) >= 2 * len(names), timeout=10, what="rejected writes audited too")
    for number, line in enumerate(audit_lines(), 1):
        event = json.loads(line)
        assert event["apiVersion"] == "audit.k8s.io/v1" and event["kind"] == "Event", f"line {number}"
        assert event["verb"] and event["user"]["username"], f"line {number}: {line[:200]}"
