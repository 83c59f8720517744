"""The scheduler's cache: incremental node state from informer events, plus assumed pods.

Like kube-scheduler's cache, a pod the scheduler decided to place is *assumed*
on its node at once, so the next pod sees its resources while the binding is
still in flight; the informer's update confirms it, a failed binding forgets
it, and an assumed pod that is never confirmed expires after the binding ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from control.client.wellknown import PREFER_NO_SCHEDULE
from control.scheduler.framework import NodeInfo, Snapshot
from control.scheduler.podinfo import PodInfo
from skiff.v1 import core_pb2

ASSUMED_POD_TTL = 30.0


@dataclass
class PodState:
    info: PodInfo
    node_name: str
    assumed: bool = False
    deadline: float | None = None  # set when the binding finished; None while in flight


class Cache:
    def __init__(self, assumed_ttl: float = ASSUMED_POD_TTL) -> None:
        self.snapshot = Snapshot()
        self.assumed_ttl = assumed_ttl
        self._infos: dict[str, NodeInfo] = {}  # includes nodes deleted while pods remain on them
        self._pods: dict[str, PodState] = {}
        self._node_infos: list[NodeInfo] | None = None

    # Nodes

    def add_node(self, node: core_pb2.Node) -> NodeInfo:
        name = node.metadata.name
        info = self._infos.get(name)
        if info is None:
            info = self._infos[name] = NodeInfo(name=name)
        info.set_node(node)
        if name not in self.snapshot.nodes:
            self.snapshot.nodes[name] = info
            self._node_infos = None
        if any(t.effect == PREFER_NO_SCHEDULE for t in info.taints):
            self.snapshot.prefer_no_schedule_nodes.add(name)
        else:
            self.snapshot.prefer_no_schedule_nodes.discard(name)
        self._refresh_affinity_sets(info)
        return info

    update_node = add_node

    def remove_node(self, name: str) -> None:
        info = self._infos.get(name)
        if info is None:
            return
        self.snapshot.nodes.pop(name, None)
        self._node_infos = None
        self.snapshot.affinity_nodes.discard(name)
        self.snapshot.anti_affinity_nodes.discard(name)
        self.snapshot.prefer_no_schedule_nodes.discard(name)
        info.node = None
        if not info.pods:
            del self._infos[name]

    def node_infos(self) -> list[NodeInfo]:
        """Nodes in a stable order, for the scheduler's round-robin start index."""
        if self._node_infos is None:
            self._node_infos = list(self.snapshot.nodes.values())
        return self._node_infos

    def node_names(self) -> list[str]:
        return [n.name for n in self.node_infos()]

    def node_count(self) -> int:
        return len(self.snapshot.nodes)

    # Namespaces (labels for pod affinity namespaceSelectors)

    def set_namespace(self, namespace: core_pb2.Namespace) -> None:
        self.snapshot.namespace_labels[namespace.metadata.name] = dict(namespace.metadata.labels)

    def remove_namespace(self, name: str) -> None:
        self.snapshot.namespace_labels.pop(name, None)

    # Pods

    def is_assumed(self, key: str) -> bool:
        state = self._pods.get(key)
        return state is not None and state.assumed

    def pod_node(self, key: str) -> str | None:
        state = self._pods.get(key)
        return state.node_name if state else None

    def assume_pod(self, info: PodInfo, node_name: str) -> None:
        if info.key in self._pods:
            raise KeyError(f"pod {info.key} is already in the cache")
        assumed = info.bound_to(node_name)
        self._pods[info.key] = PodState(assumed, node_name, assumed=True)
        self._place(assumed, node_name)

    def finish_binding(self, key: str, now: float | None = None) -> None:
        state = self._pods.get(key)
        if state is not None and state.assumed:
            state.deadline = (now if now is not None else time.monotonic()) + self.assumed_ttl

    def forget_pod(self, key: str) -> None:
        state = self._pods.get(key)
        if state is not None and state.assumed:
            self._remove(key)

    def add_pod(self, pod) -> None:
        """A bound pod from the informer; confirms an assumed pod (maybe on another node)."""
        key = f"{pod.metadata.namespace}/{pod.metadata.name}"
        state = self._pods.get(key)
        if state is not None:
            if _same_placement(state, pod):
                was_terminating = state.info.terminating
                state.info.pod = pod  # confirmed or a status change: the node's totals stay right
                node = self._infos.get(state.node_name)
                if node is not None and was_terminating != state.info.terminating:
                    node.pod_changed()  # terminating pods no longer count for topology spread
                state.assumed, state.deadline = False, None
                return
            self._remove(key)
        info = PodInfo(pod)
        self._pods[key] = PodState(info, pod.spec.node_name)
        self._place(info, pod.spec.node_name)

    update_pod = add_pod

    def remove_pod(self, key: str) -> None:
        if key in self._pods:
            self._remove(key)

    def cleanup_expired(self, now: float | None = None) -> list[str]:
        """Drops assumed pods whose binding ended long ago without the informer confirming them."""
        now = now if now is not None else time.monotonic()
        expired = [k for k, s in self._pods.items()
                   if s.assumed and s.deadline is not None and s.deadline < now]
        for key in expired:
            self._remove(key)
        return expired

    def pod_count(self) -> int:
        return len(self._pods)

    def _place(self, info: PodInfo, node_name: str) -> None:
        node = self._infos.get(node_name)
        if node is None:
            node = self._infos[node_name] = NodeInfo(name=node_name)
        node.add_pod(info)
        self._refresh_affinity_sets(node)

    def _remove(self, key: str) -> None:
        state = self._pods.pop(key)
        node = self._infos.get(state.node_name)
        if node is None:
            return
        node.remove_pod(key)
        if node.node is None and not node.pods:
            del self._infos[state.node_name]
        else:
            self._refresh_affinity_sets(node)

    def _refresh_affinity_sets(self, node: NodeInfo) -> None:
        if node.name not in self.snapshot.nodes:
            return
        for names, present in ((self.snapshot.affinity_nodes, node.pods_with_affinity),
                               (self.snapshot.anti_affinity_nodes, node.pods_with_required_anti_affinity)):
            if present:
                names.add(node.name)
            else:
                names.discard(node.name)


def _same_placement(state: PodState, pod) -> bool:
    """The cached pod accounts for this version as well: same pod, node, labels and spec."""
    info = state.info
    if info.uid != pod.metadata.uid or state.node_name != pod.spec.node_name:
        return False
    if info.labels != dict(pod.metadata.labels):
        return False
    return state.assumed or info.pod.spec == pod.spec
