"""What a Delete does to an object: remove it now, or mark it and wait.

Kubernetes' rules: objects with finalizers get a deletionTimestamp and stay
until the last finalizer is removed; Orphan and Foreground deletion add the
`orphan` / `foregroundDeletion` finalizers the garbage collector acts on;
pods on a node are deleted gracefully (the kubelet stops them and deletes
them with grace 0); a Namespace turns Terminating until the namespace
controller has emptied it and cleared spec.finalizers.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.strategy import now
from control.client.kinds import Kind

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
POLICIES = {"", "Background", "Foreground", "Orphan"}
DEFAULT_POD_GRACE = 30


@dataclass
class DeletionPlan:
    remove_now: bool
    updated: Message | None = None  # the object marked for deletion, when it stays


def plan_deletion(kind: Kind, old: Message, policy: str, grace: int | None) -> DeletionPlan:
    plan = _plan(kind, old, policy, grace)
    if plan.updated is not None and _same(plan.updated, old):
        plan.updated = None
    return plan


def _same(a: Message, b: Message) -> bool:
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


def _plan(kind: Kind, old: Message, policy: str, grace: int | None) -> DeletionPlan:
    if policy not in POLICIES:
        raise errors.bad_request(f'propagationPolicy: Unsupported value: "{policy}": supported values: '
                                 '"Background", "Foreground", "Orphan"', "propagationPolicy")
    if grace is not None and grace < 0:
        raise errors.bad_request("gracePeriodSeconds: Invalid value: must be >= 0", "gracePeriodSeconds")
    obj = old.__class__()
    obj.CopyFrom(old)
    marked = obj.metadata.HasField("deletion_timestamp")
    finalizer = {"Orphan": ORPHAN, "Foreground": FOREGROUND}.get(policy)
    if finalizer and finalizer not in obj.metadata.finalizers:
        obj.metadata.finalizers.append(finalizer)
    if kind.kind == "Namespace":
        return _plan_namespace(obj, marked)
    if kind.kind == "Pod":
        pod_grace = _pod_grace(obj, grace)
        if pod_grace > 0 or obj.metadata.finalizers:
            return _mark(obj, marked, pod_grace)
        return DeletionPlan(remove_now=True)
    if obj.metadata.finalizers:
        return _mark(obj, marked, 0)
    return DeletionPlan(remove_now=True)


def _pod_grace(pod: Message, requested: int | None) -> int:
    """Pods not yet on a node, or finished, go at once; others get their grace period."""
    if not pod.spec.node_name or pod.status.phase in ("Succeeded", "Failed"):
        return 0
    if requested is not None:
        grace = requested
    elif pod.metadata.HasField("deletion_grace_period_seconds"):
        grace = pod.metadata.deletion_grace_period_seconds
    elif pod.spec.HasField("termination_grace_period_seconds"):
        grace = pod.spec.termination_grace_period_seconds
    else:
        grace = DEFAULT_POD_GRACE
    if pod.metadata.HasField("deletion_grace_period_seconds"):
        grace = min(grace, pod.metadata.deletion_grace_period_seconds)  # grace only shortens
    return grace


def _mark(obj: Message, marked: bool, grace: int) -> DeletionPlan:
    meta = obj.metadata
    if not marked or (meta.HasField("deletion_grace_period_seconds")
                      and grace < meta.deletion_grace_period_seconds):
        deadline = timestamp_pb2.Timestamp()
        deadline.FromSeconds(now().seconds + grace)
        meta.deletion_timestamp.CopyFrom(deadline)
        meta.deletion_grace_period_seconds = grace
    return DeletionPlan(remove_now=False, updated=obj)


def _plan_namespace(ns: Message, marked: bool) -> DeletionPlan:
    if not marked:
        ns.metadata.deletion_timestamp.CopyFrom(now())
        ns.metadata.deletion_grace_period_seconds = 0
        ns.status.phase = "Terminating"
        return DeletionPlan(remove_now=False, updated=ns)
    if not ns.spec.finalizers and not ns.metadata.finalizers:
        return DeletionPlan(remove_now=True)
    return DeletionPlan(remove_now=False, updated=ns)
