"""Pure rollout arithmetic for the Deployment controller (Kubernetes' deployment util).

Nothing here talks to the apiserver: template hashing, maxSurge/maxUnavailable,
how many replicas a new ReplicaSet may have, proportional scaling, revisions,
status and conditions. Kept apart so it can be read (and tested) on its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from google.protobuf.message import Message

from control.client.convert import int_or_string
from control.client.wellknown import (
    ANNOTATION_DESIRED_REPLICAS,
    ANNOTATION_LAST_APPLIED,
    ANNOTATION_MAX_REPLICAS,
    ANNOTATION_REVISION,
    ANNOTATION_REVISION_HISTORY,
    CONDITION_FALSE,
    CONDITION_TRUE,
    DEPLOYMENT_AVAILABLE,
    DEPLOYMENT_PROGRESSING,
    LABEL_POD_TEMPLATE_HASH,
    REPLICA_FAILURE,
    get_condition,
    now_timestamp,
    remove_condition,
)
from skiff.v1 import apps_pb2, meta_pb2

_NOT_COPIED = {ANNOTATION_REVISION, ANNOTATION_REVISION_HISTORY, ANNOTATION_DESIRED_REPLICAS,
               ANNOTATION_MAX_REPLICAS, ANNOTATION_LAST_APPLIED}
MAX_REVISION_HISTORY_CHARS = 2000

# Condition reasons (Kubernetes' deployment util).
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_MAX_INT32 = 2**31 - 1


# --- hashing and templates --------------------------------------------------

def template_hash(template: Message, collision_count: int | None = None) -> str:
    """A stable, name-safe hash of a pod template (FNV-1a 32 over its canonical bytes)."""
    h = 0x811C9DC5
    data = template.SerializeToString(deterministic=True)
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little")
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE_ALPHANUMS[b % len(_SAFE_ALPHANUMS)] for b in str(h).encode())


def equal_ignore_hash(a: Message, b: Message) -> bool:
    """Whether two pod templates are equal apart from the pod-template-hash label."""
    a2, b2 = type(a)(), type(b)()
    a2.CopyFrom(a)
    b2.CopyFrom(b)
    a2.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
    b2.metadata.labels.pop(LABEL_POD_TEMPLATE_HASH, None)
    return a2 == b2


# --- sizes ------------------------------------------------------------------

def replicas_of(obj: Message) -> int:
    return obj.spec.replicas if obj.spec.HasField("replicas") else 1


def scaled_value(value, total: int, round_up: bool) -> int:
    """An int-or-percent (google.protobuf.Value) against total, Kubernetes' rounding."""
    v = int_or_string(value) if value is not None else None
    if v is None:
        v = "25%"
    if isinstance(v, int):
        return v
    if not v.endswith("%"):
        raise ValueError(f"invalid value for IntOrString: invalid type: string is not a percentage: {v!r}")
    fraction = int(v[:-1]) * total / 100
    return math.ceil(fraction) if round_up else math.floor(fraction)


def is_rolling(d: Message) -> bool:
    return d.spec.strategy.type in ("", "RollingUpdate")


def surge_and_unavailable(d: Message) -> tuple[int, int]:
    """(maxSurge, maxUnavailable): surge rounds up, unavailable down; both 0 → unavailable 1."""
    if not is_rolling(d):
        return 0, 0
    ru = d.spec.strategy.rolling_update
    has = d.spec.strategy.HasField("rolling_update")
    replicas = replicas_of(d)
    surge = scaled_value(ru.max_surge if has and ru.HasField("max_surge") else None, replicas, True)
    unavailable = scaled_value(ru.max_unavailable if has and ru.HasField("max_unavailable") else None,
                               replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Message) -> int:
    return surge_and_unavailable(d)[0]


def max_unavailable(d: Message) -> int:
    if not is_rolling(d) or replicas_of(d) == 0:
        return 0
    return min(surge_and_unavailable(d)[1], replicas_of(d))


def total_replicas(rss: Iterable[Message | None]) -> int:
    return sum(replicas_of(rs) for rs in rss if rs is not None)


def new_rs_replicas(d: Message, all_rss: list[Message], new_rs: Message) -> int:
    """How many replicas the new ReplicaSet may have now (NewRSNewReplicas)."""
    if not is_rolling(d):
        return replicas_of(d)
    current = total_replicas(all_rss)
    max_total = replicas_of(d) + max_surge(d)
    if current >= max_total:
        return replicas_of(new_rs)
    scale_up = min(max_total - current, replicas_of(d) - replicas_of(new_rs))
    return replicas_of(new_rs) + scale_up


