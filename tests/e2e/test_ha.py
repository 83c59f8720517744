"""Chaos on a highly available control plane: `scripts/lab up --control-planes 3`, a steady stream of writes
(ConfigMaps with content, NodePort Services), a Deployment scaled while members crash. SIGKILL of the member
leading the scheduler, it rejoins, then SIGKILL of the member leading now. Clients resume within 10 s, every
acknowledged write is there with its content, the Deployment converges, leases are handed over within the
lease duration, no pod is made twice, no ClusterIP or NodePort is handed out twice, and the `kubernetes`
Service's Endpoints list the live apiservers. kubectl, through the one address `scripts/lab kubeconfig` names
(the lab's load balancer), and skiffctl, through its config listing every member, answer after each crash.

Uses the lab (fixed names): run it alone (`flock /work/lab.lock ...` where engineers share a machine).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from control.client.client import Client
from control.client.convert import from_dict
from control.client.kubeconfig import load_client_config
from tests.fixtures.rest import kubectl

ROOT = Path(__file__).resolve().parents[2]
LAB = str(ROOT / "scripts" / "lab")
STATE = "/var/lib/skiff-lab"
LAB_ADMIN = f"{STATE}/control-plane/etc/skiffctl.yaml"
SKIFFCTL = str(ROOT / ".venv" / "bin" / "skiffctl")
HOST_IP = "172.31.250.1"
LAB_ENV = {k: v for k, v in os.environ.items() if k != "SKIFFCONFIG"}
RESUME_SECONDS = 10
LEASE_SECONDS, RETRY_SECONDS = 15, 2  # the components' defaults (kube-scheduler's)
LEASES = {"kube-scheduler": "skiff-scheduler", "kube-controller-manager": "skiff-controller-manager"}

pytestmark = pytest.mark.timeout(420)


def lab(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run([LAB, *args], capture_output=True, text=True, timeout=timeout, env=LAB_ENV)
    assert result.returncode == 0, f"scripts/lab {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def ha_lab():
    assert os.geteuid() == 0, "the lab needs root (namespaces, links, nftables): run the tests as root"
    if os.path.exists(STATE):
        lab("down")
    try:
        lab("up", "--control-planes", "3", "--nodes", "2", "--no-demo", timeout=300)
        yield
    finally:
        if os.path.exists(STATE):
            subprocess.run([LAB, "down"], capture_output=True, timeout=120, env=LAB_ENV)


@dataclass
class Writer:
    """Writes one object after another through a client that knows every apiserver; an object counts as
    acknowledged when its create returned, or when a retry after a lost answer finds it as it was sent."""
    client: Client
    configmaps: dict[str, str] = field(default_factory=dict)
    services: dict[str, tuple[str, int]] = field(default_factory=dict)
    acks: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: bool = False

    async def _write(self, obj, check) -> bool:
        for _ in range(200):
            try:
                created = await self.client.create(obj)
                return check(created)
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.ALREADY_EXISTS:
                    kind = "ConfigMap" if obj.kind == "ConfigMap" else "Service"
                    return check(await self.client.get(kind, obj.metadata.name, "default"))
                self.errors.append(f"{time.monotonic():.1f} {e.code().name}: {e.details()}")
                await asyncio.sleep(0.1)
        return False

    async def run(self) -> None:
        i = 0
        while not self.stopped:
            if i % 5 == 4:
                name = f"svc-{i}"
                obj = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                                 "spec": {"type": "NodePort", "selector": {"app": name}, "ports": [{"port": 80}]}})

                def keep(s, name=name):
                    self.services[name] = (s.spec.cluster_ip, s.spec.ports[0].node_port)
                    return True
                ok = await self._write(obj, keep)
            else:
                name, value = f"cm-{i}", f"content {i} " + "x" * (i % 50)
                obj = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                                 "data": {"v": value}})

                def same(c, name=name, value=value):
                    assert c.data["v"] == value, f"{name} holds {c.data['v']!r}, not what was sent"
                    self.configmaps[name] = value
                    return True
                ok = await self._write(obj, same)
            if ok:
                self.acks.append(time.monotonic())
            i += 1
            await asyncio.sleep(0.05)

    def gap_after(self, t: float) -> float:
        later = [a for a in self.acks if a > t]
        return (later[0] - t) if later else float("inf")


async def _value(value):
    return value


async def _value_of(reading, expected) -> bool:
    return await reading == expected


async def _until(check, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = await check()
            if result:
                return result
        except grpc.aio.AioRpcError as e:
            last = e.details()
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


async def holders(client: Client) -> dict[str, str]:
    return {lease: (await client.get("Lease", lease, "kube-system")).spec.holder_identity for lease in LEASES}


def member_of(identity: str, process: str) -> int:
    for n in (1, 2, 3):
        log = Path(f"{STATE}/logs/cp-{n}-{process}.log")
        if log.exists() and f"{identity}: became leader" in log.read_text(errors="replace"):
            return n
    raise AssertionError(f"no member's {process} log says it became leader as {identity}")


async def apiserver_endpoints(client: Client) -> set[str]:
    """The addresses in the `kubernetes` Service's Endpoints: the live apiservers."""
    endpoints = await client.get("Endpoints", "kubernetes", "default")
    return {a.ip for s in endpoints.subsets for a in s.addresses}


