"""The whole node stack on two netns nodes: containerd + skiff-agent (with its network half).

Per node: a real containerd (tests/fixtures/containerd.py) and a real
skiff-agent process, both inside the node's namespace; the controller-manager
runs node IPAM and the Endpoints controller; pods are bound to nodes by name
(no scheduler needed). The apiserver listens on a unix socket, which every
namespace reaches without linking any of them to the root namespace.
Traffic is sent from inside the pods' own namespaces (nsenter into a pod's
container, so its resolv.conf and search path are the ones the agent wrote).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.containerd import start_containerd
from tests.fixtures.images import BUSYBOX, WHOAMI
from tests.fixtures.netns import NetLab, start_apiserver_unix
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually, require_host, stop
from tests.fixtures.traffic import Traffic


@pytest.fixture(scope="module", autouse=True)
def _host_has_what_it_needs() -> None:
    require_host("containerd", "nft")


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Stack:
    def __init__(self, lab: NetLab, target: str) -> None:
        self.lab, self.target = lab, target
        self.containerds: dict = {}
        self.agents: dict[str, subprocess.Popen] = {}
        self.root_dirs: dict[str, str] = {}

    def agent_argv(self, name: str) -> list[str]:
        node, ctrd = self.lab.nodes[name], self.containerds[name]
        return [sys.executable, "-m", "node.main", "--kubeconfig", session_pki().node_config(name),
                "--apiserver", self.target, "--node-name", name,
                "--container-runtime-endpoint", ctrd.address, "--root-dir", self.root_dirs[name],
                "--listen", f"{node.ip}:10250", "--node-ip", node.ip, "--cni-conf-dir", ctrd.cni_conf_dir,
                "--restart-backoff-base", "1", "--node-status-update", "2"]

    def start_agent(self, name: str) -> None:
        self.agents[name] = self.lab.spawn_in(self.lab.nodes[name].netns, self.agent_argv(name),
                                              log_name=f"agent-{name}.log", cwd=REPO)


@pytest.fixture(scope="module")
def stack(etcd):
    api = start_apiserver_unix(etcd)
    lab = NetLab()
    s = Stack(lab, api.target)
    manager = None
    try:
        for name in ("node-a", "node-b"):
            node = lab.add_node(name)
            s.containerds[name] = start_containerd(netns=node.netns)
            s.root_dirs[name] = tempfile.mkdtemp(prefix=f"skiff-agent-{name}-")
        manager = lab.spawn_in(lab.bridge_ns, [sys.executable, "-m", "control.controllers.main", "--kubeconfig",
                                               session_pki().controller_manager_config, "--apiserver",
                                               api.target, "--controllers", "endpoints,nodeipam",
                                               "--leader-elect=false"], log_name="controllers.log", cwd=REPO)
        for name in lab.nodes:
            s.start_agent(name)
        yield s
    finally:
        _print_logs(lab.workdir)
        for proc in s.agents.values():
            stop(proc, timeout=10)
        if manager is not None:
            stop(manager)
        for ctrd in s.containerds.values():
            ctrd.stop()
        lab.cleanup()
        for d in s.root_dirs.values():
            shutil.rmtree(d, ignore_errors=True)
        api.stop()


def _print_logs(workdir: str) -> None:
    for name in sorted(os.listdir(workdir)):
        if name.endswith(".log") and not name.startswith("httpd"):
            with open(os.path.join(workdir, name), errors="replace") as f:
                print(f"--- {name}\n{f.read()[-4000:]}")


@pytest.fixture
async def client(stack):
    c = Client(stack.target)
    yield c
    await c.close()


def pod(name: str, node: str, image: str, labels: dict[str, str], command: list[str] | None = None):
    container = {"name": "main", "image": image, "imagePullPolicy": "Never"}
    if command:
        container["command"] = command
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": "default", "labels": labels},
                      "spec": {"nodeName": node, "containers": [container], "terminationGracePeriodSeconds": 1}})


def web_service():
    return from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                      "spec": {"type": "NodePort", "selector": {"app": "web"},
                               "ports": [{"name": "http", "port": 80, "targetPort": 80}]}})


def container_pid(pod_ip: str, arg: str) -> int:
    """The pid of a process whose command line contains arg, in the pod with that IP."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if arg not in f.read().decode(errors="replace").replace("\0", " "):
                    continue
        except OSError:
            continue
        out = subprocess.run(["nsenter", "-t", pid, "-n", "ip", "-4", "-o", "addr"], capture_output=True,
                             text=True).stdout
        if f" {pod_ip}/" in out:
            return int(pid)
    raise LookupError(f"no process {arg!r} in the pod with IP {pod_ip}")


