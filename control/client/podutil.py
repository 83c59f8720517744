"""What controllers, the apiserver and the node ask of a pod (Kubernetes' podutil): active, ready,
available, how long its deletion may take, and its QoS class."""

from __future__ import annotations

import time

from google.protobuf.message import Message

from control.client.quantity import parse_quantity
from control.client.wellknown import CONDITION_TRUE, POD_READY, get_condition, is_being_deleted, is_terminal

DEFAULT_POD_GRACE = 30  # seconds, when the pod names none


def deletion_grace(pod: Message, requested: int | None) -> int:
    """A deleted pod's grace period: pods not yet on a node, or finished, go at once; others get the
    requested grace, else the one already set, else their spec's. A grace period only shortens."""
    if not pod.spec.node_name or is_terminal(pod):
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
        grace = min(grace, pod.metadata.deletion_grace_period_seconds)
    return grace


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
    if not cond.HasField("last_transition_time"):
        return False  # as Kubernetes: no transition time, no proof it has been ready long enough
    since = cond.last_transition_time.ToNanoseconds() / 1e9
    return since + min_ready_seconds < (time.time() if now is None else now)


QOS_RESOURCES = ("cpu", "memory")


def _sum_positive(into: dict, values) -> set[str]:
    found = set()
    for name, text in values.items():
        if name in QOS_RESOURCES and (q := parse_quantity(text)) > 0:
            into[name] = into.get(name, 0) + q
            found.add(name)
    return found


def qos_class(pod: Message) -> str:
    """Kubernetes' ComputePodQOS: from the pod-level resources when the pod states any, else from its
    containers (requests taken from limits where unset); Guaranteed when cpu and memory limits are
    set everywhere and the requests equal them, BestEffort when nothing is stated."""
    requests: dict = {}
    limits: dict = {}
    guaranteed = True
    level = pod.spec.resources
    if level.requests or level.limits:
        _sum_positive(requests, level.requests)
        if level.limits and not set(QOS_RESOURCES) <= _sum_positive(limits, level.limits):
            guaranteed = False
    else:
        for c in (*pod.spec.init_containers, *pod.spec.containers):
            _sum_positive(requests, {**c.resources.limits, **c.resources.requests})
            if not set(QOS_RESOURCES) <= _sum_positive(limits, c.resources.limits):
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and all(limits.get(name) == req for name, req in requests.items()) and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"

