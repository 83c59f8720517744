"""Pure: what the runtime reports about a pod's containers -> the Pod's status.

Follows the kubelet's rules for container states, the pod phase (getPhase)
and the PodScheduled / Initialized / ContainersReady / Ready conditions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from control.client.wellknown import (
    CONDITION_FALSE,
    CONDITION_TRUE,
    CONTAINERS_READY,
    POD_FAILED,
    POD_INITIALIZED,
    POD_PENDING,
    POD_READY,
    POD_RUNNING,
    POD_SCHEDULED,
    POD_SUCCEEDED,
)
from cri.runtime.v1 import api_pb2 as cri_pb
from node.runtime.config import RESTART_COUNT_ANNOTATION
from node.runtime.resources import qos_class
from skiff.v1 import pod_pb2

POD_RESIZE_PENDING = "PodResizePending"


@dataclass
class ContainerView:
    """One spec container as the agent sees it after a sync."""

    spec: pod_pb2.Container
    # The runtime's containers of this name, newest attempt first.
    attempts: list[cri_pb.ContainerStatus] = field(default_factory=list)
    waiting_reason: str = ""  # e.g. ErrImagePull, CrashLoopBackOff, set when the agent holds it back
    waiting_message: str = ""
    ready: bool = False  # readiness probe result (True when there is no readiness probe)
    started: bool = False  # startup probe result (True when there is no startup probe)
    termination_messages: dict[str, str] = field(default_factory=dict)  # container id -> message
    resources: dict | None = None  # what the latest container runs with ({"requests": …, "limits": …})

    @property
    def latest(self) -> cri_pb.ContainerStatus | None:
        return self.attempts[0] if self.attempts else None

    @property
    def sidecar(self) -> bool:
        return self.spec.restart_policy == "Always"


def restart_count(status: cri_pb.ContainerStatus) -> int:
    text = status.annotations.get(RESTART_COUNT_ANNOTATION, "")
    return int(text) if text.isdigit() else status.metadata.attempt


def timestamp_ns(ns: int) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(ns)
    return ts


def timestamp_now(now: datetime | None = None) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime((now or datetime.now(UTC)).replace(microsecond=0))
    return ts


def _terminated(status: cri_pb.ContainerStatus, runtime: str,
                message: str) -> pod_pb2.ContainerStateTerminated:
    reason = status.reason or ("Completed" if status.exit_code == 0 else "Error")
    out = pod_pb2.ContainerStateTerminated(exit_code=status.exit_code, reason=reason,
                                           message=message or status.message,
                                           container_id=f"{runtime}://{status.id}")
    if status.started_at:
        out.started_at.CopyFrom(timestamp_ns(status.started_at))
    if status.finished_at:
        out.finished_at.CopyFrom(timestamp_ns(status.finished_at))
    return out


def _state(view: ContainerView, status: cri_pb.ContainerStatus | None, runtime: str,
           default_waiting: str) -> pod_pb2.ContainerState:
    if status is None:
        return pod_pb2.ContainerState(waiting=pod_pb2.ContainerStateWaiting(
            reason=view.waiting_reason or default_waiting, message=view.waiting_message))
    if status.state == cri_pb.CONTAINER_RUNNING:
        return pod_pb2.ContainerState(running=pod_pb2.ContainerStateRunning(
            started_at=timestamp_ns(status.started_at)))
    if status.state == cri_pb.CONTAINER_EXITED:
        return pod_pb2.ContainerState(terminated=_terminated(
            status, runtime, view.termination_messages.get(status.id, "")))
    return pod_pb2.ContainerState(waiting=pod_pb2.ContainerStateWaiting(
        reason=view.waiting_reason or "ContainerCreating", message=view.waiting_message))


def container_status(view: ContainerView, runtime: str = "containerd",
                     default_waiting: str = "ContainerCreating") -> pod_pb2.ContainerStatus:
    latest = view.latest
    out = pod_pb2.ContainerStatus(name=view.spec.name, image=view.spec.image)
    if latest is None:
        out.state.CopyFrom(_state(view, None, runtime, default_waiting))
        out.started = False
        return out
    out.restart_count = restart_count(latest)
    out.image_id = latest.image_ref
    out.container_id = f"{runtime}://{latest.id}"
    previous = view.attempts[1] if len(view.attempts) > 1 else None
    if view.waiting_reason and latest.state == cri_pb.CONTAINER_EXITED:
        # Held back (back-off, image pull): the exited attempt becomes the last state.
        out.state.waiting.reason = view.waiting_reason
        out.state.waiting.message = view.waiting_message
        previous = latest
    else:
        out.state.CopyFrom(_state(view, latest, runtime, default_waiting))
    if previous is not None and previous.state == cri_pb.CONTAINER_EXITED:
        out.last_state.terminated.CopyFrom(_terminated(
            previous, runtime, view.termination_messages.get(previous.id, "")))
    running = latest.state == cri_pb.CONTAINER_RUNNING
    out.ready = running and view.ready and view.started
    out.started = running and view.started
    if running and view.resources is not None:
        # As the kubelet: the cpu and memory the runtime enforces, and every request it admitted.
        for field in ("requests", "limits"):
            values = view.resources.get(field, {})
            getattr(out.resources, field).update({k: v for k, v in values.items() if k in ("cpu", "memory")})
        out.allocated_resources.update(view.resources.get("requests", {}))
    return out


def init_done(status: pod_pb2.ContainerStatus, sidecar: bool) -> bool:
    if sidecar:
        return status.state.HasField("running") and status.started
    return status.state.HasField("terminated") and status.state.terminated.exit_code == 0


def _last_terminated(status: pod_pb2.ContainerStatus) -> bool:
    return status.last_state.HasField("terminated")


def pod_phase(spec: pod_pb2.PodSpec, init: Sequence[pod_pb2.ContainerStatus],
              regular: Sequence[pod_pb2.ContainerStatus], terminal: bool = False) -> str:
    """The kubelet's getPhase, for statuses in spec order."""
    restart_policy = spec.restart_policy or "Always"
    pending_init = failed_init = pending_sidecars = 0
    unknown = running = waiting = stopped = succeeded = 0
    for c, st in zip(spec.init_containers, init, strict=True):
        if c.restart_policy == "Always":
            if st.state.HasField("running"):
                running += 1
                pending_sidecars += 0 if st.started else 1
            elif st.state.HasField("waiting") and not _last_terminated(st):
                pending_sidecars += 1
                waiting += 1
            continue
        term = st.state.terminated if st.state.HasField("terminated") else (
            st.last_state.terminated if st.state.HasField("waiting") and _last_terminated(st) else None)
        if term is not None:
            failed_init += 1 if term.exit_code != 0 else 0
        else:
            pending_init += 1
    for st in regular:
        if st.state.HasField("running"):
            running += 1
        elif st.state.HasField("terminated"):
            stopped += 1
            succeeded += 1 if st.state.terminated.exit_code == 0 else 0
        elif st.state.HasField("waiting"):
            if _last_terminated(st):
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if failed_init and restart_policy == "Never":
        return POD_FAILED
    if pending_init or (pending_sidecars and not terminal) or waiting:
        return POD_PENDING
    if running and not unknown:
        return POD_RUNNING
    if not running and stopped and not unknown:
        if terminal:
            return POD_SUCCEEDED if stopped == succeeded else POD_FAILED
        if restart_policy == "Always":
            return POD_RUNNING
        if stopped == succeeded:
            return POD_SUCCEEDED
        return POD_FAILED if restart_policy == "Never" else POD_RUNNING
    return POD_PENDING


