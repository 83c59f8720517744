"""skiff-apiserver's /metrics, scraped over HTTP from a real apiserver process while it serves requests."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from skiff.v1 import authz_pb2, reviews_pb2_grpc
from tests.fixtures.apiserver import ApiServer, start_apiserver
from tests.fixtures.metrics import Scrape, scrape
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually, free_port


@pytest.fixture(scope="module")
def served(etcd) -> tuple[ApiServer, int]:
    port = free_port()
    server = start_apiserver(etcd, ["--metrics-bind-address", f"127.0.0.1:{port}"])
    yield server, port
    server.stop()


@pytest.fixture
async def admin(served) -> Client:
    async with Client(served[0].target) as c:
        yield c


def configmap(name: str, namespace: str) -> object:
    return from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
                      "data": {"k": "v"}})


async def fails(call, code: grpc.StatusCode) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call
    assert e.value.code() == code


def requests(s: Scrape, verb: str, code: str, resource: str = "configmaps", **labels: str) -> float:
    return s.value("apiserver_request_total", verb=verb, resource=resource, code=code, component="apiserver",
                   **labels)


async def test_requests_are_counted_by_verb_resource_scope_and_code(served, admin):
    _, port = served
    ns = f"m-{uuid.uuid4().hex[:6]}"
    await admin.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
    before = await scrape(port)

    for i in range(3):
        await admin.create(configmap(f"cm-{i}", ns))
    await fails(admin.create(configmap("cm-0", ns)), grpc.StatusCode.ALREADY_EXISTS)
    await fails(admin.create(configmap("Not_Valid", ns)), grpc.StatusCode.INVALID_ARGUMENT)
    await admin.create(configmap("dry", ns), dry_run=True)
    await admin.get("ConfigMap", "cm-1", ns)
    await fails(admin.get("ConfigMap", "missing", ns), grpc.StatusCode.NOT_FOUND)
    await admin.list("ConfigMap", ns)
    await admin.list("ConfigMap")
    await admin.delete("ConfigMap", "cm-2", ns)
    async with Client(served[0].target, config=session_pki().user_config("mallory")) as mallory:
        await fails(mallory.list("ConfigMap", ns), grpc.StatusCode.PERMISSION_DENIED)

    after = await scrape(port)

    def delta(verb: str, code: str, **labels: str) -> float:
        return requests(after, verb, code, **labels) - requests(before, verb, code, **labels)

    assert delta("POST", "201", scope="resource", dry_run="") == 3
    assert delta("POST", "201", dry_run="All") == 1
    assert delta("POST", "409") == 1
    assert delta("POST", "422") == 1
    assert delta("GET", "200", scope="resource") == 1
    assert delta("GET", "404") == 1
    assert delta("LIST", "200", scope="namespace") == 1
    assert delta("LIST", "200", scope="cluster") == 1
    assert delta("LIST", "403", scope="namespace") == 1
    assert delta("DELETE", "200", scope="resource") == 1
    assert delta("POST", "201", group="", version="v1", subresource="") == 4
    names = {frozenset(dict(ls)) for (n, ls) in after.samples if n == "apiserver_request_total"}
    assert names == {frozenset({"verb", "dry_run", "group", "version", "resource", "subresource", "scope",
                                "component", "code"})}

    # The histogram has one observation per request, without the code label.
    def observed(verb: str, s: Scrape) -> float:
        return s.value("apiserver_request_duration_seconds_count", verb=verb, resource="configmaps")
    assert observed("POST", after) - observed("POST", before) == 6
    assert after.types["apiserver_request_duration_seconds"] == "histogram"
    assert after.value("apiserver_request_duration_seconds_sum", verb="POST", resource="configmaps") > 0

    # etcd: every create that reached storage (the three, the conflict) is one etcd create.
    etcd_creates = after.value("etcd_request_duration_seconds_count", operation="create", type="configmaps")
    assert etcd_creates - before.value("etcd_request_duration_seconds_count", operation="create",
                                       type="configmaps") == 4
    assert after.value("apiserver_storage_objects", resource="configmaps") >= 2
    assert after.has("apiserver_storage_objects", resource="deployments.apps")
    assert after.has("process_cpu_seconds_total")


async def test_watches_are_long_running_and_registered_while_open(served, admin):
    _, port = served

    def watching(s: Scrape) -> tuple[float, float]:
        return (s.value("apiserver_longrunning_requests", verb="WATCH", resource="secrets", scope="cluster"),
                s.value("apiserver_registered_watchers", group="", version="v1", kind="Secret"))

    base = watching(await scrape(port))
    async def watch() -> None:
        async for _ in admin.watch("Secret"):
            pass

    tasks = [asyncio.create_task(watch()) for _ in range(2)]
    try:
        async def open_now() -> bool:
            return watching(await scrape(port)) == (base[0] + 2, base[1] + 2)
        await eventually(open_now, timeout=10, what="two watches counted")
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def closed() -> bool:
        return watching(await scrape(port)) == base
    await eventually(closed, timeout=10, what="closed watches uncounted")
    s = await scrape(port)
    assert s.value("apiserver_request_total", verb="WATCH", resource="secrets", code="200") >= 2



async def test_self_reviews_are_counted_as_creates_in_their_groups(served, admin):
    _, port = served
    before = await scrape(port)
    await reviews_pb2_grpc.SelfSubjectReviewsStub(admin.channel).Create(authz_pb2.SelfSubjectReview())
    access = reviews_pb2_grpc.SelfSubjectAccessReviewsStub(admin.channel)
    await fails(access.Create(authz_pb2.SelfSubjectAccessReview()), grpc.StatusCode.INVALID_ARGUMENT)
    after = await scrape(port)
    for group, resource, code in (("authentication.k8s.io", "selfsubjectreviews", "201"),
                                  ("authorization.k8s.io", "selfsubjectaccessreviews", "422")):
        assert requests(after, "POST", code, resource, group=group) - \
            requests(before, "POST", code, resource, group=group) == 1