def member_ip(member: int) -> str:
    return f"172.31.250.{1 + member}"


async def deployment_converged(client: Client, replicas: int) -> bool:
    d = await client.get("Deployment", "chaos", "default")
    pods = [p for p in (await client.list("Pod", "default", label_selector="app=chaos")).items
            if not p.metadata.HasField("deletion_timestamp")]
    return (d.status.observed_generation == d.metadata.generation and d.status.ready_replicas == replicas
            and d.status.updated_replicas == replicas and len(pods) == replicas)


async def scale(client: Client, replicas: int) -> None:
    for _ in range(50):
        d = await client.get("Deployment", "chaos", "default")
        d.spec.replicas = replicas
        try:
            await client.update(d)
            return
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.ABORTED, grpc.StatusCode.UNAVAILABLE):
                raise
            await asyncio.sleep(0.2)


async def crash(client: Client, writer: Writer, member: int, replicas: int) -> set[str]:
    """SIGKILL member, scale the Deployment; writes resume, leases move off it, the Deployment converges."""
    before = await holders(client)
    led = {lease for lease, identity in before.items() if member_of(identity, LEASES[lease]) == member}
    killed_at = time.monotonic()
    await asyncio.to_thread(lab, "kill-control-plane", str(member))
    dead_at = time.monotonic()  # every process of the member is gone by now (the command waits for it)
    await _until(lambda: _value(writer.gap_after(killed_at) < float("inf")), RESUME_SECONDS + 5,
                 f"writes after member {member} crashed")
    assert writer.gap_after(killed_at) < RESUME_SECONDS, f"writes resumed {writer.gap_after(killed_at):.1f}s later"
    # Alongside the rest, so the leases' hand-over is timed as it happens.
    cli_users = asyncio.create_task(asyncio.to_thread(cli_users_answer, killed_at))
    await scale(client, replicas)
    for lease in led:
        async def moved(lease=lease):
            return (await holders(client))[lease] != before[lease]
        await _until(moved, LEASE_SECONDS + RETRY_SECONDS + 5, f"{lease}'s lease to move off member {member}",
                     interval=0.1)
        handed = time.monotonic() - dead_at
        # A standby takes over once the lease it last saw renewed has run out, at its next try.
        assert handed <= LEASE_SECONDS + RETRY_SECONDS + 1, f"{lease} handed over after {handed:.1f}s"
    await _until(lambda: deployment_converged(client, replicas), 60, f"the Deployment at {replicas} replicas")

    async def dropped() -> bool:
        return member_ip(member) not in await apiserver_endpoints(client)
    await _until(dropped, 30, f"member {member}'s apiserver out of the kubernetes Endpoints")
    await cli_users
    return led


def cli_users_answer(since: float) -> None:
    """kubectl with the lab's kubeconfig (one server: the load balancer on the host, which takes the
    apiservers in turn) and skiffctl with the lab's config answer, several times each, within the resume
    time of a crash."""
    config = Path(lab("kubeconfig").stdout.strip())
    assert f"https://{HOST_IP}:6444" in config.read_text(), "kubectl's config names one member, not all"
    answers = 0
    while answers < 6:
        listed = kubectl(config, "get", "configmaps", "-o", "name", "--request-timeout=5s", timeout=30,
                         cache_dir=config.parent / "kubectl-cache")
        skiffctl = subprocess.run([SKIFFCTL, "get", "configmaps", "-o", "name"], capture_output=True, text=True,
                                  timeout=30, env={**LAB_ENV, "SKIFFCONFIG": LAB_ADMIN})
        ok = listed.returncode == 0 and "configmap/" in listed.stdout and skiffctl.returncode == 0
        answers = answers + 1 if ok else 0
        assert ok or time.monotonic() - since < RESUME_SECONDS, \
            f"kubectl: {listed.stderr.strip()[-300:]}; skiffctl: {skiffctl.stderr.strip()[-300:]}"