def _condition(ctype: str, ok: bool, reason: str = "", message: str = "") -> pod_pb2.PodCondition:
    return pod_pb2.PodCondition(type=ctype, status=CONDITION_TRUE if ok else CONDITION_FALSE,
                              reason=None if ok else reason, message=None if ok else message)


def pod_conditions(spec: pod_pb2.PodSpec, init: Sequence[pod_pb2.ContainerStatus],
                   regular: Sequence[pod_pb2.ContainerStatus], phase: str) -> list[pod_pb2.PodCondition]:
    incomplete = [st.name for c, st in zip(spec.init_containers, init, strict=True)
                  if not init_done(st, c.restart_policy == "Always")]
    completed = phase == POD_SUCCEEDED
    initialized = _condition(POD_INITIALIZED, not incomplete or completed, "ContainersNotInitialized",
                             f"containers with incomplete status: [{' '.join(incomplete)}]")
    sidecars = [st for c, st in zip(spec.init_containers, init, strict=True) if c.restart_policy == "Always"]
    unready = [st.name for st in [*sidecars, *regular] if not st.ready]
    if completed:
        reason, message, ready = "PodCompleted", "", False
    elif incomplete:
        reason, ready = "ContainersNotInitialized", False
        message = f"containers with incomplete status: [{' '.join(incomplete)}]"
    else:
        reason, ready = "ContainersNotReady", not unready
        message = f"containers with unready status: [{' '.join(unready)}]"
    return [initialized, _condition(CONTAINERS_READY, ready, reason, message),
            _condition(POD_READY, ready, reason, message)]


