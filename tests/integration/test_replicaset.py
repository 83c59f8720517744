"""The ReplicaSet controller against a real apiserver, with "hollow nodes": the test
plays the kubelet's part by marking pods Running and Ready through UpdateStatus."""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.client import Client
from control.client.controllerref import controller_ref
from control.client.convert import from_dict
from control.controllers.replicaset import pods_to_delete, slow_start_batch
from tests.fixtures.controllers import controllers
from tests.fixtures.procs import eventually
from tests.fixtures.workloads import IMAGE, HollowNode, live_pods, new_namespace, scale, template


def replicaset(name: str, ns: str, replicas: int, min_ready_seconds: int = 0) -> Message:
    return from_dict({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, "namespace": ns},
                      "spec": {"replicas": replicas, "minReadySeconds": min_ready_seconds,
                               "selector": {"matchLabels": {"app": name}},
                               "template": template({"app": name, "tier": "web"})}})


def orphan_pod(name: str, ns: str, labels: dict[str, str]) -> Message:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns,
                                                                     "labels": labels},
                      "spec": {"containers": [{"name": "c", "image": IMAGE}]}})


async def rs_status_is(client: Client, name: str, ns: str, **want: int) -> bool:
    rs = await client.get("ReplicaSet", name, ns)
    got = {k: getattr(rs.status, k) for k in want}
    return got == want and rs.status.observed_generation == rs.metadata.generation


# --- tests -------------------------------------------------------------------

async def test_scale_up_creates_owned_pods_and_reports_status(client):
    ns = await new_namespace(client)
    node = HollowNode(client, ns)
    async with node.running(), controllers(client, "replicaset"):
        rs = await client.create(replicaset("web", ns, 3))
        await eventually(lambda: rs_status_is(client, "web", ns, replicas=3, fully_labeled_replicas=3,
                                              ready_replicas=3, available_replicas=3),
                         timeout=15, what="status of 3 ready replicas")
        pods = await live_pods(client, ns)
        assert len(pods) == 3 and len(node.seen) == 3  # never a fourth
        for p in pods:
            assert p.metadata.name.startswith("web-") and p.metadata.generate_name == "web-"
            ref = controller_ref(p)
            assert (ref.kind, ref.name, ref.uid, ref.block_owner_deletion) == ("ReplicaSet", "web",
                                                                               rs.metadata.uid, True)
            assert dict(p.metadata.labels) == {"app": "web", "tier": "web"}
        events = (await client.list("Event", ns)).items
        created = [e for e in events if e.reason == "SuccessfulCreate" and e.involved_object.name == "web"]
        assert len(created) == 3 and created[0].source.component == "replicaset-controller"


async def test_scale_down_deletes_not_ready_pods_first(client):
    ns = await new_namespace(client)
    ready_allowed = {"on": True}
    node = HollowNode(client, ns, ready=lambda p: ready_allowed["on"])
    async with node.running(), controllers(client, "replicaset"):
        await client.create(replicaset("web", ns, 3))
        await eventually(lambda: rs_status_is(client, "web", ns, ready_replicas=3), timeout=15, what="3 ready")
        ready_names = {p.metadata.name for p in await live_pods(client, ns)}
        ready_allowed["on"] = False
        await scale(client, "ReplicaSet", "web", ns, 5)
        await eventually(lambda: rs_status_is(client, "web", ns, replicas=5, ready_replicas=3),
                         timeout=15, what="5 pods, 2 pending")
        await scale(client, "ReplicaSet", "web", ns, 3)
        await eventually(lambda: rs_status_is(client, "web", ns, replicas=3), timeout=15, what="back to 3")
        assert {p.metadata.name for p in await live_pods(client, ns)} == ready_names
        await scale(client, "ReplicaSet", "web", ns, 0)
        await eventually(lambda: rs_status_is(client, "web", ns, replicas=0), timeout=15, what="zero")
        assert await live_pods(client, ns) == []


async def test_replaces_deleted_pods(client):
    ns = await new_namespace(client)
    node = HollowNode(client, ns)
    async with node.running(), controllers(client, "replicaset"):
        await client.create(replicaset("web", ns, 2))
        await eventually(lambda: rs_status_is(client, "web", ns, ready_replicas=2), timeout=15, what="2 ready")
        victim = (await live_pods(client, ns))[0]
        await client.delete("Pod", victim.metadata.name, ns)

        async def healed() -> bool:
            names = {p.metadata.name for p in await live_pods(client, ns)}
            return len(names) == 2 and victim.metadata.name not in names
        await eventually(healed, timeout=15, what="a replacement pod")

        # The replacement is Ready and the status says so: a sync ran after it existed and created nothing more.
        async def settled() -> bool:
            pods = await live_pods(client, ns)
            ready = all(any(c.type == "Ready" and c.status == "True" for c in p.status.conditions) for p in pods)
            return ready and await rs_status_is(client, "web", ns, replicas=2, ready_replicas=2)
        await eventually(settled, timeout=15, what="the replacement to be Ready in the status")
        assert len(await live_pods(client, ns)) == 2


