"""Pure helpers of the Job controller: its pods (from the template, with their completion index),
which of them failed or succeeded, the pod failure policy, the success policy, the back-off and the
status counts."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from control.client.controllerref import new_controller_ref
from control.client.jobindexes import IndexesError, parse_intervals
from control.client.kinds import KINDS
from control.client.podutil import is_pod_ready
from control.client.wellknown import (
    CONDITION_TRUE,
    FINALIZER_JOB_TRACKING,
    JOB_COMPLETE,
    JOB_COMPLETION_INDEX,
    JOB_COMPLETION_INDEX_ENV,
    JOB_FAILED,
    JOB_INDEX_FAILURE_COUNT,
    POD_FAILED,
    POD_SUCCEEDED,
    get_condition,
    is_being_deleted,
)
from skiff.v1 import meta_pb2, pod_pb2

_POD = KINDS["Pod"]
BACKOFF_BASE = 10.0  # seconds: the delay after the first failure, doubling after each further one
BACKOFF_MAX = 360.0


def is_finished(job: Message) -> bool:
    return any(c.type in (JOB_COMPLETE, JOB_FAILED) and c.status == CONDITION_TRUE for c in job.status.conditions)


def is_indexed(job: Message) -> bool:
    return job.spec.completion_mode == "Indexed"


def completion_index(pod: Message) -> int | None:
    value = pod.metadata.annotations.get(JOB_COMPLETION_INDEX) or pod.metadata.labels.get(JOB_COMPLETION_INDEX)
    return int(value) if value is not None and value.isdigit() else None


def is_succeeded(pod: Message) -> bool:
    return pod.status.phase == POD_SUCCEEDED


def is_failed(pod: Message, job: Message) -> bool:
    """A Failed pod; also, unless only Failed pods are replaced, a deleted pod that did not succeed
    (it may never get the chance to reach Failed)."""
    if pod.status.phase == POD_FAILED:
        return True
    if job.spec.pod_replacement_policy == "Failed" or job.spec.suspend:  # pods a suspension stops are no failures
        return False
    return is_being_deleted(pod) and pod.status.phase != POD_SUCCEEDED


def is_active(pod: Message) -> bool:
    return pod.status.phase not in (POD_SUCCEEDED, POD_FAILED) and not is_being_deleted(pod)


def is_terminating(pod: Message) -> bool:
    return pod.status.phase not in (POD_SUCCEEDED, POD_FAILED) and is_being_deleted(pod)


def new_pod(job: Message, index: int | None, failures: int = 0) -> pod_pb2.Pod:
    """A pod of the Job from its template; an Indexed Job's pod carries its index."""
    template = job.spec.template
    name = job.metadata.name
    prefix = f"{name}-{index}-" if index is not None else f"{name}-"
    meta = meta_pb2.ObjectMeta(generate_name=prefix, namespace=job.metadata.namespace,
                               labels=dict(template.metadata.labels),
                               annotations=dict(template.metadata.annotations),
                               finalizers=[*template.metadata.finalizers, FINALIZER_JOB_TRACKING])
    meta.owner_references.append(new_controller_ref(job))
    pod = _POD.new(metadata=meta)
    pod.spec.CopyFrom(template.spec)
    meta = pod.metadata
    if index is not None:
        meta.annotations[JOB_COMPLETION_INDEX] = str(index)
        meta.labels[JOB_COMPLETION_INDEX] = str(index)
        if job.spec.HasField("backoff_limit_per_index"):
            meta.annotations[JOB_INDEX_FAILURE_COUNT] = str(failures)
        pod.spec.hostname = pod.spec.hostname or f"{name}-{index}"
        for container in [*pod.spec.init_containers, *pod.spec.containers]:
            if not any(e.name == JOB_COMPLETION_INDEX_ENV for e in container.env):
                env = container.env.add(name=JOB_COMPLETION_INDEX_ENV)
                env.value_from.field_ref.api_version = "v1"
                env.value_from.field_ref.field_path = f"metadata.annotations['{JOB_COMPLETION_INDEX}']"
    return pod


