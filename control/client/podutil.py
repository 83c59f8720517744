"""What controllers ask of a pod (Kubernetes' podutil): active, ready, available."""

from __future__ import annotations

import time

from google.protobuf.message import Message

from control.client.wellknown import CONDITION_TRUE, POD_READY, get_condition, is_being_deleted, is_terminal


def is_pod_active(pod: Message) -> bool:
    """Counts towards a controller's replicas: not finished and not being deleted."""
    return not is_terminal(pod) and not is_being_deleted(pod)


def is_pod_ready(pod: Message) -> bool:
    cond = get_condition(pod.status, POD_READY)
    return cond is not None and cond.status == CONDITION_TRUE


def is_pod_available(pod: Message, min_ready_seconds: int, now: float | None = None) -> bool:
    """Ready for at least min_ready_seconds (by the Ready condition's lastTransitionTime)."""
    cond = get_condition(pod.status, POD_READY)
    if cond is None or cond.status != CONDITION_TRUE:
        return False
    if min_ready_seconds <= 0:
        return True
    since = cond.last_transition_time.ToNanoseconds() / 1e9 if cond.HasField("last_transition_time") else 0
    return since + min_ready_seconds <= (time.time() if now is None else now)