async def test_adopts_matching_orphans_and_releases_pods_that_stop_matching(client):
    ns = await new_namespace(client)
    node = HollowNode(client, ns)
    await client.create(orphan_pod("orphan", ns, {"app": "web", "tier": "web"}))
    await client.create(orphan_pod("stranger", ns, {"app": "other"}))
    async with node.running(), controllers(client, "replicaset"):
        rs = await client.create(replicaset("web", ns, 2))
        await eventually(lambda: rs_status_is(client, "web", ns, replicas=2, ready_replicas=2),
                         timeout=15, what="2 replicas counting the orphan")
        orphan = await client.get("Pod", "orphan", ns)
        assert controller_ref(orphan).uid == rs.metadata.uid
        assert controller_ref(await client.get("Pod", "stranger", ns)) is None
        assert len(await live_pods(client, ns)) == 3  # orphan + one new + stranger

        async def relabel() -> bool:
            pod = await client.get("Pod", "orphan", ns)
            pod.metadata.labels["app"] = "gone"
            await client.update(pod)
            return True
        await eventually(relabel, what="relabel")

        async def released() -> bool:
            pod = await client.get("Pod", "orphan", ns)
            owned = [p for p in await live_pods(client, ns) if controller_ref(p) is not None]
            return controller_ref(pod) is None and len(owned) == 2
        await eventually(released, timeout=15, what="release and replacement")


async def test_min_ready_seconds_delays_availability(client):
    ns = await new_namespace(client)
    node = HollowNode(client, ns)
    async with node.running(), controllers(client, "replicaset"):
        await client.create(replicaset("web", ns, 2, min_ready_seconds=2))
        await eventually(lambda: rs_status_is(client, "web", ns, ready_replicas=2, available_replicas=0),
                         timeout=15, what="ready but not yet available")
        await eventually(lambda: rs_status_is(client, "web", ns, ready_replicas=2, available_replicas=2),
                         timeout=10, what="available after minReadySeconds")


async def test_slow_start_batches_stop_after_a_failure():
    calls: list[int] = []

    async def ok() -> None:
        calls.append(1)

    assert await slow_start_batch(10, ok) == (10, 0)
    assert len(calls) == 10
    attempts = 0

    async def fails_on_fourth() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 4:
            raise RuntimeError("quota")

    # batches 1, 2, 4: the third batch has the failure, the remaining 3 are skipped
    assert await slow_start_batch(10, fails_on_fourth) == (6, 1)
    assert attempts == 7


def test_deletion_preference():
    def pod(name: str, node: str = "", phase: str = "Pending", ready: bool = False, created: int = 0):
        p = orphan_pod(name, "ns", {})
        p.spec.node_name = node
        p.status.phase = phase
        p.metadata.creation_timestamp.FromSeconds(1_700_000_000 + created)
        if ready:
            c = p.status.conditions.add(type="Ready", status="True")
            c.last_transition_time.FromSeconds(1_700_000_000 + created)
        return p

    pods = [pod("ready-old", "n1", "Running", True, 1), pod("ready-new", "n2", "Running", True, 5),
            pod("unscheduled"), pod("pending", "n3"), pod("running-not-ready", "n4", "Running")]
    order = [p.metadata.name for p in pods_to_delete(pods, 5)]
    assert order == ["unscheduled", "pending", "running-not-ready", "ready-new", "ready-old"]
    doubled = [pod("a", "n1", "Running", True, 1), pod("b", "n1", "Running", True, 1),
               pod("c", "n2", "Running", True, 1)]
    assert pods_to_delete(doubled, 1)[0].spec.node_name == "n1"  # doubled-up node goes first


async def test_failed_creations_are_reported_and_retried(client):
    ns = await new_namespace(client)
    async with controllers(client, "replicaset"):  # no namespace controller: it stays Terminating
        await client.create(replicaset("web", ns, 1))
        await eventually(lambda: rs_status_is(client, "web", ns, replicas=1), timeout=15, what="1 pod")
        await client.delete("Namespace", ns)
        await scale(client, "ReplicaSet", "web", ns, 3)

        async def failing() -> bool:
            rs = await client.get("ReplicaSet", "web", ns)
            cond = next((c for c in rs.status.conditions if c.type == "ReplicaFailure"), None)
            return cond is not None and cond.status == "True" and cond.reason == "FailedCreate"
        await eventually(failing, timeout=15, what="ReplicaFailure condition")
        assert len(await live_pods(client, ns)) == 1  # events can't be written there either
