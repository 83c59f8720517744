"""skiffctl logs, exec and top through the real apiserver's proxy to a node agent.

The agent here is a stand-in NodeAgent server on loopback (these tests are about skiffctl and the
proxy path, not about containers); the real agent's side is tested with containerd elsewhere. Like a
real agent it serves TLS with its node certificate and wants the apiserver's kubelet-client one.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import grpc
import pytest

from control.client.component import duration
from control.client.convert import from_dict, to_dict
from control.client.quantity import parse_quantity
from skiff.v1 import node_agent_pb2, node_agent_pb2_grpc
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import free_port
from tests.fixtures.rest import Http, kubectl, start_rest_apiserver, write_kubeconfig
from tests.fixtures.skiffctl import ROOT, Result, run_skiffctl, skiffctl_env

LOG_LINES = [f"line {i}\n".encode() for i in range(1, 6)]


class StandInAgent(node_agent_pb2_grpc.NodeAgentServicer):
    def __init__(self) -> None:
        self.log_requests: list[node_agent_pb2.LogsRequest] = []
        self.started = time.time_ns() // 1000 * 1000

    async def Logs(self, request, context):
        self.log_requests.append(request)
        lines = LOG_LINES[-request.tail_lines:] if request.HasField("tail_lines") else LOG_LINES
        for line in lines:
            yield node_agent_pb2.LogChunk(data=line)

    async def Exec(self, request, context):
        if request.command[0] == "fail":
            return node_agent_pb2.ExecResponse(stderr=b"it failed\n", exit_code=3)
        text = f"{request.name}/{request.container or '-'}: {' '.join(request.command)}\n"
        return node_agent_pb2.ExecResponse(stdout=text.encode(), exit_code=0)

    async def ExecStream(self, request_iterator, context):
        first = await anext(aiter(request_iterator))
        if first.start.command[0] == "exit":  # ends at once, without waiting for stdin
            yield node_agent_pb2.ExecOutput(stdout=b"bye\n", exit_code=int(first.start.command[1]))
            return
        async for item in request_iterator:
            if item.stdin:
                yield node_agent_pb2.ExecOutput(stdout=item.stdin.upper())
            if item.close_stdin:
                break
        yield node_agent_pb2.ExecOutput(exit_code=0)

    async def Stats(self, request, context):
        # Cumulative CPU time growing at 250m for the node and 12m for the container.
        now = time.time_ns() // 1000 * 1000  # whole microseconds: the rates come out exact
        elapsed = now - self.started
        container = node_agent_pb2.ContainerStats(
            name="main", id="c1", memory_working_set_bytes=64 * 2**20, cpu_usage_core_nano_seconds=elapsed * 12 // 1000,
            cpu_timestamp_ns=now)
        return node_agent_pb2.StatsSummary(
            node_name=request.name, memory_working_set_bytes=512 * 2**20, memory_capacity_bytes=2048 * 2**20,
            cpu_count=2, cpu_usage_core_nano_seconds=elapsed // 4, cpu_timestamp_ns=now,
            pods=[node_agent_pb2.PodStats(namespace="default", name="busy", containers=[container])])



def _node_credentials(node: str) -> grpc.ServerCredentials:
    pki = session_pki()
    pki.node_config(node)
    key, cert, ca = (Path(pki.file(f)).read_bytes() for f in (f"node-{node}.key", f"node-{node}.crt", "ca.crt"))
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)


@pytest.fixture
async def agent(client):
    servicer = StandInAgent()
    server = grpc.aio.server()
    node_agent_pb2_grpc.add_NodeAgentServicer_to_server(servicer, server)
    port = free_port()
    name = f"agent-node-{port}"
    server.add_secure_port(f"127.0.0.1:{port}", _node_credentials(name))
    await server.start()
    await client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}))
    node = await client.get("no", name)
    node.status.addresses.add(type="InternalIP", address="127.0.0.1")
    node.status.daemon_endpoints.kubelet_endpoint.port = port
    node.status.allocatable["cpu"] = "2"
    node.status.allocatable["memory"] = "2Gi"
    await client.update_status(node)
    pod = from_dict({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": "busy", "namespace": "default", "labels": {"app": "busy"}},
                     "spec": {"nodeName": name, "containers": [{"name": "main", "image": "busybox"}]}})
    await client.create(pod)
    yield servicer, name
    await client.delete("po", "busy", "default", grace_period_seconds=0)
    await client.delete("no", name)
    await server.stop(None)


@pytest.fixture(scope="module")
def rest(etcd):
    server = start_rest_apiserver(etcd, ["--metric-resolution", "0.3s"])  # resource metrics within a second
    yield server
    server.apiserver.stop()


@pytest.fixture(scope="module")
def apiserver(rest):
    return rest.apiserver


@pytest.fixture
def env(apiserver, tmp_path):
    return skiffctl_env(apiserver.target, tmp_path)


@pytest.fixture
def ctl(env):
    async def run(*args: str, stdin: bytes | None = None, timeout: float = 30) -> Result:
        return await run_skiffctl(env, *args, stdin=stdin, timeout=timeout)
    return run


async def test_logs(ctl, client, agent):
    servicer, _ = agent
    result = await ctl("logs", "busy")
    assert (result.code, result.out) == (0, "".join(line.decode() for line in LOG_LINES)), result.err
    tail = await ctl("logs", "pod/busy", "-c", "main", "--tail", "2", "-p")
    assert tail.out == "line 4\nline 5\n"
    request = servicer.log_requests[-1]
    assert (request.container, request.tail_lines, request.previous) == ("main", 2, True)
    await client.create(from_dict({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "busy-deploy", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "busy"}}, "template": {
            "metadata": {"labels": {"app": "busy"}}, "spec": {"containers": [{"name": "main", "image": "x"}]}}}}))
    via_deployment = await ctl("logs", "deploy/busy-deploy", "--tail", "1")
    assert (via_deployment.code, via_deployment.out) == (0, "line 5\n"), via_deployment.err
    await client.create(from_dict({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "busy-job", "namespace": "default"},
        "spec": {"manualSelector": True, "selector": {"matchLabels": {"app": "busy"}}, "template": {
            "metadata": {"labels": {"app": "busy"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "x"}]}}}}))
    via_job = await ctl("logs", "job/busy-job", "--tail", "1")
    assert (via_job.code, via_job.out) == (0, "line 5\n"), via_job.err
    missing = await ctl("logs", "nope")
    assert missing.code == 1 and missing.err == \
        'error: error from server (NotFound): pods "nope" not found in namespace "default"\n'


BOTH_SINCE = "at most one of `sinceTime` or `sinceSeconds` may be specified"
SINCE_TIME = "2026-01-02T03:04:05Z"


async def test_logs_since_and_timestamps(ctl, agent):
    servicer, _ = agent
    for flags, seconds in ((["--since=5m"], 300), (["--since", "1h30m"], 5400), (["--since=1500ms"], 2)):
        result = await ctl("logs", "busy", *flags)
        assert result.code == 0, result.err
        request = servicer.log_requests[-1]
        assert (request.since_seconds, request.HasField("since_time")) == (seconds, False), flags
    result = await ctl("logs", "busy", f"--since-time={SINCE_TIME}", "--timestamps")
    assert result.code == 0, result.err
    request = servicer.log_requests[-1]
    assert request.since_time.ToJsonString() == SINCE_TIME and not request.HasField("since_seconds")
    assert request.timestamps
    asked = len(servicer.log_requests)
    both = await ctl("logs", "busy", "--since=1m", f"--since-time={SINCE_TIME}")
    assert (both.code, both.err) == (1, f"error: {BOTH_SINCE}\n")
    no_unit = await ctl("logs", "busy", "--since=5")
    assert (no_unit.code, no_unit.err) == (
        1, 'error: invalid argument "5" for "--since" flag: time: missing unit in duration "5"\n')
    negative = await ctl("logs", "busy", "--since=-5s")
    assert (negative.code, negative.err) == (1, "error: --since must be greater than 0\n")
    assert len(servicer.log_requests) == asked  # refused before asking


async def test_since_flags_refused_as_kubectl_refuses_them(rest, pki, ctl, agent, tmp_path):
    kube = write_kubeconfig(tmp_path / "config", pki, rest.url)
    for flags in (["--since=1m", f"--since-time={SINCE_TIME}"], ["--since-time=yesterday"],
                  ["--since-time=2026-02-30T03:04:05Z"], ["--since-time=2026-01-02T03:04:05"],
                  ["--since-time=2026-01-02T03:04:05+0100"], ["--since=-5s"]):
        theirs = await asyncio.to_thread(kubectl, kube, "logs", "busy", *flags)
        ours = await ctl("logs", "busy", *flags)
        assert (ours.code, ours.err) == (theirs.returncode, theirs.stderr) == (1, ours.err), flags
        assert ours.err.startswith("error: "), ours.err
    for target in ("nope", "deploy/nope"):  # the object is looked up before the options are checked
        theirs = await asyncio.to_thread(kubectl, kube, "logs", target, "--since=1m", f"--since-time={SINCE_TIME}")
        ours = await ctl("logs", target, "--since=1m", f"--since-time={SINCE_TIME}")
        assert (ours.code, ours.err) == (theirs.returncode, theirs.stderr), target
        assert ours.err.startswith("error: error from server (NotFound): "), ours.err


async def test_log_options_refused_as_kubernetes_does_over_grpc(client, agent):
    servicer, _ = agent
    asked = len(servicer.log_requests)
    both = node_agent_pb2.LogsRequest(namespace="default", name="busy", since_seconds=60)
    both.since_time.FromJsonString(SINCE_TIME)
    cases = [(both, f'PodLogOptions "busy" is invalid: : Forbidden: {BOTH_SINCE}'),
             (node_agent_pb2.LogsRequest(namespace="default", name="busy", since_seconds=0),
              'PodLogOptions "busy" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0'),
             (node_agent_pb2.LogsRequest(namespace="default", name="busy", tail_lines=-1),
              'PodLogOptions "busy" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0')]
    for request, message in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async for _ in client.stub("Pod").Logs(request):
                pass
        assert (refused.value.code(), refused.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, message)
    assert len(servicer.log_requests) == asked


async def test_log_options_refused_as_kubernetes_does_over_rest(rest, pki, agent):
    """Over REST too (its own thread: the stand-in agent answers on this test's event loop)."""
    servicer, _ = agent
    http = Http(rest, pki)
    path = "/api/v1/namespaces/default/pods/busy/log"
    code, _, body = await asyncio.to_thread(http.request, "GET", f"{path}?sinceSeconds=60&sinceTime={SINCE_TIME}")
    assert (code, body["reason"], body["message"]) == (
        422, "Invalid", f'PodLogOptions "busy" is invalid: : Forbidden: {BOTH_SINCE}')
    assert body["details"] == {"name": "busy", "group": "", "kind": "PodLogOptions", "causes": [
        {"reason": "FieldValueForbidden", "message": f"Forbidden: {BOTH_SINCE}"}]}
    code, _, body = await asyncio.to_thread(http.request, "GET", f"{path}?limitBytes=0")
    assert (code, body["message"]) == (
        422, 'PodLogOptions "busy" is invalid: limitBytes: Invalid value: 0: must be greater than 0')
    code, _, body = await asyncio.to_thread(http.request, "GET", f"{path}?sinceSeconds=-5&tailLines=-2")
    assert (code, body["message"]) == (
        422, 'PodLogOptions "busy" is invalid: [tailLines: Invalid value: -2: must be greater than or equal to 0, '
             'sinceSeconds: Invalid value: -5: must be greater than 0]')
    assert not servicer.log_requests
    ok, _, _ = await asyncio.to_thread(http.request, "GET", f"{path}?sinceSeconds=60")
    assert ok == 200 and servicer.log_requests[-1].since_seconds == 60


async def test_exec(ctl, agent):
    result = await ctl("exec", "busy", "-c", "main", "--", "ls", "-l", "/")
    assert (result.code, result.out) == (0, "busy/main: ls -l /\n"), result.err
    failed = await ctl("exec", "busy", "--", "fail")
    assert failed.code == 3
    assert failed.err == "it failed\ncommand terminated with exit code 3\n"
    interactive = await ctl("exec", "-i", "busy", "--", "cat", stdin=b"hello\n")
    assert (interactive.code, interactive.out) == (0, "HELLO\n"), interactive.err


async def test_interactive_exec_ends_when_the_command_does(env, agent):
    # stdin stays open (a terminal nobody types into): skiffctl must still exit with the command.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "control.cli.main", "exec", "-i", "busy", "--", "exit", "4", cwd=ROOT, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        code = await asyncio.wait_for(proc.wait(), 20)
        assert code == 4
        assert await proc.stdout.read() == b"bye\n"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _until_measured(ctl, *args: str) -> Result:
    deadline = time.monotonic() + 20
    while True:
        result = await ctl(*args)
        if result.code == 0 or time.monotonic() > deadline:
            return result
        assert result.err in ("error: metrics not available yet\n",) or "not found" in result.err, result.err
        await asyncio.sleep(0.2)


async def test_top(ctl, agent):
    _, node = agent
    nodes = await _until_measured(ctl, "top", "node", node)
    assert nodes.code == 0, nodes.err
    assert nodes.out.splitlines()[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert nodes.out.splitlines()[1].split() == [node, "250m", "12%", "512Mi", "25%"]
    pods = await _until_measured(ctl, "top", "pods")
    assert pods.out.splitlines() == ["NAME   CPU(cores)   MEMORY(bytes)", "busy   12m          64Mi"], pods.err
    containers = await ctl("top", "pods", "--containers", "-l", "app=busy")
    assert containers.out.splitlines() == ["POD    NAME   CPU(cores)   MEMORY(bytes)",
                                           "busy   main   12m          64Mi"]
    everywhere = await ctl("top", "pods", "-A", "--sort-by=memory", "--no-headers")
    assert everywhere.out.split() == ["default", "busy", "12m", "64Mi"]
    none = await ctl("top", "pods", "-l", "app=nothing")
    assert (none.code, none.err) == (0, "No resources found in default namespace.\n")
    missing = await ctl("top", "pod", "nope")
    assert (missing.code, missing.err) == (1, 'Error from server (NotFound): podmetrics.metrics.k8s.io "default/nope" '
                                              'not found\n')


async def test_metrics_api(client, agent):
    _, node = agent
    deadline = time.monotonic() + 20
    while not [m for m in await client.list_node_metrics() if m.metadata.name == node]:
        assert time.monotonic() < deadline, "no node metrics"
        await asyncio.sleep(0.2)
    [pod] = await client.list_pod_metrics("default", "app=busy")
    d = to_dict(pod)
    assert (d["apiVersion"], d["kind"], d["metadata"]["name"], d["metadata"]["labels"]) == (
        "metrics.k8s.io/v1beta1", "PodMetrics", "busy", {"app": "busy"})
    assert [c["name"] for c in d["containers"]] == ["main"] and d["containers"][0]["usage"]["memory"] == "64Mi"
    assert 0.1 < duration(d["window"]) < 5, d["window"]
    cpu = parse_quantity(d["containers"][0]["usage"]["cpu"])
    assert 0.0119 < cpu <= 0.0121, cpu
    node_metrics = to_dict(await client.get_node_metrics(node))
    assert node_metrics["kind"] == "NodeMetrics" and node_metrics["usage"]["memory"] == "512Mi"
    assert 0.249 < parse_quantity(node_metrics["usage"]["cpu"]) <= 0.251


async def test_kubectl_top_through_the_rest_port(rest, client, agent, pki, tmp_path):
    """The machine's kubectl finds metrics.k8s.io by discovery and reads it over REST."""
    _, node = agent
    kube = write_kubeconfig(tmp_path / "config", pki, rest.url)
    deadline = time.monotonic() + 20
    while True:
        nodes = await asyncio.to_thread(kubectl, kube, "top", "node", node)
        if nodes.returncode == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert nodes.returncode == 0, nodes.stderr
    assert nodes.stdout.splitlines()[1].split()[:2] == [node, "250m"], nodes.stdout
    pods = await asyncio.to_thread(kubectl, kube, "top", "pods", "--containers")
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.splitlines()[1].split() == ["busy", "main", "12m", "64Mi"], pods.stdout
    missing = await asyncio.to_thread(kubectl, kube, "top", "pod", "nope")
    assert missing.returncode == 1 and 'podmetrics.metrics.k8s.io "default/nope" not found' in missing.stderr, \
        missing.stderr
    await client.create(from_dict({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                   "metadata": {"name": "busy", "namespace": "default"},
                                   "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                               "name": "busy"}, "maxReplicas": 3}}))
    hpas = await asyncio.to_thread(kubectl, kube, "get", "hpa")
    assert hpas.returncode == 0, hpas.stderr
    assert [line.split()[:6] for line in hpas.stdout.splitlines()] == [
        ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS"],
        ["busy", "Deployment/busy", "cpu:", "<unknown>/80%", "1", "3"]], hpas.stdout
    await client.delete("hpa", "busy", "default")