def backoff_delay(failures: int) -> float:
    """The wait before the next pod after `failures` consecutive failures: 10 s doubling, at most 6 min."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_BASE * 2 ** (failures - 1), BACKOFF_MAX)


def finished_at(pod: Message) -> float:
    """When a terminated pod finished, as Kubernetes reads it: its Ready=False transition, else its
    containers' last end, else when its deletion was asked for, else its creation."""
    ready = next((c for c in pod.status.conditions if c.type == "Ready" and c.status == "False"), None)
    if ready is not None and ready.last_transition_time.seconds:
        return float(ready.last_transition_time.seconds)
    ends = [s.state.terminated.finished_at.seconds for s in pod.status.container_statuses
            if s.state.HasField("terminated") and s.state.terminated.finished_at.seconds]
    if ends:
        return float(max(ends))
    meta = pod.metadata
    if meta.HasField("deletion_timestamp"):
        return float(meta.deletion_timestamp.seconds - meta.deletion_grace_period_seconds)
    return float(meta.creation_timestamp.seconds)


def restarts(pods: list[Message]) -> int:
    return sum(s.restart_count for p in pods
               for s in [*p.status.init_container_statuses, *p.status.container_statuses])


# --- the pod failure policy --------------------------------------------------------------------

@dataclass(frozen=True)
class PolicyMatch:
    action: str  # FailJob, FailIndex, Ignore or Count
    message: str


def _exit_code_match(rule: Message, pod: Message) -> str | None:
    req = rule.on_exit_codes
    statuses = [*pod.status.init_container_statuses, *pod.status.container_statuses]
    for s in statuses:
        if req.HasField("container_name") and req.container_name and s.name != req.container_name:
            continue
        if not s.state.HasField("terminated"):
            continue
        code = s.state.terminated.exit_code
        if code == 0:
            continue
        if (code in req.values) == (req.operator == "In"):
            pod_name = f"{pod.metadata.namespace}/{pod.metadata.name}"
            return f"Container {s.name} for pod {pod_name} failed with exit code {code}"
    return None


def _condition_match(rule: Message, pod: Message) -> str | None:
    for pattern in rule.on_pod_conditions:
        status = pattern.status if pattern.HasField("status") else CONDITION_TRUE
        if any(c.type == pattern.type and c.status == status for c in pod.status.conditions):
            return f"Pod {pod.metadata.namespace}/{pod.metadata.name} has condition {pattern.type}"
    return None


def match_failure_policy(job: Message, pod: Message) -> PolicyMatch | None:
    """The first rule of the Job's podFailurePolicy a failed pod matches (None: count it)."""
    for i, rule in enumerate(job.spec.pod_failure_policy.rules):
        found = _exit_code_match(rule, pod) if rule.HasField("on_exit_codes") else _condition_match(rule, pod)
        if found is not None:
            return PolicyMatch(rule.action, f"{found} matching {rule.action} rule at index {i}")
    return None


# --- the success policy --------------------------------------------------------------------------

def success_policy_met(job: Message, succeeded: set[int]) -> bool:
    """Whether some rule of the Job's successPolicy holds for these succeeded indexes."""
    for rule in job.spec.success_policy.rules:
        wanted = len(succeeded)
        if rule.HasField("succeeded_indexes"):
            try:
                intervals = parse_intervals(rule.succeeded_indexes, job.spec.completions)
            except IndexesError:
                continue
            wanted = sum(any(first <= i <= end for first, end in intervals) for i in succeeded)
            if not rule.HasField("succeeded_count") and wanted == sum(end - first + 1 for first, end in intervals):
                return True
        if rule.HasField("succeeded_count") and wanted >= rule.succeeded_count:
            return True
    return False


def succeeded_total(status: Message) -> int:
    """Succeeded pods, counted or still in uncountedTerminatedPods (as Kubernetes' syncJob counts)."""
    return status.succeeded + len(status.uncounted_terminated_pods.succeeded)


def failed_total(status: Message) -> int:
    return status.failed + len(status.uncounted_terminated_pods.failed)


def has_true(status: Message, type_: str) -> bool:
    cond = get_condition(status, type_)
    return cond is not None and cond.status == CONDITION_TRUE


def fill_counts(status: Message, pods: list[Message]) -> None:
    """status.active, ready and terminating from the pods (uncountedTerminatedPods present, maybe empty)."""
    running = [p for p in pods if is_active(p)]
    status.active = len(running)
    status.ready = sum(is_pod_ready(p) for p in running)
    status.terminating = sum(is_terminating(p) for p in pods)
    status.uncounted_terminated_pods.SetInParent()
    for name in ("active", "succeeded", "failed"):  # omitted when zero, as Kubernetes' omitempty counters
        if not getattr(status, name):
            status.ClearField(name)
