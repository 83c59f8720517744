"""What a Delete does to an object: remove it now, or mark it and wait.

Kubernetes' rules: objects with finalizers get a deletionTimestamp and stay
until the last finalizer is removed; Orphan and Foreground deletion add the
`orphan` / `foregroundDeletion` finalizers the garbage collector acts on.
Kinds with a deletion of their own (graceful pods, terminating namespaces)
say so in their registry module's `plan_deletion`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.strategy import now
from control.client.wellknown import FINALIZER_FOREGROUND, FINALIZER_ORPHAN

POLICIES = {"", "Background", "Foreground", "Orphan"}

# A kind's own rule: (object marked with the policy's finalizer, already marked?, requested grace)
# → a plan, or None for the common rule.
KindPlan = Callable[[Message, bool, "int | None"], "DeletionPlan | None"]


@dataclass
class DeletionPlan:
    remove_now: bool
    updated: Message | None = None  # the object marked for deletion, when it stays


def plan_deletion(old: Message, policy: str, grace: int | None, kind_plan: KindPlan) -> DeletionPlan:
    plan = _plan(old, policy, grace, kind_plan)
    if plan.updated is not None and _same(plan.updated, old):
        plan.updated = None
    return plan


def _same(a: Message, b: Message) -> bool:
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


def _plan(old: Message, policy: str, grace: int | None, kind_plan: KindPlan) -> DeletionPlan:
    if policy not in POLICIES:
        raise errors.bad_request(f'propagationPolicy: Unsupported value: "{policy}": supported values: '
                                 '"Background", "Foreground", "Orphan"', "propagationPolicy")
    if grace is not None and grace < 0:
        raise errors.bad_request("gracePeriodSeconds: Invalid value: must be >= 0", "gracePeriodSeconds")
    obj = old.__class__()
    obj.CopyFrom(old)
    marked = obj.metadata.HasField("deletion_timestamp")
    finalizer = {"Orphan": FINALIZER_ORPHAN, "Foreground": FINALIZER_FOREGROUND}.get(policy)
    if finalizer and finalizer not in obj.metadata.finalizers:
        obj.metadata.finalizers.append(finalizer)
    plan = kind_plan(obj, marked, grace)
    if plan is not None:
        return plan
    if obj.metadata.finalizers:
        return mark(obj, marked, 0)
    return DeletionPlan(remove_now=True)


def mark(obj: Message, marked: bool, grace: int) -> DeletionPlan:
    """Sets deletionTimestamp (now + grace) unless already set; a shorter grace moves it earlier."""
    meta = obj.metadata
    if not marked or (meta.HasField("deletion_grace_period_seconds")
                      and grace < meta.deletion_grace_period_seconds):
        deadline = timestamp_pb2.Timestamp()
        deadline.FromSeconds(now().seconds + grace)
        meta.deletion_timestamp.CopyFrom(deadline)
        meta.deletion_grace_period_seconds = grace
    return DeletionPlan(remove_now=False, updated=obj)


def mark_now(obj: Message) -> None:
    obj.metadata.deletion_timestamp.CopyFrom(now())
    obj.metadata.deletion_grace_period_seconds = 0
