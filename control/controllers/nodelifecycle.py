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
from dataclasses import dataclass

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from control.client.component import duration
from control.client.controller import Controller, ControllerContext, option
from control.client.events import NORMAL
from control.client.informer import copy_of
from control.client.wellknown import (
    CONDITION_FALSE,
    CONDITION_UNKNOWN,
    NAMESPACE_NODE_LEASE,
    NO_EXECUTE,
    NODE_READY,
    POD_READY,
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    get_condition,
    is_being_deleted,
    set_condition,
)

log = logging.getLogger(__name__)

NODE_CONDITIONS = (NODE_READY, "MemoryPressure", "DiskPressure", "PIDPressure")


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


@dataclass(frozen=True)
class NodeLifecycleOptions:
    node_monitor_period: float = option(5.0, "how often nodes are checked", duration)
    node_monitor_grace_period: float = option(
        40.0, "how long a node may go without heartbeats before it is marked unhealthy", duration)
    node_startup_grace_period: float = option(
        60.0, "how long a new node may go without heartbeats before it is marked unhealthy", duration)


class NodeLifecycleController(Controller):
    name = "nodelifecycle"
    event_source = "node-controller"
    Options = NodeLifecycleOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        options: NodeLifecycleOptions = ctx.options
        self.period = options.node_monitor_period
        self.grace = options.node_monitor_grace_period
        self.startup_grace = options.node_startup_grace_period
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
        if ready == CONDITION_UNKNOWN and self._stale(node):
            node = await self._mark_unknown(node)
        node = await self._sync_taints(node, ready)
        await self._evict(node)

    def _last_heartbeat(self, node: Message) -> float:
        beats = [_seconds(node.metadata.creation_timestamp)]
        lease = self.leases.store.get_by_name(NAMESPACE_NODE_LEASE, node.metadata.name)
        if lease is not None and lease.spec.HasField("renew_time"):
            beats.append(_seconds(lease.spec.renew_time))
        cond = get_condition(node.status, NODE_READY)
        if cond is not None and cond.HasField("last_heartbeat_time"):
            beats.append(_seconds(cond.last_heartbeat_time))
        return max(beats)

    def _stale(self, node: Message) -> bool:
        cond = get_condition(node.status, NODE_READY)
        grace = self.startup_grace if cond is None else self.grace
        return time.time() - self._last_heartbeat(node) > grace

    def _ready_status(self, node: Message) -> str:
        if self._stale(node):
            return CONDITION_UNKNOWN
        cond = get_condition(node.status, NODE_READY)
        return cond.status if cond is not None else CONDITION_UNKNOWN

    async def _mark_unknown(self, node: Message) -> Message:
        cond = get_condition(node.status, NODE_READY)
        if cond is not None and cond.status == CONDITION_UNKNOWN and cond.reason == "NodeStatusUnknown":
            return node
        updated = copy_of(node)
        now = _now_ts()
        for kind in NODE_CONDITIONS:
            set_condition(updated.status, kind, CONDITION_UNKNOWN, "NodeStatusUnknown",
                          "Kubelet stopped posting node status.", now)
        log.info("node %s stopped heartbeating: marking it Unknown", node.metadata.name)
        self.recorder.event(node, NORMAL, "NodeNotReady", f"Node {node.metadata.name} status is now: NodeNotReady")
        node = await self.client.update_status(updated)
        await self._mark_pods_not_ready(node.metadata.name)
        return node

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        for pod in self.pods.store.by_index("nodeName", node_name):
            cond = get_condition(pod.status, POD_READY)
            if cond is None or cond.status == CONDITION_FALSE:
                continue
            updated = copy_of(pod)
            c = get_condition(updated.status, POD_READY)
            c.status = CONDITION_FALSE
            c.last_transition_time.CopyFrom(_now_ts())
            await self._ignore_gone(self.client.update_status(updated))

    async def _sync_taints(self, node: Message, ready: str) -> Message:
        wanted = {CONDITION_UNKNOWN: TAINT_UNREACHABLE, CONDITION_FALSE: TAINT_NOT_READY}.get(ready)
        keep = [t for t in node.spec.taints if t.key not in (TAINT_UNREACHABLE, TAINT_NOT_READY) or t.key == wanted]
        has_wanted = any(t.key == wanted for t in keep)
        if len(keep) == len(node.spec.taints) and (wanted is None or has_wanted):
            return node
        updated = copy_of(node)
        del updated.spec.taints[:]
        updated.spec.taints.extend(keep)
        if wanted and not has_wanted:
            updated.spec.taints.add(key=wanted, effect=NO_EXECUTE).time_added.CopyFrom(_now_ts())
        return await self.client.update(updated)

    async def _evict(self, node: Message) -> None:
        taints = [t for t in node.spec.taints if t.effect == NO_EXECUTE]
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