def is_saturated(d: Message, rs: Message | None) -> bool:
    if rs is None:
        return False
    desired = _int_annotation(rs, ANNOTATION_DESIRED_REPLICAS)
    return (desired == replicas_of(d) and replicas_of(rs) == replicas_of(d)
            and rs.status.available_replicas == replicas_of(d))


def replicas_annotations_need_update(rs: Message, desired: int, max_replicas: int) -> bool:
    ann = rs.metadata.annotations
    return ann.get(ANNOTATION_DESIRED_REPLICAS) != str(desired) or ann.get(ANNOTATION_MAX_REPLICAS) != str(max_replicas)


def set_replicas_annotations(rs: Message, desired: int, max_replicas: int) -> bool:
    changed = replicas_annotations_need_update(rs, desired, max_replicas)
    rs.metadata.annotations[ANNOTATION_DESIRED_REPLICAS] = str(desired)
    rs.metadata.annotations[ANNOTATION_MAX_REPLICAS] = str(max_replicas)
    return changed


def proportion(rs: Message, d: Message, to_add: int, added: int) -> int:
    """The share of a scaling event one ReplicaSet takes (GetProportion)."""
    if replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _fraction(rs: Message, d: Message) -> int:
    if replicas_of(d) == 0:
        return -replicas_of(rs)
    deployment_replicas = replicas_of(d) + max_surge(d)
    annotated = _int_annotation(rs, ANNOTATION_MAX_REPLICAS)
    if annotated is None:
        annotated = d.status.replicas
    if annotated <= 0:
        return 0
    size = replicas_of(rs) * deployment_replicas / annotated
    return int(math.floor(size + 0.5)) - replicas_of(rs)  # round half away from zero (sizes ≥ 0)


# --- revisions --------------------------------------------------------------

def _int_annotation(obj: Message, name: str) -> int | None:
    try:
        return int(obj.metadata.annotations[name])
    except (KeyError, ValueError):
        return None


def revision(rs: Message) -> int:
    return _int_annotation(rs, ANNOTATION_REVISION) or 0


def max_revision(rss: Iterable[Message]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def set_new_rs_annotations(d: Message, rs: Message, new_revision: int, exists: bool) -> bool:
    """Copies the deployment's annotations and bumps the revision (SetNewReplicaSetAnnotations)."""
    changed = False
    ann = rs.metadata.annotations
    for k, v in d.metadata.annotations.items():
        if k not in _NOT_COPIED and ann.get(k) != v:
            ann[k] = v
            changed = True
    old_text = ann.get(ANNOTATION_REVISION)
    old = revision(rs)
    if old < new_revision:
        ann[ANNOTATION_REVISION] = str(new_revision)
        changed = True
        if old_text:  # reusing an older ReplicaSet (a rollback): keep its past revisions
            _append_revision_history(rs, old_text)
    if not exists:
        changed |= set_replicas_annotations(rs, replicas_of(d), replicas_of(d) + max_surge(d))
    return changed


def _append_revision_history(rs: Message, old_revision: str) -> None:
    history = rs.metadata.annotations.get(ANNOTATION_REVISION_HISTORY, "")
    revisions = [r for r in history.split(",") if r] + [old_revision]
    while len(",".join(revisions)) > MAX_REVISION_HISTORY_CHARS and len(revisions) > 1:
        revisions.pop(0)
    rs.metadata.annotations[ANNOTATION_REVISION_HISTORY] = ",".join(revisions)


# --- finding ReplicaSets ----------------------------------------------------

def _created(obj: Message) -> tuple[int, str]:
    return obj.metadata.creation_timestamp.ToNanoseconds(), obj.metadata.name


def by_creation(rss: Iterable[Message]) -> list[Message]:
    return sorted(rss, key=_created)


def find_new_rs(d: Message, rss: list[Message]) -> Message | None:
    """The oldest ReplicaSet whose template equals the deployment's (ignoring the hash)."""
    for rs in by_creation(rss):
        if equal_ignore_hash(rs.spec.template, d.spec.template):
            return rs
    return None


def find_active_or_latest(new_rs: Message | None, old_rss: list[Message]) -> Message | None:
    """The only ReplicaSet with replicas, or the latest if none has any; None if several do."""
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=_created, reverse=True)
    active = [rs for rs in [*newest_first, new_rs] if rs is not None and replicas_of(rs) > 0]
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    return active[0] if len(active) == 1 else None