async def rejoin(client: Client, member: int) -> None:
    await asyncio.to_thread(lab, "start-control-plane", str(member))

    def healthy() -> bool:
        status = lab("status").stdout
        line = next(x for x in status.splitlines() if x.startswith(f"cp-{member} "))
        return "healthy" in line and "answers" in line and "NO ANSWER" not in line
    await _until(lambda: asyncio.to_thread(healthy), 30, f"member {member} back in the cluster")

    async def listed() -> bool:
        return member_ip(member) in await apiserver_endpoints(client)
    await _until(listed, 30, f"member {member}'s apiserver back in the kubernetes Endpoints")


async def test_the_control_plane_survives_members_crashing_one_at_a_time(ha_lab):
    config = load_client_config(LAB_ADMIN)
    async with Client(config.target, config=config) as client:
        await client.create(from_dict({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "chaos"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "chaos"}},
                     "template": {"metadata": {"labels": {"app": "chaos"}},
                                  "spec": {"terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "c", "image": "localhost:5000/busybox:1",
                                                           "command": ["sleep", "3600"]}]}}}}))
        await _until(lambda: deployment_converged(client, 2), 90, "the Deployment at 2 replicas")
        all_members = {member_ip(n) for n in (1, 2, 3)}
        await _until(lambda: _value_of(apiserver_endpoints(client), all_members), 30,
                     "every apiserver in the kubernetes Endpoints")
        writer = Writer(client)
        writing = asyncio.create_task(writer.run())
        handed: set[str] = set()
        try:
            await _until(lambda: _value(len(writer.acks) >= 10), 30, "the first writes")
            first = member_of((await holders(client))["kube-scheduler"], "skiff-scheduler")
            handed |= await crash(client, writer, first, 4)
            await rejoin(client, first)
            second = member_of((await holders(client))["kube-scheduler"], "skiff-scheduler")
            assert second != first
            handed |= await crash(client, writer, second, 3)
            await _until(lambda: _value(len(writer.acks) >= 10), 10, "writes")
        finally:
            writer.stopped = True
            await writing
        assert "kube-scheduler" in handed

        configmaps = {c.metadata.name: c.data["v"] for c in (await client.list("ConfigMap", "default")).items}
        lost = [n for n, v in writer.configmaps.items() if configmaps.get(n) != v]
        assert not lost, f"acknowledged ConfigMaps lost or changed: {lost[:10]}"
        services = [s for s in (await client.list("Service", "default")).items if s.metadata.name.startswith("svc-")]
        assert set(writer.services) <= {s.metadata.name for s in services}
        ips = [s.spec.cluster_ip for s in services]
        ports = [s.spec.ports[0].node_port for s in services]
        assert len(ips) == len(set(ips)), "a ClusterIP was handed out twice"
        assert len(ports) == len(set(ports)), "a NodePort was handed out twice"
        for s in services:
            if s.metadata.name in writer.services:
                assert writer.services[s.metadata.name] == (s.spec.cluster_ip, s.spec.ports[0].node_port)

        pods = (await client.list("Pod", "default", label_selector="app=chaos")).items
        live = [p for p in pods if not p.metadata.HasField("deletion_timestamp")]
        assert len(live) == 3, [p.metadata.name for p in live]
        owners = {p.metadata.owner_references[0].name for p in live}
        assert len(owners) == 1, f"pods of several ReplicaSets: {owners}"
        replicasets = (await client.list("ReplicaSet", "default", label_selector="app=chaos")).items
        assert len(replicasets) == 1, "the Deployment made its ReplicaSet twice"
        print(f"\n{len(writer.acks)} writes acknowledged ({len(writer.configmaps)} ConfigMaps, "
              f"{len(writer.services)} Services); {len(writer.errors)} retried errors")


def test_down_removes_every_member(ha_lab):
    lab("down")
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    assert not [n for n in namespaces.split() if n.startswith("cp-")], namespaces
    assert "sklab-cp-" not in links, links
    assert not os.path.exists(STATE)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"{STATE}/control-planes/" in argv:
            left.append(f"{pid}: {argv[:100]}")
    assert not left, f"members' processes left: {left}"
