"""Filter plugins: can this pod run on this node? Reasons use kube-scheduler's wording."""

from __future__ import annotations

from typing import Any

from control.client.wellknown import (
    CONDITION_FALSE,
    CONDITION_UNKNOWN,
    NO_SCHEDULE,
    NODE_READY,
    SCHEDULING_EFFECTS,
    TAINT_NOT_READY,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    get_condition,
)
from control.scheduler import interpod, topologyspread
from control.scheduler.framework import SKIP, SUCCESS, FilterPlugin, NodeInfo, Snapshot, Status, unschedulable
from control.scheduler.matching import first_untolerated, tolerated
from control.scheduler.podinfo import PodInfo
from skiff.v1 import core_pb2

ERR_NOT_READY = "node(s) were not ready"
ERR_UNSCHEDULABLE = "node(s) were unschedulable"
ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
ERR_PORTS = "node(s) didn't have free ports for the requested pod ports"
ERR_TOO_MANY_PODS = "Too many pods"



def _ready_status(node: NodeInfo) -> str:
    c = get_condition(node.node.status, NODE_READY) if node.node is not None else None
    return c.status if c is not None else CONDITION_UNKNOWN


def node_ready(pod: PodInfo, node: NodeInfo, state: Any = None) -> Status:
    """Ready=True, or the pod tolerates the taint the node lifecycle puts on such a node."""
    if node.ready:
        return SUCCESS
    key = TAINT_NOT_READY if _ready_status(node) == CONDITION_FALSE else TAINT_UNREACHABLE
    if tolerated(pod.tolerations, core_pb2.Taint(key=key, effect=NO_SCHEDULE)):
        return SUCCESS
    return unschedulable("NodeReady", ERR_NOT_READY, unresolvable=True)


def node_unschedulable(pod: PodInfo, node: NodeInfo, state: Any = None) -> Status:
    """A cordoned node takes only pods tolerating node.kubernetes.io/unschedulable:NoSchedule."""
    if not node.unschedulable:
        return SUCCESS
    if tolerated(pod.tolerations, core_pb2.Taint(key=TAINT_UNSCHEDULABLE, effect=NO_SCHEDULE)):
        return SUCCESS
    return unschedulable("NodeUnschedulable", ERR_UNSCHEDULABLE, unresolvable=True)


def taint_toleration(pod: PodInfo, node: NodeInfo, state: Any = None) -> Status:
    if not node.taints:
        return SUCCESS
    taint = first_untolerated(node.taints, pod.tolerations, SCHEDULING_EFFECTS)
    if taint is None:
        return SUCCESS
    return unschedulable("TaintToleration", f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}",
                         unresolvable=True)


def node_affinity_pre_filter(pod: PodInfo, snapshot: Snapshot) -> Any:
    if not pod.node_selector and pod.required_node_terms is None:
        return SKIP
    return None


def node_affinity(pod: PodInfo, node: NodeInfo, state: Any = None) -> Status:
    """spec.nodeSelector (all labels) and required node affinity (any term) must both match."""
    labels = node.labels
    for key, value in pod.node_selector.items():
        if labels.get(key) != value:
            return unschedulable("NodeAffinity", ERR_NODE_AFFINITY, unresolvable=True)
    terms = pod.required_node_terms
    if terms is not None and not any(t.matches(labels, node.name) for t in terms):
        return unschedulable("NodeAffinity", ERR_NODE_AFFINITY, unresolvable=True)
    return SUCCESS


def node_ports_pre_filter(pod: PodInfo, snapshot: Snapshot) -> Any:
    return SKIP if not pod.host_ports else None


def ports_conflict(wanted: tuple[str, str, int], used: set[tuple[str, str, int]]) -> bool:
    """0.0.0.0 takes the port on every address, so it conflicts with any address."""
    ip, protocol, port = wanted
    if ip == "0.0.0.0":
        return any(p == port and proto == protocol for _, proto, p in used)
    return (ip, protocol, port) in used or ("0.0.0.0", protocol, port) in used


def node_ports(pod: PodInfo, node: NodeInfo, state: Any = None) -> Status:
    if any(ports_conflict(p, node.used_ports) for p in pod.host_ports):
        return unschedulable("NodePorts", ERR_PORTS)
    return SUCCESS


def insufficient_resources(pod: PodInfo, node: NodeInfo) -> list[str]:
    """Every resource the node lacks for the pod, as kube-scheduler's NodeResourcesFit reports them."""
    reasons = []
    alloc, used, want = node.allocatable, node.requested, pod.requests
    if used.pods + 1 > alloc.pods:
        reasons.append(ERR_TOO_MANY_PODS)
    if want.milli_cpu > 0 and want.milli_cpu > alloc.milli_cpu - used.milli_cpu:
        reasons.append("Insufficient cpu")
    if want.memory > 0 and want.memory > alloc.memory - used.memory:
        reasons.append("Insufficient memory")
    free_ephemeral = alloc.ephemeral_storage - used.ephemeral_storage
    if want.ephemeral_storage > 0 and want.ephemeral_storage > free_ephemeral:
        reasons.append("Insufficient ephemeral-storage")
    for name, amount in want.scalar.items():
        if amount > 0 and amount > alloc.scalar.get(name, 0) - used.scalar.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


def node_resources_fit(pod: PodInfo, node: NodeInfo, state: Any = None) -> Status:
    alloc, used, want = node.allocatable, node.requested, pod.requests
    if (used.pods < alloc.pods and want.milli_cpu <= alloc.milli_cpu - used.milli_cpu
            and want.memory <= alloc.memory - used.memory and not want.ephemeral_storage and not want.scalar):
        return SUCCESS  # the common case, without building a reasons list
    reasons = insufficient_resources(pod, node)
    if reasons:
        return unschedulable("NodeResourcesFit", *reasons)
    return SUCCESS


def default_filters() -> list[FilterPlugin]:
    """kube-scheduler's order: cheap node-level checks first, cross-pod checks last."""
    return [
        FilterPlugin("NodeReady", node_ready, node_level=True),
        FilterPlugin("NodeUnschedulable", node_unschedulable, node_level=True),
        FilterPlugin("TaintToleration", taint_toleration, node_level=True),
        FilterPlugin("NodeAffinity", node_affinity, node_affinity_pre_filter),
        FilterPlugin("NodePorts", node_ports, node_ports_pre_filter),
        FilterPlugin("NodeResourcesFit", node_resources_fit),
        FilterPlugin("PodTopologySpread", topologyspread.filter_spread, topologyspread.pre_filter),
        FilterPlugin("InterPodAffinity", interpod.filter_affinity, interpod.pre_filter),
    ]