# --- status and conditions --------------------------------------------------

def new_condition(type_: str, status: str, reason: str, message: str) -> apps_pb2.DeploymentCondition:
    t = now_timestamp()
    return apps_pb2.DeploymentCondition(type=type_, status=status, reason=reason, message=message,
                              last_update_time=t, last_transition_time=t)


def set_deployment_condition(status: Message, cond: apps_pb2.DeploymentCondition) -> None:
    """Kubernetes' SetDeploymentCondition: same status and reason → unchanged; the same status
    with another reason keeps lastTransitionTime (wellknown.set_condition has no lastUpdateTime)."""
    current = get_condition(status, cond.type)
    if current is not None and current.status == cond.status and current.reason == cond.reason:
        return
    if current is not None and current.status == cond.status:
        cond.last_transition_time.CopyFrom(current.last_transition_time)
    remove_condition(status, cond.type)
    status.conditions.append(cond)


def set_progressing(status: Message, value: str, reason: str, message: str) -> None:
    set_deployment_condition(status, new_condition(DEPLOYMENT_PROGRESSING, value, reason, message))


def has_progress_deadline(d: Message) -> bool:
    return d.spec.HasField("progress_deadline_seconds") and d.spec.progress_deadline_seconds != _MAX_INT32


def calculate_status(all_rss: list[Message], new_rs: Message | None, d: Message) -> apps_pb2.DeploymentStatus:
    available = sum(rs.status.available_replicas for rs in all_rss)
    status = apps_pb2.DeploymentStatus(
        observed_generation=d.metadata.generation,
        replicas=sum(rs.status.replicas for rs in all_rss),
        updated_replicas=new_rs.status.replicas if new_rs is not None else 0,
        ready_replicas=sum(rs.status.ready_replicas for rs in all_rss),
        available_replicas=available,
        unavailable_replicas=max(0, total_replicas(all_rss) - available))
    if d.status.HasField("collision_count"):
        status.collision_count = d.status.collision_count
    status.conditions.extend(d.status.conditions)
    if available >= replicas_of(d) - max_unavailable(d):
        set_deployment_condition(status, new_condition(DEPLOYMENT_AVAILABLE, CONDITION_TRUE, MIN_AVAILABLE,
                                            "Deployment has minimum availability."))
    else:
        set_deployment_condition(status, new_condition(DEPLOYMENT_AVAILABLE, CONDITION_FALSE, MIN_UNAVAILABLE,
                                            "Deployment does not have minimum availability."))
    return status


def deployment_complete(d: Message, status: Message) -> bool:
    n = replicas_of(d)
    return (status.updated_replicas == n and status.replicas == n and status.available_replicas == n
            and status.observed_generation >= d.metadata.generation)


def deployment_progressing(d: Message, status: Message) -> bool:
    old = d.status
    return (status.updated_replicas > old.updated_replicas
            or status.replicas - status.updated_replicas < old.replicas - old.updated_replicas
            or status.ready_replicas > old.ready_replicas
            or status.available_replicas > old.available_replicas)


def deployment_timed_out(d: Message, status: Message) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, DEPLOYMENT_PROGRESSING)
    if cond is None or cond.reason == NEW_RS_AVAILABLE:
        return False
    if cond.reason == TIMED_OUT:
        return True
    return cond.last_update_time.ToNanoseconds() + d.spec.progress_deadline_seconds * 10**9 < time.time_ns()


def progress_deadline_remaining(d: Message, status: Message) -> float | None:
    """Seconds until a stuck rollout times out, or None when nothing needs checking later."""
    cond = get_condition(d.status, DEPLOYMENT_PROGRESSING)
    if not has_progress_deadline(d) or cond is None or deployment_complete(d, status) \
            or cond.reason == TIMED_OUT:
        return None
    deadline = cond.last_update_time.ToNanoseconds() + d.spec.progress_deadline_seconds * 10**9
    return (deadline - time.time_ns()) / 1e9


def replica_failure(new: Message | None, all_rss: list[Message]) -> meta_pb2.Condition | None:
    """A ReplicaSet's ReplicaFailure (the new one's first) as a deployment condition."""
    for rs in [new, *all_rss]:
        cond = get_condition(rs.status, REPLICA_FAILURE) if rs is not None else None
        if cond is not None and cond.status == CONDITION_TRUE:
            failure = new_condition(REPLICA_FAILURE, CONDITION_TRUE, cond.reason, cond.message)
            failure.last_transition_time.CopyFrom(cond.last_transition_time)
            return failure
    return None
