"""Streaming through the apiserver to real containers, driven by skiffctl as a user would: port-forward
(two connections at once, a Service's named targetPort, Ctrl-C), cp both ways, attach to a pod reading
stdin, run -i --rm, and an ephemeral busybox debugging a running pod with --target."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.agent import agent_node, busybox, delete_and_wait, get_pod, pod_manifest, wait_ready
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.containerd import (
    require_root_and_containerd,
)
from tests.fixtures.images import BUSYBOX, WHOAMI
from tests.fixtures.procs import eventually
from tests.fixtures.pty import Terminal
from tests.fixtures.skiffctl import ROOT, run_skiffctl, skiffctl_env


@pytest.fixture(scope="module", autouse=True)
def _root_and_containerd() -> None:
    require_root_and_containerd()


@pytest.fixture(scope="module")
def node_env(apiserver: ApiServer):
    with agent_node(apiserver, "skst", "10.124.0.0/24") as node:
        yield node.agent


@pytest.fixture
def env(apiserver: ApiServer, tmp_path):
    return skiffctl_env(apiserver.target, tmp_path)


async def _http_get(port: int, reader_writer=None) -> bytes:
    reader, writer = reader_writer or await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    await writer.drain()
    body = await asyncio.wait_for(reader.read(), 15)
    writer.close()
    return body


async def _forwarding(env: dict, *args: str):
    """A running `skiffctl port-forward` and the local port of its first `Forwarding from` line."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "control.cli.main", "port-forward", *args,
                                                cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    found = re.fullmatch(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)\n", line)
    if not found:
        proc.kill()
        raise AssertionError(f"unexpected output {line!r}: {(await proc.stderr.read()).decode()}")
    return proc, int(found.group(1)), int(found.group(2))


async def _interrupt(proc) -> int:
    proc.send_signal(signal.SIGINT)
    return await asyncio.wait_for(proc.wait(), 15)


async def test_port_forward_two_connections_at_once_and_a_service(client: Client, node_env, env):
    web = pod_manifest("web", node_env.node_name, [{"name": "web", "image": WHOAMI,
                                                     "ports": [{"name": "http", "containerPort": 80}]}])
    web.metadata.labels["app"] = "web"
    await client.create(web)
    await wait_ready(client, "web")
    proc, local, remote = await _forwarding(env, "pod/web", ":80")
    try:
        assert remote == 80
        held = await asyncio.open_connection("127.0.0.1", local)  # the first connection stays open ...
        held[1].write(b"GET / HTTP/1.0\r\n")
        await held[1].drain()
        second = await _http_get(local)  # ... while a second one is served
        assert b"200 OK" in second and b"Hostname: web" in second
        held[1].write(b"Host: x\r\n\r\n")
        first = await asyncio.wait_for(held[0].read(), 15)
        assert b"200 OK" in first and b"Hostname: web" in first
    finally:
        code = await _interrupt(proc)
    out = (await proc.stdout.read()).decode()
    assert code == 0, (await proc.stderr.read()).decode()
    assert out == f"Forwarding from [::1]:{local} -> 80\n" + f"Handling connection for {local}\n" * 2
    await client.create(from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                   "spec": {"selector": {"app": "web"},
                                            "ports": [{"port": 8080, "targetPort": "http"}]}}))
    proc, local, remote = await _forwarding(env, "svc/web", ":8080")
    try:
        assert remote == 80  # the Service's port, translated through its named targetPort
        assert b"Hostname: web" in await _http_get(local)
    finally:
        assert await _interrupt(proc) == 0
    refused = await run_skiffctl(env, "port-forward", "svc/web", "9999")
    assert refused.code == 1 and refused.err == "error: Service web does not have a service port 9999\n"
    await client.delete("Service", "web", "default")
    await delete_and_wait(client, "web")