def _keep_transition_times(new: list[pod_pb2.PodCondition], old: Sequence[pod_pb2.PodCondition],
                           now: Timestamp) -> None:
    previous = {c.type: c for c in old}
    for cond in new:
        before = previous.get(cond.type)
        if before is not None and before.status == cond.status and before.HasField("last_transition_time"):
            cond.last_transition_time.CopyFrom(before.last_transition_time)
        else:
            cond.last_transition_time.CopyFrom(now)


def pod_status(pod: pod_pb2.Pod, init: Sequence[ContainerView], regular: Sequence[ContainerView], *,
               pod_ip: str = "", host_ip: str = "", runtime: str = "containerd",
               now: datetime | None = None, terminal: bool = False,
               resize_pending: tuple[str, str] | None = None) -> pod_pb2.PodStatus:
    """The status to write for pod, given views in spec order (and a resize the node holds back)."""
    init_statuses = [container_status(v, runtime, "PodInitializing") for v in init]
    for st in init_statuses:
        # As the kubelet's prober manager: an init container that completed counts as ready.
        if st.state.HasField("terminated") and st.state.terminated.exit_code == 0:
            st.ready = True
    initialized = all(init_done(st, v.sidecar) for st, v in zip(init_statuses, init, strict=True))
    default = "ContainerCreating" if initialized else "PodInitializing"
    statuses = [container_status(v, runtime, default) for v in regular]
    phase = pod_phase(pod.spec, init_statuses, statuses, terminal)
    stamp = timestamp_now(now)
    old = pod.status
    conditions = [c for c in old.conditions if c.type == POD_SCHEDULED] or [
        pod_pb2.PodCondition(type=POD_SCHEDULED, status=CONDITION_TRUE)]
    own = pod_conditions(pod.spec, init_statuses, statuses, phase)
    if resize_pending is not None:
        reason, message = resize_pending
        own.append(pod_pb2.PodCondition(type=POD_RESIZE_PENDING, status=CONDITION_TRUE, reason=reason,
                                        message=message))
    _keep_transition_times(own, old.conditions, stamp)
    out = pod_pb2.PodStatus(phase=phase, conditions=[*conditions, *own], host_ip=host_ip, pod_ip=pod_ip,
                            init_container_statuses=init_statuses, container_statuses=statuses,
                            qos_class=qos_class(pod), reason=old.reason, message=old.message)
    if host_ip:
        out.host_ips.add(ip=host_ip)
    if pod_ip:
        out.pod_ips.add(ip=pod_ip)
    out.start_time.CopyFrom(old.start_time if old.HasField("start_time") else stamp)
    return out


def status_changed(old: pod_pb2.PodStatus, new: pod_pb2.PodStatus) -> bool:
    """Whether new differs from old in anything but timestamps the agent stamps itself."""
    a, b = pod_pb2.PodStatus(), pod_pb2.PodStatus()
    a.CopyFrom(old)
    b.CopyFrom(new)
    for st in (a, b):
        for cond in st.conditions:
            cond.ClearField("last_transition_time")
            cond.ClearField("last_probe_time")
    return a != b
