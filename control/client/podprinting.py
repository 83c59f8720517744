"""What `get pods` shows in its READY, STATUS and RESTARTS columns, derived from a pod's status as
kubectl derives it (control/client/printers.py lays out the row; `describe` shows the same status)."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from control.client.humanize import age, is_set
from control.client.wellknown import CONDITION_TRUE, POD_PENDING, POD_READY


def pod_status_text(pod) -> str:
    """The STATUS column: the most telling reason among phase, init and main containers."""
    reason = pod.status.reason or pod.status.phase or POD_PENDING
    initializing, init_reason = _init_reason(pod)
    if initializing:
        reason = init_reason
    else:
        reason = _container_reason(pod, reason)
    if is_set(pod.metadata.deletion_timestamp):
        return "Unknown" if pod.status.reason == "NodeLost" else "Terminating"
    return reason


def _init_reason(pod) -> tuple[bool, str]:
    sidecars = {c.name for c in pod.spec.init_containers if c.restart_policy == "Always"}
    total = len(pod.spec.init_containers)
    for i, cs in enumerate(pod.status.init_container_statuses):
        term, wait = cs.state.terminated, cs.state.waiting
        if cs.state.HasField("terminated") and term.exit_code == 0:
            continue
        if cs.name in sidecars and cs.state.HasField("running") and cs.started:
            continue
        if cs.state.HasField("terminated"):
            if term.reason:
                return True, f"Init:{term.reason}"
            if term.signal:
                return True, f"Init:Signal:{term.signal}"
            return True, f"Init:ExitCode:{term.exit_code}"
        if cs.state.HasField("waiting") and wait.reason and wait.reason != "PodInitializing":
            return True, f"Init:{wait.reason}"
        return True, f"Init:{i}/{total}"
    return False, ""


def _container_reason(pod, reason: str) -> str:
    has_running = False
    for cs in reversed(pod.status.container_statuses):
        state = cs.state
        if state.HasField("waiting") and state.waiting.reason:
            reason = state.waiting.reason
        elif state.HasField("terminated") and state.terminated.reason:
            reason = state.terminated.reason
        elif state.HasField("terminated"):
            term = state.terminated
            reason = f"Signal:{term.signal}" if term.signal else f"ExitCode:{term.exit_code}"
        elif state.HasField("running") and cs.ready:
            has_running = True
    if reason == "Completed" and has_running:
        ready = any(c.type == POD_READY and c.status == CONDITION_TRUE for c in pod.status.conditions)
        reason = "Running" if ready else "NotReady"
    return reason


def pod_ready_text(pod) -> str:
    sidecars = {c.name for c in pod.spec.init_containers if c.restart_policy == "Always"}
    statuses = list(pod.status.container_statuses)
    statuses += [s for s in pod.status.init_container_statuses if s.name in sidecars]
    ready = sum(1 for s in statuses if s.ready)
    return f"{ready}/{len(pod.spec.containers) + len(sidecars)}"


def pod_restarts_text(pod, now: float) -> str:
    statuses = list(pod.status.container_statuses) + list(pod.status.init_container_statuses)
    restarts = sum(s.restart_count for s in statuses)
    last = max((s.last_state.terminated.finished_at.seconds for s in statuses
                if s.last_state.HasField("terminated")), default=0)
    if restarts and last:
        return f"{restarts} ({age(Timestamp(seconds=last), now)} ago)"
    return str(restarts)