async def test_cp_in_and_out_of_a_container(client: Client, node_env, env, tmp_path):
    await client.create(pod_manifest("files", node_env.node_name, [busybox("c", "sleep 3600")]))
    await wait_ready(client, "files")
    (tmp_path / "hello.txt").write_text("hello from the host\n")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a\n")
    (tree / "sub" / "b.txt").write_text("b\n")
    result = await run_skiffctl(env, "cp", str(tmp_path / "hello.txt"), "files:/tmp/hello.txt")
    assert result.code == 0, result.err
    result = await run_skiffctl(env, "cp", str(tree), "default/files:/tmp/tree")
    assert result.code == 0, result.err
    seen = await client.exec("default", "files", ["sh", "-c", "cat /tmp/hello.txt /tmp/tree/a.txt /tmp/tree/sub/b.txt"])
    assert seen.stdout == b"hello from the host\na\nb\n"
    await client.exec("default", "files", ["sh", "-c", "mkdir -p /data/d && echo made > /data/d/x && echo top > /top"])
    result = await run_skiffctl(env, "cp", "files:/data/d", str(tmp_path / "back"))
    assert result.code == 0, result.err
    assert (tmp_path / "back" / "x").read_text() == "made\n"
    result = await run_skiffctl(env, "cp", "files:/top", str(tmp_path / "top.txt"))
    assert result.code == 0 and (tmp_path / "top.txt").read_text() == "top\n"
    await delete_and_wait(client, "files")


async def test_attach_to_a_pod_reading_stdin(client: Client, node_env, env):
    await client.create(pod_manifest("reader", node_env.node_name, [
        busybox("c", "read line; echo got $line", stdin=True, stdinOnce=True)], restartPolicy="Never"))
    await wait_ready(client, "reader")
    result = await run_skiffctl(env, "attach", "reader", "-i", stdin="hello\n")
    assert result.code == 0, result.err
    assert result.out == "got hello\n"
    await delete_and_wait(client, "reader")


async def test_run_interactive_with_rm_returns_the_exit_code(client: Client, node_env, env):
    run = asyncio.create_task(run_skiffctl(
        env, "run", "once", f"--image={BUSYBOX}", "-i", "--rm", "--restart=Never", "--",
        "sh", "-c", "read x; echo got $x; exit 3", stdin="hi\n", timeout=90))

    async def created():
        try:
            return bool(await get_pod(client, "once"))
        except grpc.aio.AioRpcError:
            return False
    await eventually(created, timeout=30, what="the pod run creates")
    # No scheduler runs here: the test binds the pod as one would.
    await client.bind("default", "once", node_env.node_name)
    result = await run
    assert result.code == 3, result.err
    assert result.out == 'got hi\npod "once" deleted\n'
    assert result.err == "If you don't see a command prompt, try pressing enter.\npod default/once terminated (Error)\n"

    async def gone():
        try:
            await get_pod(client, "once")
        except grpc.aio.AioRpcError as e:
            return e.code() == grpc.StatusCode.NOT_FOUND
        return False
    await eventually(gone, timeout=30, what="the pod deleted by --rm")


async def test_debug_with_an_ephemeral_container_targeting_a_process(client: Client, node_env, env):
    await client.create(pod_manifest("app", node_env.node_name, [busybox("app", "exec sleep 3600")]))
    await wait_ready(client, "app")
    result = await run_skiffctl(env, "debug", "pod/app", f"--image={BUSYBOX}", "--target=app", "-c", "dbg",
                                "--", "ps", "-o", "pid,args")
    assert result.code == 0, result.err
    assert result.out.startswith('Targeting container "app". If you don\'t see processes from this container')
    assert result.err.startswith("--profile=legacy is deprecated")
    pod = await get_pod(client, "app")
    assert [c.name for c in pod.spec.ephemeral_containers] == ["dbg"]
    assert pod.spec.ephemeral_containers[0].target_container_name == "app"
    assert pod.spec.ephemeral_containers[0].termination_message_policy == "File"

    async def finished():
        statuses = (await get_pod(client, "app")).status.ephemeral_container_statuses
        return bool(statuses) and statuses[0].state.HasField("terminated")
    await eventually(finished, timeout=30, what="the ephemeral container's terminated status")
    status = (await get_pod(client, "app")).status.ephemeral_container_statuses[0]
    assert status.name == "dbg" and status.state.terminated.exit_code == 0 and not status.ready
    logs = await run_skiffctl(env, "logs", "app", "-c", "dbg")
    assert re.search(r"^\s*1 sleep 3600$", logs.out, re.M), logs.out  # the target's process, as PID 1
    again = await run_skiffctl(env, "debug", "pod/app", f"--image={BUSYBOX}", "-c", "dbg")
    assert again.code == 1 and 'Duplicate value: "dbg"' in again.err
    await delete_and_wait(client, "app")