def in_pod(pid: int, argv: list[str], timeout: float = 5) -> str:
    """Runs the pod's own binaries in its network and mount namespaces."""
    try:
        r = subprocess.run(["nsenter", "-t", str(pid), "-n", "-m", *argv], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return ""
    return r.stdout + r.stderr


def hostname_from(pid: int, url: str) -> str:
    out = in_pod(pid, ["/bin/wget", "-q", "-O", "-", url])
    return next((line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Hostname: ")), "")


async def running_ip(client: Client, name: str) -> str:
    p = await client.get("Pod", name, "default")
    return p.status.pod_ip if p.status.phase == "Running" and p.status.pod_ip else ""


async def test_pods_services_nodeports_and_dns_across_nodes(stack, client):
    async def nodes_ready() -> bool:
        nodes, _ = await client.list_all("Node")
        ready = [n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)]
        return len(ready) == 2 and all(n.spec.pod_cidr for n in ready)
    await eventually(nodes_ready, timeout=90, interval=0.5, what="both nodes Ready with a podCIDR")

    await client.create(web_service())
    for name, node in (("web-a", "node-a"), ("web-b", "node-b")):
        await client.create(pod(name, node, WHOAMI, {"app": "web"}))
    await client.create(pod("client", "node-a", BUSYBOX, {"app": "client"}, ["sleep", "3600"]))
    ips: dict[str, str] = {}

    async def all_running() -> bool:
        for name in ("web-a", "web-b", "client"):
            ips[name] = await running_ip(client, name)
        return all(ips.values())
    await eventually(all_running, timeout=90, interval=0.5, what="pods running")
    assert ips["web-a"].split(".")[2] != ips["web-b"].split(".")[2]  # different nodes' pod CIDRs

    svc = await client.get("Service", "web", "default")
    vip, node_port = svc.spec.cluster_ip, svc.spec.ports[0].node_port
    cpid = await asyncio.to_thread(container_pid, ips["client"], "sleep 3600")

    # Pod to pod across nodes, by IP.
    assert await asyncio.to_thread(hostname_from, cpid, f"http://{ips['web-b']}/") == "web-b"

    async def vip_balances() -> bool:
        got = await asyncio.gather(*(asyncio.to_thread(hostname_from, cpid, f"http://{vip}/") for _ in range(12)))
        return set(got) == {"web-a", "web-b"}
    await eventually(vip_balances, timeout=60, interval=0.5, what="the VIP balancing over both nodes' pods")

    for node in stack.lab.nodes.values():
        async def node_port_answers(node=node) -> bool:
            body = await asyncio.to_thread(stack.lab.http_get, stack.lab.bridge_ns, f"http://{node.ip}:{node_port}/")
            return bool(body) and "Hostname: web-" in body
        await eventually(node_port_answers, timeout=30, what=f"NodePort {node_port} on {node.name}")

    # DNS from inside the pod, through its resolv.conf (short name via the search path) and fully qualified.
    for name in ("web", "web.default.svc.cluster.local"):
        out = await asyncio.to_thread(in_pod, cpid, ["/bin/nslookup", name])
        assert f"Address: {vip}" in out or f"Address 1: {vip}" in out, out

    # Removing an endpoint (its pod) converges the VIP on every node.
    await client.delete("Pod", "web-b", "default", grace_period_seconds=0)

    async def only_web_a() -> bool:
        got = await asyncio.gather(*(asyncio.to_thread(hostname_from, cpid, f"http://{vip}/") for _ in range(8)))
        return set(got) == {"web-a"}
    await eventually(only_web_a, timeout=60, interval=0.5, what="web-b gone from the VIP")

    # An agent restart does not interrupt traffic through the VIP: requests flow before the kill,
    # while the agent is down and adopting its table, and after; none fails.
    async with Traffic(lambda: hostname_from(cpid, f"http://{vip}/"), lambda answer: answer == "web-a") as traffic:
        await traffic.wait_sent(after=0, count=3)
        agent = stack.agents["node-a"]
        killed = time.monotonic()
        agent.send_signal(signal.SIGKILL)
        await asyncio.to_thread(agent.wait, 10)
        stack.start_agent("node-a")

        async def table_adopted() -> bool:
            log = os.path.join(stack.lab.workdir, "agent-node-a.log")
            with open(log, errors="replace") as f:
                return f.read().count("service proxy: full sync") >= 2
        await eventually(table_adopted, timeout=60, interval=0.5, what="restarted agent synced")
        synced = time.monotonic()
        await traffic.wait_sent(after=synced, count=3)
    assert traffic.failures == []
    assert traffic.between(killed, synced) >= 1, "no request was sent while the agent restarted"
