"""node/probes.py: each probe type against real containers, and the kubelet's threshold/startup semantics."""

from __future__ import annotations

import asyncio
import os
import time

import grpc
import pytest
from google.protobuf import json_format
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from node import probes as pr
from node.cri import CRI
from skiff.v1 import pod_pb2
from tests.fixtures.containerd import Containerd, container_config, containerd_node, in_netns, sandbox_config
from tests.fixtures.images import BUSYBOX, WHOAMI
from tests.fixtures.procs import eventually


@pytest.fixture(scope="module")
def node() -> Containerd:
    with containerd_node("10.88.2.0/24") as c:
        yield c


@pytest.fixture
async def cri(node: Containerd) -> CRI:
    async with CRI(node.address) as client:
        yield client


def make_pod(name: str, container: dict) -> pod_pb2.Pod:
    return json_format.ParseDict({"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
                                  "spec": {"containers": [container]}}, pod_pb2.Pod())


def probe(spec: dict) -> pod_pb2.Probe:
    return json_format.ParseDict(spec, pod_pb2.Probe())


class Recorder:
    def __init__(self) -> None:
        self.updates: list[tuple[float, pr.ProbeUpdate]] = []
        self.failures: list[tuple[str, str]] = []

    async def on_result(self, update: pr.ProbeUpdate) -> None:
        self.updates.append((time.monotonic(), update))

    def on_failure(self, kind: str, message: str) -> None:
        self.failures.append((kind, message))

    def results(self, kind: str) -> list[str]:
        return [u.result for _, u in self.updates if u.kind == kind]


@pytest.fixture
async def busybox(cri: CRI, node: Containerd) -> pr.ProbeTarget:
    """A running busybox container (sleeping) with no probes of its own, as a probe target."""
    yield await start(cri, node, make_pod("bb", {"name": "main", "image": BUSYBOX}), ["sleep", "600"])
    await stop_all(cri)


@pytest.fixture
async def whoami(cri: CRI, node: Containerd) -> pr.ProbeTarget:
    pod = make_pod("web", {"name": "main", "image": WHOAMI, "ports": [{"name": "http", "containerPort": 80}]})
    target = await start(cri, node, pod)
    await eventually(lambda: _in_netns(node, pr.tcp_probe(target.pod_ip, 80, 1)), what="whoami listening")
    yield target
    await stop_all(cri)


async def start(cri: CRI, node: Containerd, pod: pod_pb2.Pod, command: list[str] | None = None) -> pr.ProbeTarget:
    config = sandbox_config(pod.metadata.name, os.path.join(node.base, "logs"), uid=pod.metadata.uid)
    sandbox_id = await cri.run_pod_sandbox(config)
    c = pod.spec.containers[0]
    container_id = await cri.create_container(sandbox_id, container_config(config, c.name, c.image, command), config)
    await cri.start_container(container_id)
    ip = (await cri.pod_sandbox_status(sandbox_id)).network.ip
    return pr.ProbeTarget(pod=pod, container=c, container_id=container_id, pod_ip=ip, cri=cri)


async def stop_all(cri: CRI) -> None:
    for sandbox in await cri.list_pod_sandboxes():
        await cri.stop_pod_sandbox(sandbox.id)
        await cri.remove_pod_sandbox(sandbox.id)


async def _in_netns(node: Containerd, coro) -> bool:
    """Runs a probe coroutine from inside the node's network namespace (where pod IPs are reachable)."""
    result = await asyncio.to_thread(in_netns, node.netns, lambda: asyncio.run(coro))
    return result[0] == pr.SUCCESS if isinstance(result, tuple) else result


def run_in_node(node: Containerd, coro) -> tuple[str, str]:
    return in_netns(node.netns, lambda: asyncio.run(coro))


# ---- settings and ports ----

def test_defaults_follow_kubernetes() -> None:
    s = pr.settings(pr.LIVENESS, probe({"exec": {"command": ["true"]}, "successThreshold": 3}))
    assert s == pr.Settings(initial_delay=0, timeout=1, period=10, success_threshold=1, failure_threshold=3)
    r = pr.settings(pr.READINESS, probe({"exec": {"command": ["true"]}, "successThreshold": 3, "periodSeconds": 2}))
    assert (r.success_threshold, r.period) == (3, 2)


