"""Node lifecycle's reconcile(key) on the fake client."""

from __future__ import annotations

import time

from google.protobuf.message import Message

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.client.wellknown import NO_EXECUTE, TAINT_NOT_READY, TAINT_UNREACHABLE, get_condition, is_being_deleted
from control.controllers.nodelifecycle import NodeLifecycleController

LONG_AGO = "2020-01-01T00:00:00Z"


def rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def node(name: str = "n1", ready: str = "True", heartbeat: str = LONG_AGO) -> Message:
    return from_dict({"apiVersion": "v1", "kind": "Node",
                      "metadata": {"name": name, "creationTimestamp": LONG_AGO},
                      "status": {"conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady",
                                                 "lastHeartbeatTime": heartbeat,
                                                 "lastTransitionTime": LONG_AGO}]}})


def lease(name: str, renewed: float) -> Message:
    return from_dict({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                      "metadata": {"name": name, "namespace": "kube-node-lease"},
                      "spec": {"holderIdentity": name, "renewTime": rfc3339(renewed)}})


def pod(name: str, tolerations: list[dict] | None = None) -> Message:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                      "spec": {"nodeName": "n1", "tolerations": tolerations or [],
                               "containers": [{"name": "c", "image": "busybox:1"}]},
                      "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})


def running(run) -> list[str]:
    """Pods not being deleted (an evicted pod on a node stops gracefully, so it stays a while)."""
    return [p.metadata.name for p in run.client.objects("Pod") if not is_being_deleted(p)]


async def taints(run, name: str = "n1") -> list[tuple[str, str]]:
    return [(t.key, t.effect) for t in (await run.client.get("Node", name)).spec.taints]


async def test_an_unresponsive_node_turns_unknown_is_tainted_and_its_pods_evicted() -> None:
    forever = pod("stays", [{"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": NO_EXECUTE}])
    async with on_fake(NodeLifecycleController, node(), pod("evicted"), forever) as run:
        await run.reconcile("n1")
        n = await run.client.get("Node", "n1")
        ready = get_condition(n.status, "Ready")
        assert (ready.status, ready.reason) == ("Unknown", "NodeStatusUnknown")
        assert ready.message == "Kubelet stopped posting node status."
        assert await taints(run) == [(TAINT_UNREACHABLE, NO_EXECUTE)]
        assert running(run) == ["stays"] and len(run.client.objects("Pod")) == 2
        stays = await run.client.get("Pod", "stays", "default")
        assert get_condition(stays.status, "Ready").status == "False"
        assert ("Normal", "NodeNotReady", "Node n1 status is now: NodeNotReady") in await run.events()


async def test_a_renewed_lease_keeps_the_node_healthy() -> None:
    async with on_fake(NodeLifecycleController, node(), lease("n1", time.time()), pod("p")) as run:
        await run.reconcile("n1")
        assert get_condition((await run.client.get("Node", "n1")).status, "Ready").status == "True"
        assert await taints(run) == []
        assert running(run) == ["p"]


async def test_a_not_ready_node_gets_the_not_ready_taint_and_loses_it_when_ready() -> None:
    async with on_fake(NodeLifecycleController, node(ready="False"), lease("n1", time.time()),
                       node_monitor_grace_period=40.0) as run:
        await run.reconcile("n1")
        assert await taints(run) == [(TAINT_NOT_READY, NO_EXECUTE)]
        n = await run.client.get("Node", "n1")
        get_condition(n.status, "Ready").status = "True"
        await run.client.update_status(n)
        await run.reconcile("n1")
        assert await taints(run) == []


async def test_a_pod_with_toleration_seconds_is_evicted_once_they_pass() -> None:
    bounded = pod("bounded", [{"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": NO_EXECUTE,
                               "tolerationSeconds": 3600}])
    async with on_fake(NodeLifecycleController, node(), bounded) as run:
        await run.reconcile("n1")
        assert running(run) == ["bounded"]
        n = await run.client.get("Node", "n1")
        n.spec.taints[0].time_added.FromSeconds(int(time.time()) - 3601)  # as if tainted an hour ago
        await run.client.update(n)
        await run.reconcile("n1")
        assert running(run) == []
