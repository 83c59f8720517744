"""The pod streaming subresources over REST on real containers, with the machine's real kubectl (logs,
logs -f, exec with exit codes and stdin, attach) and the official Python client (exec, port-forward over
WebSocket)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from control.client.client import Client
from tests.fixtures.agent import agent_node, busybox, get_pod, pod_manifest, wait_phase, wait_ready
from tests.fixtures.containerd import (
    require_root_and_containerd,
)
from tests.fixtures.images import BUSYBOX, WHOAMI
from tests.fixtures.pki import Pki
from tests.fixtures.procs import eventually
from tests.fixtures.pty import Terminal
from tests.fixtures.rest import RestServer, kubectl, kubectl_binary, start_rest_apiserver, write_kubeconfig


@pytest.fixture(scope="module", autouse=True)
def _root_and_containerd() -> None:
    require_root_and_containerd()


@pytest.fixture(scope="module")
def rest(etcd) -> RestServer:
    server = start_rest_apiserver(etcd)
    yield server
    server.apiserver.stop()


@pytest.fixture(scope="module")
def node(rest: RestServer):
    with agent_node(rest.apiserver, "skrs", "10.125.0.0/24") as node:
        yield node.agent


@pytest.fixture(scope="module")
def kube(rest: RestServer, pki: Pki, tmp_path_factory) -> Path:
    kubectl_binary()
    return write_kubeconfig(tmp_path_factory.mktemp("kubectl") / "config", pki, rest.url)


@pytest.fixture
async def rest_client(rest: RestServer) -> Client:
    c = Client(rest.apiserver.target)
    yield c
    await c.close()


def _kubectl(kube: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return kubectl(kube, *args, input=input, timeout=90)


async def test_kubectl_logs_and_logs_follow(rest_client: Client, node, kube: Path) -> None:
    await rest_client.create(pod_manifest("counter", node.node_name, [
        busybox("c", "for i in 1 2 3; do echo line $i; done; read x; echo after $x", stdin=True, stdinOnce=True)],
        restartPolicy="Never"))
    await wait_ready(rest_client, "counter")
    logs = _kubectl(kube, "logs", "counter")
    assert logs.returncode == 0 and logs.stdout == "line 1\nline 2\nline 3\n", logs.stderr
    limited = _kubectl(kube, "logs", "counter", "--limit-bytes=9")
    assert limited.returncode == 0 and limited.stdout == "line 1\nli", limited.stderr
    for since in ("--since=1h", "--since-time=2020-01-01T00:00:00Z"):
        recent = _kubectl(kube, "logs", "counter", since)
        assert recent.returncode == 0 and recent.stdout == "line 1\nline 2\nline 3\n", (since, recent.stderr)
    future = _kubectl(kube, "logs", "counter", "--since-time=2999-01-01T00:00:00Z")
    assert future.returncode == 0 and future.stdout == "", future.stderr
    tail = _kubectl(kube, "logs", "counter", "--tail=1", "--timestamps")
    assert tail.returncode == 0 and tail.stdout.endswith("Z line 3\n") and tail.stdout.count("\n") == 1, tail
    follower = subprocess.Popen([kubectl_binary(), "logs", "-f", "counter", "-c", "c"], env={
        **os.environ, "KUBECONFIG": str(kube), "HOME": str(kube.parent)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert [follower.stdout.readline() for _ in range(3)] == ["line 1\n", "line 2\n", "line 3\n"]
        attach = _kubectl(kube, "attach", "counter", "-i", "-c", "c", input="now\n")  # -f is still streaming
        assert attach.returncode == 0, attach.stderr
        assert follower.stdout.readline() == "after now\n"
        assert follower.stdout.read() == ""  # the container exited: so does logs -f
        assert follower.wait(timeout=60) == 0
    finally:
        if follower.poll() is None:
            follower.kill()
    missing = _kubectl(kube, "logs", "counter", "-c", "nope")
    assert missing.returncode == 1
    assert missing.stderr == "error: container nope is not valid for pod counter\n"


async def test_kubectl_exec_exit_codes_and_stdin(rest_client: Client, node, kube: Path) -> None:
    await rest_client.create(pod_manifest("shell", node.node_name, [busybox("c", "sleep 3600")]))
    await wait_ready(rest_client, "shell")
    ok = _kubectl(kube, "exec", "shell", "--", "sh", "-c", "echo out; echo err >&2")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "out\n", "err\n")
    failed = _kubectl(kube, "exec", "shell", "--", "sh", "-c", "exit 3")
    assert failed.returncode == 3 and failed.stderr == "command terminated with exit code 3\n"
    piped = _kubectl(kube, "exec", "-i", "shell", "--", "sh", "-c", "tr a-z A-Z; exit 4", input="hello\n")
    assert piped.returncode == 4 and piped.stdout == "HELLO\n"
    missing = _kubectl(kube, "exec", "nosuchpod", "--", "true")
    assert missing.returncode == 1 and missing.stderr == 'Error from server (NotFound): pods "nosuchpod" not found\n'


async def test_python_client_exec_and_port_forward(rest_client: Client, node, rest: RestServer, pki: Pki,
                                                  tmp_path: Path) -> None:
    from kubernetes import client as kclient
    from kubernetes import config as kconfig
    from kubernetes.stream import portforward, stream

    await rest_client.create(pod_manifest("pyweb", node.node_name, [{"name": "web", "image": WHOAMI}]))
    await wait_phase(rest_client, "pyweb", "Running")
    await wait_ready(rest_client, "pyweb")
    api = kclient.CoreV1Api(kconfig.new_client_from_config(str(write_kubeconfig(tmp_path / "kc", pki, rest.url))))
    out = stream(api.connect_get_namespaced_pod_exec, "pyweb", "default", command=["sh", "-c", "echo $HOSTNAME"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    assert out == "pyweb\n"
    forward = portforward(api.connect_get_namespaced_pod_portforward, "pyweb", "default", ports="80")
    sock = forward.socket(80)
    sock.setblocking(True)
    sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    assert b"200 OK" in received and b"Hostname: pyweb" in received
    assert forward.error(80) is None
    forward.close()


async def test_kubectl_port_forward(rest_client: Client, node, kube: Path) -> None:
    await rest_client.create(pod_manifest("kweb", node.node_name, [{"name": "web", "image": WHOAMI}]))
    await wait_ready(rest_client, "kweb")
    proc = subprocess.Popen([kubectl_binary(), "port-forward", "pod/kweb", ":80"], env={
        **os.environ, "KUBECONFIG": str(kube), "HOME": str(kube.parent)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        found = re.fullmatch(r"Forwarding from 127\.0\.0\.1:(\d+) -> 80\n", line)
        assert found, (line, proc.stderr.read() if proc.poll() is not None else "")
        port = int(found.group(1))
        held = socket.create_connection(("127.0.0.1", port), timeout=15)  # stays open while another is served
        held.sendall(b"GET / HTTP/1.0\r\n")
        with socket.create_connection(("127.0.0.1", port), timeout=15) as second:
            second.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
            assert b"Hostname: kweb" in _read_all(second)
        held.sendall(b"Host: x\r\n\r\n")
        assert b"Hostname: kweb" in _read_all(held)
        held.close()
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
    out, err = proc.stdout.read(), proc.stderr.read()
    assert code == 0, err
    assert out == f"Forwarding from [::1]:{port} -> 80\n" + f"Handling connection for {port}\n" * 2


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


TARGETING = ('Targeting container "app". If you don\'t see processes from this container it may be because the '
             "container runtime doesn't support this feature.\n")
LEGACY_WARNING = ('--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly '
                  'specify a profile, for example "--profile=general".\n')


async def test_kubectl_debug_adds_an_ephemeral_container(rest_client: Client, node, kube: Path) -> None:
    await rest_client.create(pod_manifest("target", node.node_name, [busybox("app", "exec sleep 3600")]))
    await wait_ready(rest_client, "target")
    debug = _kubectl(kube, "debug", "target", f"--image={BUSYBOX}", "--target=app", "-c", "dbg", "--",
                     "ps", "-o", "pid,args")
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout == TARGETING
    assert debug.stderr == LEGACY_WARNING
    named = _kubectl(kube, "debug", "target", f"--image={BUSYBOX}", "--profile=legacy", "--", "true")
    assert named.returncode == 0, named.stderr
    assert re.fullmatch(r"Defaulting debug container name to debugger-[a-z0-9]{5}\.\n", named.stdout), named
    assert named.stderr == LEGACY_WARNING

    async def finished():
        statuses = (await get_pod(rest_client, "target")).status.ephemeral_container_statuses
        return bool(statuses) and statuses[0].state.HasField("terminated")
    await eventually(finished, timeout=30, what="the ephemeral container's terminated status")
    logs = _kubectl(kube, "logs", "target", "-c", "dbg")
    assert logs.returncode == 0 and re.search(r"^\s*1 sleep 3600$", logs.stdout, re.M), logs
    shown = _kubectl(kube, "get", "pod", "target", "-o", "jsonpath={.spec.ephemeralContainers[0].targetContainerName}")
    assert shown.stdout == "app"


async def test_kubectl_cp_both_ways(rest_client: Client, node, kube: Path, tmp_path: Path) -> None:
    await rest_client.create(pod_manifest("box", node.node_name, [busybox("c", "sleep 3600")]))
    await wait_ready(rest_client, "box")
    (tmp_path / "in.txt").write_text("into the pod\n")
    copied = _kubectl(kube, "cp", str(tmp_path / "in.txt"), "box:/tmp/in.txt")
    assert copied.returncode == 0, copied.stderr
    back = _kubectl(kube, "cp", "box:/tmp/in.txt", str(tmp_path / "out.txt"))
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "out.txt").read_text() == "into the pod\n"


async def test_kubectl_exec_with_a_terminal(rest_client: Client, node, kube: Path) -> None:
    await rest_client.create(pod_manifest("tty", node.node_name, [busybox("c", "sleep 3600")]))
    await wait_ready(rest_client, "tty")
    env = {**os.environ, "KUBECONFIG": str(kube), "HOME": str(kube.parent)}
    term = Terminal([kubectl_binary(), "exec", "-it", "tty", "--", "sh"], env)
    await term.expect(b"# ")  # the shell's prompt
    # The terminal's size travels on the resize channel beside stdin, so the shell may read a first
    # command before it lands (as with kubectl against a kubelet): asked again until it shows.
    for _ in range(30):
        term.type(b"stty size\r")
        try:
            await term.expect(b"\r\n40 100\r\n", timeout=1)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError(f"the terminal's size never reached the TTY: {term.output!r}")
    term.type(b"echo $((6 * 7))\r")
    await term.expect(b"42")
    term.type(b"exit 5\r")
    assert await term.wait() == 5
    assert b"command terminated with exit code 5" in term.output
