"""Leader election on a Lease through a real apiserver: acquire, release, expiry
takeover, losing the lease, and failover between two controller-manager processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from control.client.client import CHANNEL_OPTIONS, Client
from control.client.convert import from_dict
from control.client.kinds import KINDS
from control.client.kubeconfig import load_client_config, make_channel
from control.client.leaderelection import LeaderElector
from control.controllers.main import duration, parse_args
from control.controllers.manager import enabled_controllers
from skiff.v1 import coordination_pb2, meta_pb2
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually
from tests.fixtures.workloads import scale

FAST = {"lease_duration": 2, "renew_deadline": 1.5, "retry_period": 0.2}
FAST_RECONNECT = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
                  ("grpc.max_reconnect_backoff_ms", 500)]


@pytest.fixture
async def client(apiserver):
    c = Client(apiserver.target, make_channel(apiserver.target, load_client_config(),
                                              CHANNEL_OPTIONS + FAST_RECONNECT))
    yield c
    await c.close()


class Leadership:
    """Records when each candidate led, to check that terms never overlap."""

    def __init__(self) -> None:
        self.terms: dict[str, list[list[float]]] = {}
        self.current: set[str] = set()

    def lead(self, who: str):
        async def run() -> None:
            self.terms.setdefault(who, []).append([time.monotonic(), float("inf")])
            self.current.add(who)
            try:
                await asyncio.Event().wait()
            finally:
                self.current.discard(who)
                self.terms[who][-1][1] = time.monotonic()
        return run

    def overlaps(self) -> bool:
        spans = sorted((s, e) for terms in self.terms.values() for s, e in terms)
        return any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))


class WatchedClient(Client):
    """A client that counts its reads of Leases and signals when an Update is sent and answered."""

    def __init__(self, target: str) -> None:
        super().__init__(target, make_channel(target, load_client_config(), CHANNEL_OPTIONS + FAST_RECONNECT))
        self.reads = 0
        self.sent = asyncio.Event()
        self.answered = asyncio.Event()

    async def get(self, *args, **kwargs):
        self.reads += 1
        return await super().get(*args, **kwargs)

    async def update(self, obj, *args, **kwargs):
        self.sent.set()
        result = await super().update(obj, *args, **kwargs)
        self.answered.set()
        return result


async def lease(client: Client, name: str) -> coordination_pb2.Lease:
    return await client.get("Lease", name, "kube-system")


async def test_one_leader_then_release_hands_over_at_once(client, apiserver):
    name = f"le-{uuid.uuid4().hex[:6]}"
    record = Leadership()
    slow = {"lease_duration": 6, "renew_deadline": 4, "retry_period": 0.2}  # expiry can't be mistaken for release
    b_client = WatchedClient(apiserver.target)
    a = LeaderElector(client, name, "a", **slow)
    b = LeaderElector(b_client, name, "b", **slow)
    task_a = asyncio.create_task(a.run(record.lead("a")))
    await eventually(lambda: _async(record.current == {"a"}), what="a to lead")
    task_b = asyncio.create_task(b.run(record.lead("b")))
    # b has tried five times (read the lease held by a live leader) and must not have taken over.
    await eventually(lambda: _async(b_client.reads >= 5), what="b's attempts to acquire")
    assert record.current == {"a"} and (await lease(client, name)).spec.holder_identity == "a"

    task_a.cancel()  # clean shutdown releases the lease
    await asyncio.gather(task_a, return_exceptions=True)
    released = time.monotonic()
    await eventually(lambda: _async(record.current == {"b"}), timeout=4, what="b to take over")
    assert time.monotonic() - released < slow["lease_duration"] - 1  # no waiting for expiry
    current = await lease(client, name)
    assert current.spec.holder_identity == "b"
    assert current.spec.lease_transitions == 1
    assert not record.overlaps()
    task_b.cancel()
    await asyncio.gather(task_b, return_exceptions=True)
    await b_client.close()
    assert (await lease(client, name)).spec.holder_identity == ""


@pytest.mark.parametrize("moment", ["in_flight", "just_answered"])
async def test_shutdown_releases_even_right_after_a_renewal(apiserver, moment):
    """client-go's ReleaseOnCancel: cancelling while a renewal is on the wire, or the instant it was
    written, must still leave the Lease released (its own renewal must not make the release ABORTED)."""
    watcher = WatchedClient(apiserver.target)
    name = f"le-{uuid.uuid4().hex[:6]}"
    record = Leadership()
    timings = {"lease_duration": 30, "renew_deadline": 20, "retry_period": 0.02}  # only a release frees it
    try:
        for round_ in range(20):
            elector = LeaderElector(watcher, name, "a", **timings)
            task = asyncio.create_task(elector.run(record.lead("a")))
            await eventually(lambda: _async(record.current == {"a"}), what=f"a to lead (round {round_})")
            signal_ = watcher.sent if moment == "in_flight" else watcher.answered
            signal_.clear()
            await asyncio.wait_for(signal_.wait(), 5)
            await asyncio.sleep(round_ * 0.0005)  # sweeps the cancel across the renewal's round trip
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            current = await lease(watcher, name)
            assert current.spec.holder_identity == "", f"round {round_}: lease still held by " \
                f"{current.spec.holder_identity!r} after a clean shutdown"
            assert current.spec.lease_duration_seconds == 1
    finally:
        await watcher.close()


async def test_expired_lease_is_taken_over_only_after_its_duration(client):
    name = f"le-{uuid.uuid4().hex[:6]}"
    now = Timestamp()
    now.GetCurrentTime()
    await client.create(KINDS["Lease"].new(
        metadata=meta_pb2.ObjectMeta(name=name, namespace="kube-system"),
        spec=coordination_pb2.LeaseSpec(holder_identity="crashed", lease_duration_seconds=2,
                                        acquire_time=now, renew_time=now, lease_transitions=4)))
    record = Leadership()
    started = time.time()
    b = LeaderElector(client, name, "b", **FAST)
    task = asyncio.create_task(b.run(record.lead("b")))
    try:
        await eventually(lambda: _async(record.current == {"b"}), timeout=5, what="takeover")
        waited = time.time() - (now.ToNanoseconds() / 1e9)
        assert 2 <= waited < 3.5, waited
        assert time.time() - started >= 1.5
        current = await lease(client, name)
        assert current.spec.holder_identity == "b" and current.spec.lease_transitions == 5
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_leader_that_cannot_renew_stops_leading(client, apiserver):
    name = f"le-{uuid.uuid4().hex[:6]}"
    record = Leadership()
    a = LeaderElector(client, name, "a", **FAST)
    task = asyncio.create_task(a.run(record.lead("a")))
    try:
        await eventually(lambda: _async(record.current == {"a"}), what="a to lead")
        stopping = time.monotonic()
        apiserver.stop()  # blocks the loop while the process exits
        await asyncio.wait_for(task, FAST["renew_deadline"] + 2)  # run() returns: leadership lost
        assert record.current == set()
        # It kept retrying until renew_deadline after its last renewal (at most a retry period
        # before the stop), not giving up at the first failure.
        assert time.monotonic() - stopping >= FAST["renew_deadline"] - FAST["retry_period"] - 0.3
        assert not a.is_leader
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        apiserver.restart()


def test_elector_rejects_inconsistent_timings(client):
    with pytest.raises(ValueError):
        LeaderElector(client, "x", "a", lease_duration=2, renew_deadline=3, retry_period=1)


async def _async(value: bool) -> bool:
    return value


# --- two real controller-manager processes -----------------------------------

def start_manager(apiserver, log_path: str, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "control.controllers.main", "--kubeconfig", session_pki().controller_manager_config,
         "--apiserver", apiserver.target,
         "--leader-elect-lease-duration", "2s", "--leader-elect-renew-deadline", "1500ms",
         "--leader-elect-retry-period", "200ms", "--leader-elect-resource-name", name, "--metrics-bind-address", "0"],
        stdout=open(log_path, "w"), stderr=subprocess.STDOUT)


async def test_failover_between_controller_manager_processes(client, apiserver, tmp_path):
    """Kill -9 the leading manager: the standby takes over within the lease duration
    and keeps reconciling, and pods are never double-created."""
    name = f"kcm-{uuid.uuid4().hex[:6]}"
    logs = [str(tmp_path / f"manager-{i}.log") for i in range(2)]
    procs = [start_manager(apiserver, log, name) for log in logs]
    try:
        async def holder() -> str:
            return (await lease(client, name)).spec.holder_identity
        await eventually(lambda: _nonempty(holder()), timeout=15, what="a leader")
        first = await holder()
        ns = await _namespace(client)
        await client.create(_replicaset("web", ns, 3))
        await eventually(lambda: _pod_count(client, ns, 3), timeout=15, what="3 pods from the leader")

        leader = next(p for p, log in zip(procs, logs, strict=True) if f"{first}: became leader" in _read(log))
        leader.send_signal(signal.SIGKILL)
        leader.wait()
        killed = time.monotonic()
        await eventually(lambda: _changed(holder(), first), timeout=10, what="standby to take over")
        assert time.monotonic() - killed < 2 + 1.5  # lease duration plus a little retry slack

        await client.delete("Pod", (await client.list("Pod", ns)).items[0].metadata.name, ns)
        await scale(client, "ReplicaSet", "web", ns, 5)
        await eventually(lambda: _pod_count(client, ns, 5), timeout=15, what="new leader to scale to 5")
        # The leader has observed the scaled spec and reported 5 replicas: anything double-created is visible now.
        await eventually(lambda: _reconciled(client, "web", ns, 5), timeout=15, what="the ReplicaSet's status")
        assert await _pod_count(client, ns, 5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    survivor = next(p for p in procs if p is not leader)
    assert survivor.returncode == 0, _read(logs[procs.index(survivor)])
    assert (await lease(client, name)).spec.holder_identity == ""  # released on shutdown


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


async def _nonempty(value) -> bool:
    return bool(await value)


async def _changed(value, old: str) -> bool:
    v = await value
    return bool(v) and v != old


async def _namespace(client: Client) -> str:
    name = f"le-{uuid.uuid4().hex[:8]}"
    await client.create(KINDS["Namespace"].new(metadata=meta_pb2.ObjectMeta(name=name)))
    return name


def _replicaset(name: str, ns: str, replicas: int):
    return from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                      "metadata": {"name": name, "namespace": ns},
                      "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                               "template": {"metadata": {"labels": {"app": name}},
                                            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})


async def _reconciled(client: Client, name: str, ns: str, replicas: int) -> bool:
    rs = await client.get("ReplicaSet", name, ns)
    return rs.status.observed_generation == rs.metadata.generation and rs.status.replicas == replicas


async def _pod_count(client: Client, ns: str, want: int) -> bool:
    pods = (await client.list("Pod", ns)).items
    return len([p for p in pods if not p.metadata.HasField("deletion_timestamp")]) == want


def test_controller_selection_and_flags():
    everything = enabled_controllers(["*"])
    assert {"replicaset", "deployment"} <= set(everything)
    assert enabled_controllers(["*", "-deployment"]) == [n for n in everything if n != "deployment"]
    assert enabled_controllers(["deployment"]) == ["deployment"]
    with pytest.raises(ValueError, match="unknown controllers: nope"):
        enabled_controllers(["nope"])
    assert duration("40s") == 40 and duration("1m30s") == 90 and duration("500ms") == 0.5
    assert duration("2") == 2
    args = parse_args(["--apiserver", "h:1", "--leader-elect=false", "--node-monitor-grace-period", "1m"])
    assert not args.leader_elect and args.node_monitor_grace_period == 60 and args.controllers == ["*"]
    with pytest.raises(SystemExit):
        parse_args(["--leader-elect-lease-duration", "1s"])  # must exceed the renew deadline