def test_resolve_port() -> None:
    c = json_format.ParseDict({"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}, pod_pb2.Container())
    http = probe({"httpGet": {"port": "http"}}).http_get.port
    assert pr.resolve_port(http, c) == 8080
    assert pr.resolve_port(probe({"httpGet": {"port": 81}}).http_get.port, c) == 81
    with pytest.raises(ValueError, match="couldn't find port 'admin'"):
        pr.resolve_port(probe({"httpGet": {"port": "admin"}}).http_get.port, c)
    with pytest.raises(ValueError, match="invalid port"):
        pr.resolve_port(probe({"httpGet": {"port": 70000}}).http_get.port, c)


def test_request_headers_override_defaults() -> None:
    headers = [pod_pb2.HTTPHeader(name="host", value="example.test"), pod_pb2.HTTPHeader(name="X-A", value="b")]
    request = pr._request("10.0.0.1", 80, "/healthz", headers).decode()
    assert request.startswith("GET /healthz HTTP/1.1\r\n")
    assert "Host: example.test\r\n" in request and "X-A: b\r\n" in request
    assert "User-Agent: kube-probe/" in request and request.endswith("\r\n\r\n")


# ---- each probe type ----

async def test_exec_probe(busybox: pr.ProbeTarget) -> None:
    assert await pr.exec_probe(busybox, ["true"], 1) == (pr.SUCCESS, "")
    result, output = await pr.exec_probe(busybox, ["sh", "-c", "echo broken; exit 1"], 1)
    assert (result, output) == (pr.FAILURE, "broken\n")
    t0 = time.monotonic()
    result, output = await pr.exec_probe(busybox, ["sleep", "10"], 1)
    assert result == pr.FAILURE and "timed out" in output
    assert time.monotonic() - t0 < 8


async def test_http_probe(node: Containerd, whoami: pr.ProbeTarget) -> None:
    ok = probe({"httpGet": {"port": "http", "path": "/"}})
    result, body = run_in_node(node, pr.run_probe(ok, whoami, 2))
    assert result == pr.SUCCESS and "Hostname: web" in body
    missing = probe({"httpGet": {"port": 80, "path": "/nothing-here"}})
    assert run_in_node(node, pr.run_probe(missing, whoami, 2)) == (pr.FAILURE, "HTTP probe failed with statuscode: 404")
    closed = probe({"httpGet": {"port": 81}})
    result, message = run_in_node(node, pr.run_probe(closed, whoami, 2))
    assert result == pr.FAILURE and "refused" in message.lower()
    unknown_port = probe({"httpGet": {"port": "admin"}})
    assert run_in_node(node, pr.run_probe(unknown_port, whoami, 2))[0] == pr.UNKNOWN


async def test_tcp_probe(node: Containerd, whoami: pr.ProbeTarget) -> None:
    assert run_in_node(node, pr.run_probe(probe({"tcpSocket": {"port": "http"}}), whoami, 1))[0] == pr.SUCCESS
    result, message = run_in_node(node, pr.run_probe(probe({"tcpSocket": {"port": 81}}), whoami, 1))
    assert result == pr.FAILURE and f"{whoami.pod_ip}:81" in message


async def test_http_probe_redirects() -> None:
    """Same-host redirects are followed (the last answer decides); one to another host is not, and passes."""
    routes = {"/same": (302, "/ok"), "/ok": (200, ""), "/to-error": (301, "http://127.0.0.1:{port}/error"),
              "/error": (500, ""), "/loop": (302, "/loop"), "/away": (302, "http://elsewhere.invalid/")}
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        path = (await reader.readline()).split()[1].decode()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        seen.append(path)
        status, location = routes[path]
        extra = f"Location: {location.format(port=port)}\r\n" if location else ""
        writer.write(f"HTTP/1.1 {status} X\r\n{extra}Content-Length: 2\r\n\r\nhi".encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    target = pr.ProbeTarget(pod=pod_pb2.Pod(), container=pod_pb2.Container(), container_id="", pod_ip="127.0.0.1")

    async def result(path: str) -> tuple[str, str]:
        return await pr.run_probe(probe({"httpGet": {"port": port, "path": path}}), target, 5)

    try:
        assert await result("/same") == (pr.SUCCESS, "hi") and seen[-2:] == ["/same", "/ok"]
        assert await result("/to-error") == (pr.FAILURE, "HTTP probe failed with statuscode: 500")
        assert (await result("/away"))[0] == pr.SUCCESS and seen[-1] == "/away"
        loop_result, message = await result("/loop")
        assert loop_result == pr.FAILURE and "stopped after 10 redirects" in message
        assert seen.count("/loop") == 11
    finally:
        server.close()
        await server.wait_closed()


async def test_grpc_probe() -> None:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        assert await pr.grpc_probe("127.0.0.1", pod_pb2.GRPCAction(port=port), 1) == (pr.SUCCESS, "")
        await servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        result, message = await pr.grpc_probe("127.0.0.1", pod_pb2.GRPCAction(port=port), 1)
        assert result == pr.FAILURE and "NOT_SERVING" in message
    finally:
        await server.stop(None)
    assert (await pr.grpc_probe("127.0.0.1", pod_pb2.GRPCAction(port=port), 1))[0] == pr.FAILURE


# ---- thresholds and the worker ----

async def test_readiness_thresholds(busybox: pr.ProbeTarget) -> None:
    rec = Recorder()
    spec = probe({"exec": {"command": ["test", "-f", "/tmp/ready"]}, "successThreshold": 2, "failureThreshold": 2})
    p = pr.Prober(pr.READINESS, spec, busybox, rec.on_result, on_failure=rec.on_failure)
    assert p.result == pr.FAILURE  # not ready until proven
    assert await p.probe_once()
    assert rec.updates == [] and rec.failures and rec.failures[0][0] == pr.READINESS
    await busybox.cri.exec_sync(busybox.container_id, ["touch", "/tmp/ready"], 5)
    await p.probe_once()
    assert p.result == pr.FAILURE  # one success is below successThreshold 2
    await p.probe_once()
    assert p.result == pr.SUCCESS and rec.results(pr.READINESS) == [pr.SUCCESS]
    await busybox.cri.exec_sync(busybox.container_id, ["rm", "/tmp/ready"], 5)
    await p.probe_once()
    assert p.result == pr.SUCCESS
    assert await p.probe_once()  # readiness keeps probing after failing
    assert rec.results(pr.READINESS) == [pr.SUCCESS, pr.FAILURE]
    update = rec.updates[-1][1]
    assert (update.pod_uid, update.container_name, update.container_id) == (
        "uid-bb", "main", busybox.container_id)


async def test_liveness_fails_after_threshold_on_its_period(busybox: pr.ProbeTarget) -> None:
    await busybox.cri.exec_sync(busybox.container_id, ["touch", "/tmp/alive"], 5)
    rec = Recorder()
    spec = probe({"exec": {"command": ["sh", "-c", f"{COUNT_RUN} /tmp/liveness-runs; test -f /tmp/alive"]},
                  "periodSeconds": 1, "failureThreshold": 2})
    p = pr.Prober(pr.LIVENESS, spec, busybox, rec.on_result)
    p.start()
    try:
        await eventually(lambda: _runs_at_least(busybox, "/tmp/liveness-runs", 2), timeout=6,
                         what="the liveness probe to run twice")
        assert rec.updates == []  # alive: the initial Success is not re-reported
        await busybox.cri.exec_sync(busybox.container_id, ["rm", "/tmp/alive"], 5)
        removed = time.monotonic()
        await eventually(lambda: _true(rec.results(pr.LIVENESS) == [pr.FAILURE]), timeout=6, what="liveness failure")
        assert rec.updates[0][0] - removed >= 0.9  # two failures a period apart
        await eventually(lambda: _true(p._task.done()), timeout=2, what="the liveness prober to stop")
    finally:
        await p.stop()


async def test_initial_delay(busybox: pr.ProbeTarget) -> None:
    rec = Recorder()
    started = time.time()
    spec = probe({"exec": {"command": ["true"]}, "initialDelaySeconds": 2, "periodSeconds": 1})
    p = pr.Prober(pr.READINESS, spec, busybox, rec.on_result, started_at=started)
    p.start()
    try:
        await eventually(lambda: _true(rec.results(pr.READINESS) == [pr.SUCCESS]), timeout=6, what="ready")
        assert time.time() - started >= 2
    finally:
        await p.stop()


async def test_startup_probe_gates_liveness_and_readiness(cri: CRI, node: Containerd) -> None:
    def counted(runs: str, command: str) -> dict:
        return {"exec": {"command": ["sh", "-c", f"{COUNT_RUN} {runs}; {command}"]}, "periodSeconds": 1}
    pod = make_pod("slow", {"name": "main", "image": BUSYBOX,
                            "startupProbe": {**counted("/tmp/startup-runs", "test -f /tmp/started"),
                                             "failureThreshold": 30},
                            "livenessProbe": {**counted("/tmp/liveness-runs", "test -f /tmp/alive"),
                                              "failureThreshold": 1},
                            "readinessProbe": counted("/tmp/readiness-runs", "true")})
    target = await start(cri, node, pod, ["sleep", "600"])
    rec = Recorder()
    probes = pr.ContainerProbes(target, rec.on_result, on_failure=rec.on_failure)
    probes.start()
    try:
        # The startup probe has failed three times (three periods): liveness and readiness never ran.
        await eventually(lambda: _runs_at_least(target, "/tmp/startup-runs", 3), timeout=8,
                         what="the startup probe to run three times")
        assert not probes.started() and not probes.ready
        assert pr.LIVENESS not in {kind for kind, _ in rec.failures}  # it would fail, but does not run yet
        assert not await _runs_at_least(target, "/tmp/liveness-runs", 1)
        assert not await _runs_at_least(target, "/tmp/readiness-runs", 1)
        await cri.exec_sync(target.container_id, ["touch", "/tmp/started"], 5)
        await eventually(lambda: _true(probes.ready), timeout=6, what="ready after startup")
        assert rec.results(pr.STARTUP) == [pr.SUCCESS]
        await eventually(lambda: _true(rec.results(pr.LIVENESS) == [pr.FAILURE]), timeout=4,
                         what="liveness running once started")
    finally:
        await probes.stop()
        await stop_all(cri)


async def _true(value: bool) -> bool:
    return value


COUNT_RUN = "echo run >>"  # a probe command's first step: leaves one line per run in the file named next


async def _runs_at_least(target: pr.ProbeTarget, runs: str, count: int) -> bool:
    """Whether the probe command that appends to `runs` in the container has run `count` times."""
    result = await target.cri.exec_sync(target.container_id, ["sh", "-c", f"cat {runs} 2>/dev/null || true"], 5)
    return result.stdout.decode().count("run") >= count
