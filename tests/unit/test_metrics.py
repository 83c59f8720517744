"""The metrics seams one by one: serving, gauges read at scrape time, the work queue's series, the
apiserver's request labels, the scheduler's, the kubelet's and kube-proxy's instrumentation."""

from __future__ import annotations

import argparse
import gc
import socket
import time
import uuid

import grpc
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from control.apiserver import metrics as apimetrics
from control.client.kinds import KINDS
from control.client.metrics import SampledGauge, add_metrics_flag, serve_metrics
from control.client.workqueue import WorkQueue
from control.scheduler import metrics as schedmetrics
from control.scheduler.podinfo import PodInfo
from control.scheduler.queue import SchedulingQueue
from control.scheduler.testing import make_pod
from cri.runtime.v1 import api_pb2 as cri_pb
from node import metrics as nodemetrics
from node.network.nftables import NodeConfig
from node.network.proxy import ServiceProxy
from node.podworkers import PodWorker
from skiff.v1 import pod_pb2
from tests.fixtures.metrics import scrape_sync
from tests.fixtures.nftproxy import RecordingNft, eps, svc


def sample(metric: str, /, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


# -- serving ---------------------------------------------------------------------------------------------

def test_served_over_http_and_parsed_by_the_prometheus_parser():
    registry = CollectorRegistry()
    Counter("skiff_test_things_total", "Things.", ["kind"], registry=registry).labels("a").inc(3)
    server = serve_metrics("127.0.0.1:0", registry)
    try:
        scraped = scrape_sync(server.port)
        assert scraped.value("skiff_test_things_total", kind="a") == 3
        assert scraped.types["skiff_test_things"] == "counter"
        assert not scraped.has("skiff_test_things_created")  # Kubernetes' series carry no _created
    finally:
        server.close()


def test_zero_disables_and_a_taken_port_does_not_stop_the_component():
    assert serve_metrics("0") is None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert serve_metrics(f"127.0.0.1:{taken.getsockname()[1]}", CollectorRegistry()) is None


def test_flag_rejects_a_malformed_address():
    p = argparse.ArgumentParser()
    add_metrics_flag(p, "127.0.0.1:10251")
    assert p.parse_args([]).metrics_bind_address == "127.0.0.1:10251"
    assert p.parse_args(["--metrics-bind-address", "0"]).metrics_bind_address == "0"
    assert p.parse_args(["--metrics-bind-address", "[::1]:9000"]).metrics_bind_address == "[::1]:9000"
    with pytest.raises(SystemExit):
        p.parse_args(["--metrics-bind-address", "localhost"])


# -- gauges read at scrape time ------------------------------------------------------------------------------

class Owner:
    def __init__(self, n: int) -> None:
        self.n = n


def test_sampled_gauge_adds_up_owners_and_forgets_collected_ones():
    registry = CollectorRegistry()
    gauge = SampledGauge("skiff_test_items", "Items.", ("kind",), registry=registry)
    a, b = Owner(2), Owner(5)
    gauge.track(a, lambda o: [(("x",), o.n)])
    gauge.track(b, lambda o: [(("x",), o.n), (("y",), 1)])
    assert registry.get_sample_value("skiff_test_items", {"kind": "x"}) == 7
    assert registry.get_sample_value("skiff_test_items", {"kind": "y"}) == 1
    del b
    gc.collect()
    assert registry.get_sample_value("skiff_test_items", {"kind": "x"}) == 2
    assert registry.get_sample_value("skiff_test_items", {"kind": "y"}) is None


# -- the work queue --------------------------------------------------------------------------------------------

async def test_work_queue_series_follow_client_go():
    name = f"q-{uuid.uuid4().hex[:6]}"
    q = WorkQueue(name=name)
    q.add("a")
    q.add("a")  # already queued: not an add
    assert sample("workqueue_adds_total", name=name) == 1
    assert sample("workqueue_depth", name=name) == 1
    assert await q.get() == "a"
    assert sample("workqueue_depth", name=name) == 0
    assert sample("workqueue_queue_duration_seconds_count", name=name) == 1
    assert sample("workqueue_longest_running_processor_seconds", name=name) > 0
    q.add("a")  # while it is processed: counted now, handed out after done
    assert (sample("workqueue_adds_total", name=name), sample("workqueue_depth", name=name)) == (2, 1)
    q.done("a")
    assert sample("workqueue_work_duration_seconds_count", name=name) == 1
    assert sample("workqueue_unfinished_work_seconds", name=name) == 0
    assert await q.get() == "a"
    q.add_rate_limited("a")
    q.done("a")
    assert sample("workqueue_retries_total", name=name) == 1
    assert sample("workqueue_queue_duration_seconds_count", name=name) == 2
    assert sample("workqueue_work_duration_seconds_count", name=name) == 2
    q.shutdown()


async def test_an_unnamed_queue_reports_nothing():
    before = {m.name: len(m.samples) for m in REGISTRY.collect() if m.name.startswith("workqueue_")}
    q = WorkQueue()
    q.add("a")
    await q.get()
    q.done("a")
    after = {m.name: len(m.samples) for m in REGISTRY.collect() if m.name.startswith("workqueue_")}
    assert after == before


# -- the apiserver's request labels ----------------------------------------------------------------------------

@pytest.mark.parametrize("verb,sub,ns,name,want_verb,want_scope", [
    ("create", "", "default", "", "POST", "resource"),
    ("get", "", "default", "web", "GET", "resource"),
    ("list", "", "default", "", "LIST", "namespace"),
    ("list", "", "", "", "LIST", "cluster"),
    ("watch", "", "", "", "WATCH", "cluster"),
    ("update", "status", "default", "web", "PUT", "resource"),
    ("delete", "", "default", "web", "DELETE", "resource"),
    ("create", "binding", "default", "web", "POST", "resource"),
    ("create", "exec", "default", "web", "CONNECT", "resource"),
    ("get", "log", "default", "web", "GET", "resource"),
])
def test_a_call_is_reported_as_the_rest_request_it_stands_for(verb, sub, ns, name, want_verb, want_scope):
    info = apimetrics.request_info(KINDS["Pod"], verb, sub, ns, name, dry_run=False)
    assert (info.verb, info.scope, info.subresource, info.group, info.version) == \
        (want_verb, want_scope, sub, "", "v1")


def test_codes_are_kubernetes_http_codes():
    pods = KINDS["Pod"]
    create = apimetrics.request_info(pods, "create", "", "default", "", dry_run=True)
    get = apimetrics.request_info(pods, "get", "", "default", "web", dry_run=False)
    exec_ = apimetrics.request_info(pods, "create", "exec", "default", "web", dry_run=False)
    assert create.dry_run == "All" and get.dry_run == ""
    assert apimetrics.http_code(create, grpc.StatusCode.OK) == "201"
    assert apimetrics.http_code(exec_, grpc.StatusCode.OK) == "200"
    assert apimetrics.http_code(get, grpc.StatusCode.OK) == "200"
    codes = {grpc.StatusCode.NOT_FOUND: "404", grpc.StatusCode.ALREADY_EXISTS: "409", grpc.StatusCode.ABORTED: "409",
             grpc.StatusCode.INVALID_ARGUMENT: "422", grpc.StatusCode.PERMISSION_DENIED: "403",
             grpc.StatusCode.UNAUTHENTICATED: "401", grpc.StatusCode.RESOURCE_EXHAUSTED: "429",
             grpc.StatusCode.OUT_OF_RANGE: "410", grpc.StatusCode.INTERNAL: "500", grpc.StatusCode.UNKNOWN: "500"}
    for code, http in codes.items():
        assert apimetrics.http_code(get, code) == http
    assert apimetrics.resource_type(KINDS["Deployment"]) == "deployments.apps"
    assert apimetrics.resource_type(KINDS["Pod"]) == "pods"


# -- the scheduler ------------------------------------------------------------------------------------------------

def test_scheduler_attempts_and_pending_pods():
    profile = f"p-{uuid.uuid4().hex[:6]}"
    schedmetrics.attempt(schedmetrics.SCHEDULED, profile, time.monotonic() - 0.01)
    assert sample("scheduler_schedule_attempts_total", result="scheduled", profile=profile) == 1
    assert sample("scheduler_scheduling_attempt_duration_seconds_sum", result="scheduled", profile=profile) >= 0.01
    before = sample("scheduler_pending_pods", queue="active")
    queue = SchedulingQueue()
    schedmetrics.track_queue(queue)
    queue.add(PodInfo(make_pod("a")))
    queue.add(PodInfo(make_pod("b")))
    assert sample("scheduler_pending_pods", queue="active") == before + 2
    assert REGISTRY.get_sample_value("scheduler_pending_pods", {"queue": "gated"}) == 0


# -- the kubelet ----------------------------------------------------------------------------------------------------

def test_pleg_relist_sets_running_pods_and_containers_by_state():
    sandboxes = [cri_pb.PodSandbox(id="s1", state=cri_pb.SANDBOX_READY),
                 cri_pb.PodSandbox(id="s2", state=cri_pb.SANDBOX_NOTREADY)]
    containers = [cri_pb.Container(id=f"c{i}", state=s) for i, s in enumerate(
        [cri_pb.CONTAINER_RUNNING, cri_pb.CONTAINER_RUNNING, cri_pb.CONTAINER_EXITED, cri_pb.CONTAINER_CREATED])]
    count = sample("kubelet_pleg_relist_duration_seconds_count")
    nodemetrics.relisted(time.monotonic(), sandboxes, containers)
    assert sample("kubelet_pleg_relist_duration_seconds_count") == count + 1
    assert sample("kubelet_running_pods") == 1
    states = {s: sample("kubelet_running_containers", container_state=s)
              for s in ("running", "exited", "created", "unknown")}
    assert states == {"running": 2, "exited": 1, "created": 1, "unknown": 0}


def test_pod_start_is_observed_once_and_never_for_an_adopted_running_pod():
    def worker() -> PodWorker:
        return PodWorker(uid=uuid.uuid4().hex, pod=pod_pb2.Pod(), first_seen=time.monotonic() - 2)

    count = sample("kubelet_pod_start_duration_seconds_count")
    total = sample("kubelet_pod_start_duration_seconds_sum")
    fresh = worker()
    nodemetrics.pod_status_reported(fresh, "", "Pending")
    assert sample("kubelet_pod_start_duration_seconds_count") == count
    nodemetrics.pod_status_reported(fresh, "Pending", "Running")
    nodemetrics.pod_status_reported(fresh, "Running", "Running")
    assert sample("kubelet_pod_start_duration_seconds_count") == count + 1
    assert sample("kubelet_pod_start_duration_seconds_sum") - total >= 2
    nodemetrics.pod_status_reported(worker(), "Running", "Running")  # adopted after an agent restart
    assert sample("kubelet_pod_start_duration_seconds_count") == count + 1


# -- kube-proxy --------------------------------------------------------------------------------------------

async def test_proxy_syncs_are_timed_as_full_then_partial():
    def counts() -> tuple[float, float, float]:
        return (sample("kubeproxy_sync_proxy_rules_duration_seconds_count"),
                sample("kubeproxy_sync_full_proxy_rules_duration_seconds_count"),
                sample("kubeproxy_sync_partial_proxy_rules_duration_seconds_count"))

    total, full, partial = counts()
    proxy = ServiceProxy(RecordingNft(), NodeConfig())
    await proxy.sync()
    assert counts() == (total + 1, full + 1, partial)
    proxy.on_service(svc("a", "10.96.0.1"))
    proxy.on_endpoints(eps("a", "10.244.1.2"))
    await proxy.sync()
    assert counts() == (total + 2, full + 1, partial + 1)
    await proxy.sync()  # nothing to do: no sync
    assert counts() == (total + 2, full + 1, partial + 1)
    assert sample("kubeproxy_sync_proxy_rules_last_timestamp_seconds") >= time.time() - 60
