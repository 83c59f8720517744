"""VolumeBinding: a pod's claims must be bound, or bindable on the node, before the pod goes there.

PreFilter reads the pod's claims once: a missing claim, a claim being deleted or an unbound claim of
an Immediate class keeps the pod off every node; bound claims pin it to their volumes' node
affinity; unbound WaitForFirstConsumer claims need, on the node, an Available volume that fits or a
class with a provisioner. Once a node is chosen (PreBind), each such claim is either pre-bound to
the chosen volume (its claimRef, which the persistent-volume binder completes) or annotated with
`volume.kubernetes.io/selected-node` for its provisioner, and the pod is bound only when all its
claims are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import Message

from control.client.informer import Store, copy_of
from control.client.selectors import from_label_selector
from control.client.volumeutil import (
    CLAIM_BOUND,
    WAIT_FOR_FIRST_CONSUMER,
    claim_class,
    claims_of,
    find_best_match,
)
from control.client.wellknown import ANNOTATION_BIND_COMPLETED, ANNOTATION_BOUND_BY_CONTROLLER, ANNOTATION_SELECTED_NODE
from control.scheduler.framework import SKIP, SUCCESS, Code, FilterPlugin, NodeInfo, Snapshot, Status, unschedulable
from control.scheduler.matching import NodeTerm
from control.scheduler.podinfo import PodInfo
from skiff.v1 import meta_pb2

PLUGIN = "VolumeBinding"
ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
ERR_NODE_CONFLICT = "node(s) had volume node affinity conflict"
ERR_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
ERR_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
NO_PROVISIONER = "kubernetes.io/no-provisioner"


@dataclass
class PodVolumes:
    """What PreFilter found: an error for every node, the bound volumes, the claims to bind."""
    error: Status | None = None
    bound: list[Message] = field(default_factory=list)
    to_bind: list[Message] = field(default_factory=list)


def refused(reason: str) -> PodVolumes:
    """A PreFilter refusal: the pod fits no node until its claims change."""
    return PodVolumes(Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (reason,), PLUGIN, pre_filter=True))


def volume_fits_node(pv: Message, node: NodeInfo) -> bool:
    if not pv.spec.HasField("node_affinity"):
        return True
    terms = pv.spec.node_affinity.required.node_selector_terms
    return any(NodeTerm.compile(t).matches(node.labels, node.name) for t in terms)


def topology_allowed(terms, labels) -> bool:
    """A StorageClass's allowedTopologies: no terms allow every node, else some term's expressions all
    hold (the node has the key with one of the values)."""
    if not terms:
        return True
    return any(all(labels.get(e.key) in e.values for e in term.match_label_expressions) for term in terms)


class VolumeBinding:
    def __init__(self, claims: Store, volumes: Store, classes: Store) -> None:
        self.claims, self.volumes, self.classes = claims, volumes, classes

    def plugin(self) -> FilterPlugin:
        return FilterPlugin(PLUGIN, self.filter, self.pre_filter)

    def pre_filter(self, pod: PodInfo, snapshot: Snapshot) -> PodVolumes | object:
        names = claims_of(pod.pod)
        if not names:
            return SKIP
        state = PodVolumes()
        for name in names:
            pvc = self.claims.get(f"{pod.namespace}/{name}")
            if pvc is None:
                return refused(f'persistentvolumeclaim "{name}" not found')
            if pvc.metadata.HasField("deletion_timestamp"):
                return refused(f'persistentvolumeclaim "{name}" is being deleted')
            if pvc.spec.volume_name:
                pv = self.volumes.get(pvc.spec.volume_name)
                if pv is None:
                    return refused(ERR_PV_NOT_EXIST)
                state.bound.append(pv)
                continue
            sc = self.classes.get(claim_class(pvc)) if claim_class(pvc) else None
            if sc is None or sc.volume_binding_mode != WAIT_FOR_FIRST_CONSUMER:
                return refused(ERR_UNBOUND_IMMEDIATE)
            state.to_bind.append(pvc)
        return state

    def filter(self, pod: PodInfo, node: NodeInfo, state: PodVolumes) -> Status:
        if state.error is not None:
            return state.error
        if not all(volume_fits_node(pv, node) for pv in state.bound):
            return unschedulable(PLUGIN, ERR_NODE_CONFLICT, unresolvable=True)
        for pvc in state.to_bind:
            if self.static_match(pvc, node) is None and not self._provisionable(pvc, node):
                return unschedulable(PLUGIN, ERR_BIND_CONFLICT)
        return SUCCESS

    def static_match(self, pvc: Message, node: NodeInfo) -> Message | None:
        selector = from_label_selector(pvc.spec.selector)
        return find_best_match(pvc, self.volumes.list(), lambda v: selector.matches(v.metadata.labels),
                               node_fits=lambda v: volume_fits_node(v, node), delay_binding=True)

    def _provisionable(self, pvc: Message, node: NodeInfo) -> bool:
        """A provisioner can make the claim's volume on this node: its class has one and allows the
        node's topology."""
        sc = self.classes.get(claim_class(pvc))
        return sc is not None and sc.provisioner != NO_PROVISIONER and \
            topology_allowed(sc.allowed_topologies, node.labels)

    def bindings(self, pod: PodInfo, node: NodeInfo) -> list[Message]:
        """The writes that bind the pod's unbound claims on this node (PreBind): volumes given a claimRef,
        claims given the selected node."""
        state = self.pre_filter(pod, Snapshot())
        if not isinstance(state, PodVolumes) or state.error is not None:
            return []
        writes = []
        for pvc in state.to_bind:
            pv = self.static_match(pvc, node)
            if pv is not None:
                writes.append(prebound(pv, pvc))
            elif pvc.metadata.annotations.get(ANNOTATION_SELECTED_NODE) != node.name:
                updated = copy_of(pvc)
                updated.metadata.annotations[ANNOTATION_SELECTED_NODE] = node.name
                writes.append(updated)
        return writes

    def all_bound(self, pod: PodInfo) -> bool:
        for name in claims_of(pod.pod):
            pvc = self.claims.get(f"{pod.namespace}/{name}")
            if pvc is None or pvc.status.phase != CLAIM_BOUND or \
                    ANNOTATION_BIND_COMPLETED not in pvc.metadata.annotations:
                return False
        return True


def prebound(pv: Message, pvc: Message) -> Message:
    updated = copy_of(pv)
    updated.metadata.annotations[ANNOTATION_BOUND_BY_CONTROLLER] = "yes"
    updated.spec.claim_ref.CopyFrom(meta_pb2.ObjectReference(
        kind="PersistentVolumeClaim", namespace=pvc.metadata.namespace, name=pvc.metadata.name,
        uid=pvc.metadata.uid, api_version="v1", resource_version=pvc.metadata.resource_version))
    return updated

