"""Node lifecycle: notices nodes that stopped heartbeating and evicts their pods.

Every --node-monitor-period each node is checked: if neither its Lease nor its
Ready condition has been renewed within --node-monitor-grace-period, its
conditions become Unknown ("Kubelet stopped posting node status.") and its
pods are marked not ready. Taints follow the Ready condition
(`node.kubernetes.io/unreachable` for Unknown, `node.kubernetes.io/not-ready`
for False, both NoExecute) and the taint manager deletes pods that don't
tolerate them, or once their tolerationSeconds have passed since the taint was
added, so their owners replace them elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, copy_of, is_being_deleted, pod_condition
from control.client.events import NORMAL

log = logging.getLogger(__name__)

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
NODE_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def _seconds(ts: timestamp_pb2.Timestamp) -> float:
    return ts.seconds + ts.nanos / 1e9


def _now_ts() -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromSeconds(int(time.time()))
    return ts


def tolerates(toleration: Message, taint: Message) -> bool:
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if not toleration.key:
        return toleration.operator == "Exists"
    if toleration.key != taint.key:
        return False
    return toleration.operator == "Exists" or toleration.value == taint.value


def eviction_time(pod: Message, taints: list[Message]) -> float | None:
    """When a pod must leave a node with these NoExecute taints: 0 now, None never."""
    deadline: float | None = None
    for taint in taints:
        matching = [t for t in pod.spec.tolerations if tolerates(t, taint)]
        if not matching:
            return 0.0
        bounded = [t.toleration_seconds for t in matching if t.HasField("toleration_seconds")]
        if len(bounded) < len(matching):
            continue  # some toleration holds forever
        at = _seconds(taint.time_added) + max(0, min(bounded))
        deadline = at if deadline is None else min(deadline, at)
    return deadline


class NodeLifecycleController(Controller):
    name = "nodelifecycle"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx.workers)
        self.client = ctx.client
        self.recorder = ctx.recorder
        self.period = float(ctx.options.get("node_monitor_period", 5.0))
        self.grace = float(ctx.options.get("node_monitor_grace_period", 40.0))
        self.startup_grace = float(ctx.options.get("node_startup_grace_period", 60.0))
        self.nodes = ctx.informers.get("Node")
        self.leases = ctx.informers.get("Lease")
        self.pods = ctx.informers.get("Pod")
        self.nodes.add_handler(**self.enqueue_handlers())
        self.pods.add_handler(on_add=self._pod_changed, on_update=lambda _o, n: self._pod_changed(n))

    def _pod_changed(self, pod: Message) -> None:
        if pod.spec.node_name:
            self.queue.add(pod.spec.node_name)

    async def run(self) -> None:
        ticker = asyncio.create_task(self._tick())
        try:
            await super().run()
        finally:
            ticker.cancel()

    async def _tick(self) -> None:
        while True:
            for key in self.nodes.store.keys():
                self.queue.add(key)
            await asyncio.sleep(self.period)

    async def reconcile(self, key: str) -> None:
        node = self.nodes.store.get(key)
        if node is None:
            return
        ready = self._ready_status(node)
        if ready == "Unknown" and self._stale(node):
            node = await self._mark_unknown(node)
        node = await self._sync_taints(node, ready)
        await self._evict(node)

    def _last_heartbeat(self, node: Message) -> float:
        beats = [_seconds(node.metadata.creation_timestamp)]
        lease = self.leases.store.get_by_name("kube-node-lease", node.metadata.name)
        if lease is not None and lease.spec.HasField("renew_time"):
            beats.append(_seconds(lease.spec.renew_time))
        cond = pod_condition(node, "Ready")
        if cond is not None and cond.HasField("last_heartbeat_time"):
            beats.append(_seconds(cond.last_heartbeat_time))
        return max(beats)

    def _stale(self, node: Message) -> bool:
        cond = pod_condition(node, "Ready")
        grace = self.startup_grace if cond is None else self.grace
        return time.time() - self._last_heartbeat(node) > grace

    def _ready_status(self, node: Message) -> str:
        if self._stale(node):
            return "Unknown"
        cond = pod_condition(node, "Ready")
        return cond.status if cond is not None else "Unknown"

    async def _mark_unknown(self, node: Message) -> Message:
        cond = pod_condition(node, "Ready")
        if cond is not None and cond.status == "Unknown" and cond.reason == "NodeStatusUnknown":
            return node
        updated = copy_of(node)
        now = _now_ts()
        for kind in NODE_CONDITIONS:
            c = pod_condition(updated, kind) or updated.status.conditions.add(type=kind)
            if c.status != "Unknown":
                c.last_transition_time.CopyFrom(now)
            c.status, c.reason, c.message = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."
        log.info("node %s stopped heartbeating: marking it Unknown", node.metadata.name)
        self.recorder.event(node, NORMAL, "NodeNotReady", f"Node {node.metadata.name} status is now: NodeNotReady")
        node = await self.client.update_status(updated)
        await self._mark_pods_not_ready(node.metadata.name)
        return node

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        for pod in self.pods.store.by_index("nodeName", node_name):
            cond = pod_condition(pod, "Ready")
            if cond is None or cond.status == "False":
                continue
            updated = copy_of(pod)
            c = pod_condition(updated, "Ready")
            c.status = "False"
            c.last_transition_time.CopyFrom(_now_ts())
            await self._ignore_gone(self.client.update_status(updated))

    async def _sync_taints(self, node: Message, ready: str) -> Message:
        wanted = {"Unknown": UNREACHABLE, "False": NOT_READY}.get(ready)
        keep = [t for t in node.spec.taints if t.key not in (UNREACHABLE, NOT_READY) or t.key == wanted]
        has_wanted = any(t.key == wanted for t in keep)
        if len(keep) == len(node.spec.taints) and (wanted is None or has_wanted):
            return node
        updated = copy_of(node)
        del updated.spec.taints[:]
        updated.spec.taints.extend(keep)
        if wanted and not has_wanted:
            updated.spec.taints.add(key=wanted, effect="NoExecute").time_added.CopyFrom(_now_ts())
        return await self.client.update(updated)

    async def _evict(self, node: Message) -> None:
        taints = [t for t in node.spec.taints if t.effect == "NoExecute"]
        if not taints:
            return
        next_check: float | None = None
        for pod in self.pods.store.by_index("nodeName", node.metadata.name):
            if is_being_deleted(pod):
                continue
            at = eviction_time(pod, taints)
            if at is None:
                continue
            if at <= time.time():
                log.info("evicting pod %s/%s from node %s", pod.metadata.namespace, pod.metadata.name,
                         node.metadata.name)
                self.recorder.event(pod, NORMAL, "TaintManagerEviction",
                                    f"Marking for deletion Pod {pod.metadata.namespace}/{pod.metadata.name}")
                await self._ignore_gone(self.client.delete("Pod", pod.metadata.name, pod.metadata.namespace,
                                                           uid=pod.metadata.uid))
            else:
                next_check = at if next_check is None else min(next_check, at)
        if next_check is not None:
            self.queue.add_after(node.metadata.name, max(0.1, next_check - time.time()))

    @staticmethod
    async def _ignore_gone(call) -> None:
        try:
            await call
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED):
                raise
