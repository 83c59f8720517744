"""node/server.py: the NodeAgent gRPC service (logs, exec, streaming exec, stats) over a real containerd."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time

import grpc
import pytest

from node.cri import CRI
from node.logs import timestamp_ns
from node.server import ContainerRef, NodeAgentServicer, serve
from node.stats import StatsProvider
from skiff.v1 import node_agent_pb2 as na_pb
from skiff.v1 import node_agent_pb2_grpc as na_grpc
from tests.fixtures.containerd import Containerd, container_config, containerd_node, sandbox_config
from tests.fixtures.images import BUSYBOX
from tests.fixtures.procs import eventually


@pytest.fixture(scope="module")
def node() -> Containerd:
    # Host network namespace, host-network pods: the agent must reach containerd's streaming
    # server on 127.0.0.1, as it does on a real node where both share the node's namespace.
    with containerd_node(subnet=None) as c:
        yield c


class Agent:
    def __init__(self, cri: CRI, stub: na_grpc.NodeAgentStub, node: Containerd) -> None:
        self.cri, self.stub, self.node = cri, stub, node

    async def pod(self, name: str, containers: dict[str, list[str]], *, wait_running: bool = True) -> list[str]:
        """Starts a host-network pod with one container per entry; returns the container ids."""
        config = sandbox_config(name, os.path.join(self.node.base, "logs"), host_network=True)
        sandbox_id = await self.cri.run_pod_sandbox(config)
        ids = []
        for cname, command in containers.items():
            cid = await self.cri.create_container(sandbox_id, container_config(config, cname, BUSYBOX, command), config)
            await self.cri.start_container(cid)
            ids.append(cid)
        return ids

    async def logs(self, **kw: object) -> bytes:
        return b"".join([c.data async for c in self.stub.Logs(na_pb.LogsRequest(namespace="default", **kw))])


@pytest.fixture
async def agent(node: Containerd) -> Agent:
    async with CRI(node.address) as cri:
        server, port = await serve("127.0.0.1:0", NodeAgentServicer(cri, StatsProvider(cri, "node-t")))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Agent(cri, na_grpc.NodeAgentStub(channel), node)
        await server.stop(None)
        for sandbox in await cri.list_pod_sandboxes():
            await cri.stop_pod_sandbox(sandbox.id)
            await cri.remove_pod_sandbox(sandbox.id)


async def log_has(agent: Agent, name: str, text: bytes) -> bool:
    return text in await agent.logs(name=name)


# ---- Logs ----

async def test_logs_tail_and_timestamps(agent: Agent) -> None:
    await agent.pod("logger", {"main": ["sh", "-c", "echo one; echo two; echo three >&2; sleep 600"]})
    await eventually(lambda: log_has(agent, "logger", b"three\n"), what="the logs")
    assert sorted((await agent.logs(name="logger")).splitlines()) == [b"one", b"three", b"two"]
    assert len((await agent.logs(name="logger", tail_lines=2)).splitlines()) == 2
    stamped = (await agent.logs(name="logger", container="main", timestamps=True)).splitlines()
    assert len(stamped) == 3
    for line in stamped:
        ts, _ = line.split(b" ", 1)
        assert abs(timestamp_ns(ts.decode()) / 1e9 - time.time()) < 60
    assert len((await agent.logs(name="logger", since_seconds=3600)).splitlines()) == 3


async def test_logs_follow_streams_until_the_container_exits(agent: Agent) -> None:
    await agent.pod("ticker", {"main": ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo tick$i; sleep 0.3; done"]})
    await eventually(lambda: log_has(agent, "ticker", b"tick1\n"), what="the first tick")
    received: list[tuple[float, bytes]] = []
    t0 = time.monotonic()
    stream = agent.stub.Logs(na_pb.LogsRequest(namespace="default", name="ticker", follow=True))
    async with asyncio.timeout(15):
        async for chunk in stream:
            received.append((time.monotonic() - t0, chunk.data))
    text = b"".join(d for _, d in received)
    assert text == b"".join(b"tick%d\n" % i for i in range(1, 9))
    assert received[-1][0] - received[0][0] > 0.5  # streamed as written, not read once at the end


async def test_logs_of_the_previous_container(agent: Agent) -> None:
    config = sandbox_config("restarts", os.path.join(agent.node.base, "logs"), host_network=True)
    sandbox_id = await agent.cri.run_pod_sandbox(config)
    for attempt, word in ((0, "first"), (1, "second")):
        cc = container_config(config, "main", BUSYBOX, ["sh", "-c", f"echo {word}; sleep 600"], attempt=attempt)
        cid = await agent.cri.create_container(sandbox_id, cc, config)
        await agent.cri.start_container(cid)
        await eventually(lambda w=word: log_has(agent, "restarts", w.encode()), what=f"{word} logged")
        if attempt == 0:
            with pytest.raises(grpc.aio.AioRpcError) as none:
                await agent.logs(name="restarts", previous=True)
            assert none.value.code() == grpc.StatusCode.NOT_FOUND
            assert 'previous terminated container "main"' in none.value.details()
            await agent.cri.stop_container(cid, timeout=0)
    assert await agent.logs(name="restarts") == b"second\n"
    assert await agent.logs(name="restarts", previous=True) == b"first\n"


async def test_logs_errors(agent: Agent) -> None:
    await agent.pod("two", {"a": ["sleep", "600"], "b": ["sleep", "600"]})
    cases = [({"name": "nope"}, grpc.StatusCode.NOT_FOUND, 'pods "nope" not found'),
             ({"name": "two"}, grpc.StatusCode.INVALID_ARGUMENT, "choose one of: [a b]"),
             ({"name": "two", "container": "c"}, grpc.StatusCode.INVALID_ARGUMENT, "container c is not valid"),
             ({"name": "two", "container": "a", "tail_lines": -1}, grpc.StatusCode.INVALID_ARGUMENT, "tailLines"),
             ({"name": ""}, grpc.StatusCode.INVALID_ARGUMENT, "name: Required value")]
    for request, code, message in cases:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await agent.logs(**request)
        assert e.value.code() == code, request
        assert message in e.value.details(), request


# ---- Exec ----

async def test_exec(agent: Agent) -> None:
    await agent.pod("shell", {"main": ["sleep", "600"], "done": ["true"]})
    r = await agent.stub.Exec(na_pb.ExecRequest(namespace="default", name="shell", container="main",
                                                command=["sh", "-c", "echo hi; echo oops >&2; exit 4"]))
    assert (r.stdout, r.stderr, r.exit_code) == (b"hi\n", b"oops\n", 4)
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await agent.stub.Exec(na_pb.ExecRequest(namespace="default", name="shell", container="main",
                                                command=["sleep", "30"], timeout_seconds=1))
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await agent.stub.Exec(na_pb.ExecRequest(namespace="default", name="shell", container="main"))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "command" in e.value.details()

    async def done_exited() -> bool:
        cs = await agent.cri.list_containers({"io.kubernetes.container.name": "done"})
        return (await agent.cri.container_status(cs[0].id)).state == 2  # CONTAINER_EXITED

    await eventually(done_exited, what="the short container to exit")
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await agent.stub.Exec(na_pb.ExecRequest(namespace="default", name="shell", container="done", command=["true"]))
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_exec_stream_interactive(agent: Agent) -> None:
    await agent.pod("interactive", {"main": ["sleep", "600"]})
    inputs: asyncio.Queue[na_pb.ExecInput | None] = asyncio.Queue()

    async def requests():
        while (message := await inputs.get()) is not None:
            yield message

    await inputs.put(na_pb.ExecInput(start=na_pb.ExecRequest(namespace="default", name="interactive",
                                                             command=["sh"])))
    call = agent.stub.ExecStream(requests())
    await inputs.put(na_pb.ExecInput(stdin=b"echo hello; echo err >&2\n"))
    stdout = stderr = b""
    exit_code = None
    exiting = False
    async with asyncio.timeout(15):
        async for out in call:
            stdout += out.stdout
            stderr += out.stderr
            if stdout == b"hello\n" and stderr == b"err\n" and not exiting:
                exiting = True
                await inputs.put(na_pb.ExecInput(stdin=b"exit 7\n"))
            if out.HasField("exit_code"):
                exit_code = out.exit_code
    assert (stdout, stderr, exit_code) == (b"hello\n", b"err\n", 7)
    await inputs.put(None)


async def test_exec_stream_stdin_end_and_large_input(agent: Agent) -> None:
    await agent.pod("bulk", {"main": ["sleep", "600"]})
    data = os.urandom(300_000)

    async def requests():
        yield na_pb.ExecInput(start=na_pb.ExecRequest(namespace="default", name="bulk", command=["md5sum"]))
        for i in range(0, len(data), 70_000):
            yield na_pb.ExecInput(stdin=data[i:i + 70_000])
        yield na_pb.ExecInput(close_stdin=True)  # md5sum prints only once its input ends
        await asyncio.sleep(30)  # the stream stays open; the command's end closes it

    outputs = [out async for out in agent.stub.ExecStream(requests())]
    assert b"".join(o.stdout for o in outputs).split()[0].decode() == hashlib.md5(data).hexdigest()
    assert outputs[-1].exit_code == 0


async def test_exec_stream_ends_stdin_when_the_client_stops_sending(agent: Agent) -> None:
    await agent.pod("eof", {"main": ["sleep", "600"]})

    async def requests():
        yield na_pb.ExecInput(start=na_pb.ExecRequest(namespace="default", name="eof", command=["sh"]))
        yield na_pb.ExecInput(stdin=b"echo from a script\n")

    async with asyncio.timeout(15):
        outputs = [out async for out in agent.stub.ExecStream(requests())]
    assert b"".join(o.stdout for o in outputs) == b"from a script\n" and outputs[-1].exit_code == 0


async def test_exec_stream_with_tty(agent: Agent) -> None:
    await agent.pod("tty", {"main": ["sleep", "600"]})

    async def requests():
        yield na_pb.ExecInput(start=na_pb.ExecRequest(namespace="default", name="tty", command=["sh"]), tty=True)
        yield na_pb.ExecInput(stdin=b"tty; exit 5\r")
        yield na_pb.ExecInput(close_stdin=True)  # not forwarded on a terminal: the shell's output still comes

    async with asyncio.timeout(15):
        outputs = [out async for out in agent.stub.ExecStream(requests())]
    stdout = b"".join(o.stdout for o in outputs)
    assert b"/dev/pts/" in stdout and b"\r\n" in stdout  # a terminal: the line discipline echoes and maps NL
    assert not any(o.stderr for o in outputs)  # one stream, as on a terminal
    assert outputs[-1].exit_code == 5


async def test_exec_stream_of_a_missing_binary_is_an_error(agent: Agent) -> None:
    await agent.pod("nobin", {"main": ["sleep", "600"]})

    async def requests():
        yield na_pb.ExecInput(start=na_pb.ExecRequest(namespace="default", name="nobin", command=["/no/such"]))

    with pytest.raises(grpc.aio.AioRpcError) as e:
        _ = [o async for o in agent.stub.ExecStream(requests())]
    assert e.value.code() == grpc.StatusCode.UNKNOWN and "/no/such" in e.value.details()


async def test_exec_stream_needs_a_start(agent: Agent) -> None:
    async def requests():
        yield na_pb.ExecInput(stdin=b"x")

    with pytest.raises(grpc.aio.AioRpcError) as e:
        _ = [o async for o in agent.stub.ExecStream(requests())]
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# ---- Stats and a kubelet-provided lookup ----

async def test_stats(agent: Agent) -> None:
    await agent.pod("busy", {"spin": ["sh", "-c", "while :; do :; done"], "idle": ["sleep", "600"]})
    summary = await agent.stub.Stats(na_pb.StatsRequest(name="node-t"))
    assert summary.node_name == "node-t" and summary.cpu_count >= 1
    assert summary.memory_capacity_bytes > summary.memory_working_set_bytes > 0
    pod = next(p for p in summary.pods if p.name == "busy")
    by_name = {c.name: c for c in pod.containers}
    assert set(by_name) == {"spin", "idle"}
    # a spinning container gets little on a crowded CI machine, but far more than a sleeping one
    assert by_name["spin"].cpu_usage_nano_cores > 20_000_000 > by_name["idle"].cpu_usage_nano_cores
    assert pod.memory_working_set_bytes == sum(c.memory_working_set_bytes for c in pod.containers) > 0


async def test_kubelet_lookup_is_used(agent: Agent) -> None:
    (cid,) = await agent.pod("real-name", {"main": ["sleep", "600"]})

    class Lookup:
        async def find_container(self, namespace: str, pod: str, container: str, previous: bool) -> ContainerRef:
            assert (namespace, pod, container, previous) == ("apps", "alias", "", False)
            return ContainerRef(cid, "")

    server, port = await serve("127.0.0.1:0", NodeAgentServicer(agent.cri, StatsProvider(agent.cri, "n"), Lookup()))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            r = await na_grpc.NodeAgentStub(channel).Exec(
                na_pb.ExecRequest(namespace="apps", name="alias", command=["hostname"]))
    finally:
        await server.stop(None)
    assert r.exit_code == 0 and r.stdout.strip() == os.uname().nodename.encode()
