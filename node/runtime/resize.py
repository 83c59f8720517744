"""In-place resize on the node (the kubelet's resize of running containers): a running container
whose spec resources differ from those it runs with gets them through CRI UpdateContainerResources,
without a restart, unless the container's resizePolicy asks a restart for a resource that changed.

What a container runs with is recorded in an annotation when it is created and, after a resize, in
memory (CRI annotations are fixed); an agent restarted after a resize applies the spec again, which
changes nothing. The container's status reports these values (`resources`, `allocatedResources`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from control.client import quota
from control.client.quantity import parse_quantity
from cri.runtime.v1 import api_pb2 as cri_pb
from node.cri import CRI
from node.runtime.resources import linux_resources
from skiff.v1 import pod_pb2

RESOURCES_ANNOTATION = "skiff.io/container-resources"
RESTART_CONTAINER = "RestartContainer"
NO_CHANGE, UPDATED, RESTART = "", "updated", "restart"


def resources_doc(container: pod_pb2.Container) -> dict[str, dict[str, str]]:
    res = container.resources
    return {"requests": dict(res.requests), "limits": dict(res.limits)}


def _changed(new: dict, old: dict) -> set[str]:
    names = set()
    for field in ("requests", "limits"):
        a, b = new.get(field, {}), old.get(field, {})
        names |= {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    return names


def needs_restart(container: pod_pb2.Container, changed: set[str]) -> bool:
    return any(p.resource_name in changed and p.restart_policy == RESTART_CONTAINER for p in container.resize_policy)


INFEASIBLE, DEFERRED = "Infeasible", "Deferred"
# cpu in millis and memory in bytes, in the order the kubelet's fit check reports them
_UNITS = (("cpu", 1000), ("memory", 1))


def _amount(values: quota.ResourceList, name: str, unit: int) -> int:
    return int(values[name].value * unit) if name in values else 0


def infeasible(pod: pod_pb2.Pod, allocatable: Mapping[str, str]) -> str | None:
    """The kubelet's message when the pod's requests, resized, exceed what the node has at all."""
    requests = quota.pod_requests(pod)
    for name, unit in (("memory", 1), ("cpu", 1000)):  # the kubelet checks memory first; cpu in millis
        if name not in allocatable:
            continue
        want = int(requests[name].value * unit) if name in requests else 0
        have = int(parse_quantity(allocatable[name]) * unit)
        if want > have:
            return f"Node didn't have enough capacity: {name}, requested: {want}, capacity: {have}"
    return None


def deferred(pod: pod_pb2.Pod, others: Iterable[pod_pb2.Pod], allocatable: Mapping[str, str]) -> str | None:
    """The kubelet's message when the resized pod and the node's other pods do not fit together
    (each other pod counts the larger of its spec and what it runs with)."""
    requests = quota.pod_requests(pod)
    used: quota.ResourceList = {}
    for other in others:
        if other.metadata.uid != pod.metadata.uid:
            used = quota.add(used, quota.pod_requests(other, use_status=True))
    for name, unit in _UNITS:
        if name not in allocatable:
            continue
        want, taken = _amount(requests, name, unit), _amount(used, name, unit)
        have = int(parse_quantity(allocatable[name]) * unit)
        if want + taken > have:
            return f"Node didn't have enough resource: {name}, requested: {want}, used: {taken}, capacity: {have}"
    return None


class Resizer:
    def __init__(self, cri: CRI, memory_capacity: int = 0) -> None:
        self.cri = cri
        self.memory_capacity = memory_capacity
        self._applied: dict[str, dict] = {}  # container id -> the resources it runs with, after a resize

    def applied(self, status: cri_pb.ContainerStatus) -> dict | None:
        if status.id in self._applied:
            return self._applied[status.id]
        text = status.annotations.get(RESOURCES_ANNOTATION)
        return json.loads(text) if text else None

    async def sync(self, pod: pod_pb2.Pod, spec: pod_pb2.Container, status: cri_pb.ContainerStatus) -> str:
        """NO_CHANGE, UPDATED (the runtime has the spec's resources now) or RESTART (its policy asks)."""
        want, have = resources_doc(spec), self.applied(status)
        if have is None:  # created before resources were recorded: the spec is what it got
            self._applied[status.id] = want
            return NO_CHANGE
        changed = _changed(want, have)
        if not changed:
            return NO_CHANGE
        if needs_restart(spec, changed):
            return RESTART
        await self.cri.update_container_resources(status.id, linux_resources(pod, spec, self.memory_capacity))
        self._applied[status.id] = want
        return UPDATED

    def wanted(self, spec: pod_pb2.Container, status: cri_pb.ContainerStatus) -> bool:
        """Whether the spec asks the running container for other resources than it has."""
        have = self.applied(status)
        return have is not None and bool(_changed(resources_doc(spec), have))

    def forget(self, container_id: str) -> None:
        self._applied.pop(container_id, None)