async def test_debug_node_runs_a_pod_with_the_hosts_namespaces(client: Client, node_env, env):
    result = await run_skiffctl(env, "debug", f"node/{node_env.node_name}", f"--image={BUSYBOX}", "--",
                                "sh", "-c", "test -d /host/proc/1 && echo host root at /host")
    assert result.code == 0, result.err
    found = re.fullmatch(rf"Creating debugging pod (node-debugger-{node_env.node_name}-[a-z0-9]{{5}}) with container "
                         rf"debugger on node {node_env.node_name}\.\n", result.out)
    assert found, result.out
    name = found.group(1)
    pod = await get_pod(client, name)
    spec = pod.spec
    assert (spec.host_network, spec.host_pid, spec.host_ipc, spec.restart_policy) == (True, True, True, "Never")
    assert spec.volumes[0].host_path.path == "/" and spec.containers[0].volume_mounts[0].mount_path == "/host"

    async def succeeded():
        return (await get_pod(client, name)).status.phase == "Succeeded"
    await eventually(succeeded, timeout=60, what="the node debugging pod to finish")
    logs = await run_skiffctl(env, "logs", name)
    assert logs.out == "host root at /host\n"
    await delete_and_wait(client, name)


async def test_attach_with_a_terminal(client: Client, node_env, env):
    await client.create(pod_manifest("term", node_env.node_name, [
        busybox("c", "exec sh", stdin=True, stdinOnce=True, tty=True)], restartPolicy="Never"))
    await wait_ready(client, "term")
    term = Terminal([sys.executable, "-m", "control.cli.main", "attach", "-it", "term"], env, cwd=ROOT)
    await term.expect(b"If you don't see a command prompt, try pressing enter.")
    term.type(b"stty size; echo $((6 * 7))\r")
    await term.expect(b"42")
    assert b"\r\n40 100\r\n" in term.output  # the terminal's size reached the container's TTY
    term.type(b"exit 3\r")
    assert await term.wait() == 0  # attach ends with the container, whatever its code

    async def exited():
        return (await get_pod(client, "term")).status.container_statuses[0].state.terminated.exit_code == 3
    await eventually(exited, timeout=30, what="the shell's exit code 3 in the pod's status")
    await delete_and_wait(client, "term")


async def test_debug_interactively_at_a_terminal(client: Client, node_env, env):
    await client.create(pod_manifest("app2", node_env.node_name, [busybox("app", "exec sleep 3600")]))
    await wait_ready(client, "app2")
    term = Terminal([sys.executable, "-m", "control.cli.main", "debug", "pod/app2", "-it", f"--image={BUSYBOX}",
                     "--target=app", "-c", "shell"], env, cwd=ROOT)
    await term.expect(b"If you don't see a command prompt, try pressing enter.")
    term.type(b"ps -o pid,args | grep -c 'sleep 360[0]'\r")
    await term.expect(b"\r\n1\r\n")  # the target's process, seen from the debugging shell
    term.type(b"exit\r")
    assert await term.wait() == 0
    ephemeral = (await get_pod(client, "app2")).spec.ephemeral_containers[0]
    assert (ephemeral.name, ephemeral.stdin, ephemeral.tty) == ("shell", True, True)
    await delete_and_wait(client, "app2")
