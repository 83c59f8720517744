"""What the DaemonSet controller decides without the API (Kubernetes' pkg/controller/daemon/util and
the pure parts of daemon_controller.go / update.go).

Which nodes should run a daemon pod (the template's node name, nodeSelector and required node
affinity, its taints against the pod's tolerations plus the ones every daemon pod gets), the pod a
node gets (pinned by a required node affinity on `metadata.name`, for the default scheduler to
bind), which pods are up to date, and the rolling-update and status arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from google.protobuf.message import Message

from control.client.convert import int_or_string
from control.client.podutil import is_pod_available, is_pod_ready
from control.client.wellknown import (
    ANNOTATION_TEMPLATE_GENERATION,
    LABEL_CONTROLLER_REVISION_HASH,
    LABEL_TEMPLATE_GENERATION,
    NO_EXECUTE,
    NO_SCHEDULE,
    POD_FAILED,
    TAINT_DISK_PRESSURE,
    TAINT_MEMORY_PRESSURE,
    TAINT_NETWORK_UNAVAILABLE,
    TAINT_NOT_READY,
    TAINT_PID_PRESSURE,
    TAINT_UNREACHABLE,
    TAINT_UNSCHEDULABLE,
    is_being_deleted,
)
from control.scheduler.matching import NodeTerm, first_untolerated
from skiff.v1 import apps_pb2, meta_pb2, pod_pb2

NAME_FIELD = "metadata.name"

# Every daemon pod tolerates these (Kubernetes' AddOrUpdateDaemonPodTolerations).
_AUTOMATIC = ((TAINT_NOT_READY, NO_EXECUTE), (TAINT_UNREACHABLE, NO_EXECUTE), (TAINT_DISK_PRESSURE, NO_SCHEDULE),
              (TAINT_MEMORY_PRESSURE, NO_SCHEDULE), (TAINT_PID_PRESSURE, NO_SCHEDULE),
              (TAINT_UNSCHEDULABLE, NO_SCHEDULE))


def add_daemon_tolerations(spec: pod_pb2.PodSpec) -> None:
    """Adds (or replaces) the tolerations every daemon pod has; hostNetwork pods also tolerate
    network-unavailable."""
    wanted = list(_AUTOMATIC) + ([(TAINT_NETWORK_UNAVAILABLE, NO_SCHEDULE)] if spec.host_network else [])
    for key, effect in wanted:
        kept = [t for t in spec.tolerations if not (t.key == key and t.effect == effect)]
        del spec.tolerations[:]
        spec.tolerations.extend(kept)
        spec.tolerations.add(key=key, operator="Exists", effect=effect)


def _fits_node_affinity(spec: pod_pb2.PodSpec, node: Message) -> bool:
    labels = node.metadata.labels
    if any(labels.get(k) != v for k, v in spec.node_selector.items()):
        return False
    required = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    if not spec.affinity.node_affinity.HasField("required_during_scheduling_ignored_during_execution"):
        return True
    return any(NodeTerm.compile(t).matches(labels, node.metadata.name) for t in required.node_selector_terms)


def should_run(ds: Message, node: Message) -> tuple[bool, bool]:
    """(should run, should continue running) a daemon pod of ds on node: Kubernetes'
    NodeShouldRunDaemonPod. A pod tolerating a node's NoExecute taints may keep running where a
    NoSchedule taint keeps a new one off."""
    spec = pod_pb2.PodSpec()
    spec.CopyFrom(ds.spec.template.spec)
    add_daemon_tolerations(spec)
    if spec.node_name and spec.node_name != node.metadata.name:
        return False, False
    if not _fits_node_affinity(spec, node):
        return False, False
    taints = node.spec.taints
    if first_untolerated(taints, spec.tolerations, (NO_SCHEDULE, NO_EXECUTE)) is not None:
        return False, first_untolerated(taints, spec.tolerations, (NO_EXECUTE,)) is None
    return True, True


def pin_to_node(affinity: pod_pb2.Affinity, node_name: str) -> None:
    """Replaces the required node affinity with one term matching only this node by name, as
    Kubernetes >= 1.12 places daemon pods through the default scheduler."""
    required = affinity.node_affinity.required_during_scheduling_ignored_during_execution
    del required.node_selector_terms[:]
    term = required.node_selector_terms.add()
    term.match_fields.add(key=NAME_FIELD, operator="In", values=[node_name])


def template_generation(ds: Message) -> str:
    return ds.metadata.annotations.get(ANNOTATION_TEMPLATE_GENERATION, "")


def new_pod(ds: Message, node_name: str, hash_: str) -> pod_pb2.Pod:
    """The daemon pod for node_name: the template with the automatic tolerations, the revision hash
    and template generation labels, pinned to the node, controlled by ds."""
    template = ds.spec.template
    labels = dict(template.metadata.labels)
    labels[LABEL_CONTROLLER_REVISION_HASH] = hash_
    if template_generation(ds):
        labels[LABEL_TEMPLATE_GENERATION] = template_generation(ds)
    meta = meta_pb2.ObjectMeta(generate_name=f"{ds.metadata.name}-", namespace=ds.metadata.namespace,
                               labels=labels, annotations=dict(template.metadata.annotations),
                               finalizers=list(template.metadata.finalizers))
    meta.owner_references.add(api_version="apps/v1", kind="DaemonSet", name=ds.metadata.name,
                              uid=ds.metadata.uid, controller=True, block_owner_deletion=True)
    pod = pod_pb2.Pod(api_version="v1", kind="Pod", metadata=meta)
    pod.spec.CopyFrom(template.spec)
    add_daemon_tolerations(pod.spec)
    pin_to_node(pod.spec.affinity, node_name)
    return pod


def target_node(pod: Message) -> str:
    """The node a daemon pod is for: its nodeName, else the one its required affinity names."""
    if pod.spec.node_name:
        return pod.spec.node_name
    terms = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    for term in terms:
        for req in term.match_fields:
            if req.key == NAME_FIELD and req.operator == "In" and len(req.values) == 1:
                return req.values[0]
    return ""


def is_updated(pod: Message, hash_: str, generation: str) -> bool:
    labels = pod.metadata.labels
    return (bool(hash_) and labels.get(LABEL_CONTROLLER_REVISION_HASH) == hash_) or \
        (bool(generation) and labels.get(LABEL_TEMPLATE_GENERATION) == generation)


def by_age(pods: list[Message]) -> list[Message]:
    """Oldest first; on equal times, running before pending (Kubernetes' podByCreationTimestampAndPhase)."""
    return sorted(pods, key=lambda p: (p.metadata.creation_timestamp.ToNanoseconds(),
                                       0 if p.status.phase == "Running" else 1, p.metadata.name))


def updated_on_node(ds: Message, pods: list[Message], hash_: str) -> tuple[Message | None, Message | None, bool]:
    """(new pod, old pod, ok) on one node; not ok when it has two new or two old pods."""
    new = old = None
    for pod in pods:
        if is_being_deleted(pod):
            continue
        if is_updated(pod, hash_, template_generation(ds)):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def _scaled(value, total: int) -> int:
    v = int_or_string(value)
    if v is None:
        return 0
    if isinstance(v, str):
        return math.ceil(int(v.rstrip("%")) * total / 100)
    return v


def surge_and_unavailable(ds: Message, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as counts of `desired` (percentages round up); never both 0."""
    ru = ds.spec.update_strategy.rolling_update
    surge, unavailable = _scaled(ru.max_surge, desired), _scaled(ru.max_unavailable, desired)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def allows_surge(ds: Message) -> bool:
    ru = ds.spec.update_strategy.rolling_update
    return ds.spec.update_strategy.type == "RollingUpdate" and _scaled(ru.max_surge, 100) > 0


@dataclass
class NodePlan:
    """What manage() does: nodes to get a pod, pods to delete, failed pods to delete unless their
    node's back-off holds them."""
    create_on: list[str] = field(default_factory=list)
    delete: list[Message] = field(default_factory=list)
    failed: list[Message] = field(default_factory=list)


class FailedPodBackoff:
    """client-go's flowcontrol.Backoff as the DaemonSet controller uses it for failed pods, per
    DaemonSet and node: 1 s, doubling to 15 min; an entry idle for twice the maximum starts over."""

    def __init__(self, initial: float = 1.0, maximum: float = 900.0) -> None:
        self.initial, self.maximum = initial, maximum
        self._entries: dict[str, tuple[float, float]] = {}  # key -> (delay, last update)

    def _entry(self, key: str, now: float) -> tuple[float, float] | None:
        entry = self._entries.get(key)
        return None if entry is None or now - entry[1] > 2 * self.maximum else entry

    def remaining(self, key: str, now: float) -> float:
        entry = self._entry(key, now)
        return 0.0 if entry is None else max(0.0, entry[1] + entry[0] - now)

    def next(self, key: str, now: float) -> None:
        entry = self._entry(key, now)
        self._entries[key] = (self.initial if entry is None else min(2 * entry[0], self.maximum), now)


def plan_node(ds: Message, node: Message, pods: list[Message], hash_: str, now: float, plan: NodePlan) -> None:
    """Kubernetes' podsShouldBeOnNode for one node."""
    run, keep = should_run(ds, node)
    if run and not pods:  # a terminating pod is waited for (its host ports, its volumes)
        plan.create_on.append(node.metadata.name)
        return
    alive = [p for p in pods if not is_being_deleted(p)]
    if not keep:
        plan.delete.extend(alive)
        return
    failed = [p for p in alive if p.status.phase == POD_FAILED]
    plan.failed.extend(failed)
    running = by_age([p for p in alive if p.status.phase != POD_FAILED])
    if len(running) <= 1:
        return
    if not allows_surge(ds):
        plan.delete.extend(running[1:])
        return
    plan.delete.extend(_surge_extras(ds, running, hash_, now))


def _surge_extras(ds: Message, running: list[Message], hash_: str, now: float) -> list[Message]:
    """With surge, two pods stay only while the oldest new one is not ready and the oldest old one is."""
    generation = template_generation(ds)
    new = [p for p in running if is_updated(p, hash_, generation)]
    old = [p for p in running if not is_updated(p, hash_, generation)]
    keep: list[Message] = []
    if new:
        keep.append(new[0])
    if old and (not new or (not is_pod_ready(new[0]) and is_pod_ready(old[0]))):
        keep.append(old[0])
    kept = {p.metadata.uid for p in keep}
    return [p for p in running if p.metadata.uid not in kept]


def calculate_status(ds: Message, nodes: list[Message], by_node: dict[str, list[Message]], hash_: str,
                     now: float) -> apps_pb2.DaemonSetStatus:
    desired = current = ready = available = updated = misscheduled = 0
    for node in nodes:
        run, _ = should_run(ds, node)
        pods = by_node.get(node.metadata.name, [])  # a terminating pod still counts as scheduled
        if not run:
            misscheduled += bool(pods)
            continue
        desired += 1
        if not pods:
            continue
        current += 1
        pod = by_age(pods)[0]
        if is_pod_ready(pod):
            ready += 1
            available += is_pod_available(pod, ds.spec.min_ready_seconds, now)
        updated += is_updated(pod, hash_, template_generation(ds))
    status = apps_pb2.DaemonSetStatus(
        desired_number_scheduled=desired, current_number_scheduled=current, number_ready=ready,
        number_available=available, number_unavailable=desired - available, updated_number_scheduled=updated,
        number_misscheduled=misscheduled, observed_generation=ds.metadata.generation)
    if ds.status.HasField("collision_count"):
        status.collision_count = ds.status.collision_count
    status.conditions.extend(ds.status.conditions)
    return status


def _available(pod: Message, ds: Message, now: float) -> bool:
    return is_pod_available(pod, ds.spec.min_ready_seconds, now)


def rolling_plan(ds: Message, nodes: list[Message], by_node: dict[str, list[Message]], hash_: str,
                 now: float) -> NodePlan:
    """One step of RollingUpdate (Kubernetes' rollingUpdate): without surge, old pods are deleted
    within maxUnavailable and the manage pass recreates them; with surge, new pods are created
    beside old ones within maxSurge and an old pod goes once its node's new pod is available."""
    by_name = {n.metadata.name: n for n in nodes}
    wanted = {name: list(by_node.get(name, [])) for name in by_node}
    desired = 0
    for node in nodes:
        if should_run(ds, node)[0]:
            desired += 1
            wanted.setdefault(node.metadata.name, [])
    surge, unavailable = surge_and_unavailable(ds, desired)
    if surge == 0:
        return _plan_unavailable(ds, wanted, hash_, now, unavailable)
    return _plan_surge(ds, wanted, by_name, hash_, now, surge, desired)


def _plan_unavailable(ds: Message, by_node: dict[str, list[Message]], hash_: str, now: float,
                      max_unavailable: int) -> NodePlan:
    unavailable = 0
    replacements: list[Message] = []
    candidates: list[Message] = []
    for name in sorted(by_node):
        new, old, ok = updated_on_node(ds, by_node[name], hash_)
        if not ok or (new is None) == (old is None):
            unavailable += 1  # the manage pass creates or deletes here
        elif new is not None:
            unavailable += not _available(new, ds, now)
        elif not _available(old, ds, now):
            replacements.append(old)
        elif unavailable < max_unavailable:
            candidates.append(old)
    room = min(max(max_unavailable - unavailable, 0), len(candidates))
    return NodePlan(delete=replacements + candidates[:room])


def _plan_surge(ds: Message, by_node: dict[str, list[Message]], nodes: dict[str, Message], hash_: str,
                now: float, max_surge: int, desired: int) -> NodePlan:
    plan = NodePlan()
    surging = available = 0
    allowed: list[str] = []
    candidates: list[str] = []
    sunset: list[Message] = []
    for name in sorted(by_node):
        new, old, ok = updated_on_node(ds, by_node[name], hash_)
        if not ok:
            surging += 1
            continue
        counted = old if old is not None else new
        available += counted is not None and _available(counted, ds, now)
        runs = name in nodes and should_run(ds, nodes[name])[0]
        if old is None:
            continue
        if new is None:
            if not _available(old, ds, now) and runs:
                allowed.append(name)
            elif not _available(old, ds, now):
                plan.delete.append(old)
            elif not runs:
                sunset.append(old)
            elif surging < max_surge:
                candidates.append(name)
        elif not _available(new, ds, now):
            surging += 1
        else:
            plan.delete.append(old)
    deletable = min(max(available - desired, 0), len(sunset))
    plan.delete.extend(sunset[:deletable])
    room = min(max(max_surge - surging, 0), len(candidates))
    plan.create_on = allowed + candidates[:room]
    return plan
