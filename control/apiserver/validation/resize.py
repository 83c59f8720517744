"""In-place resize (the pods/resize subresource): what a resize may change of a pod, in Kubernetes'
words. Only the cpu and memory requests and limits of containers and sidecars change; a value may
not be removed, containers keep their names and order, and the pod keeps its QoS class."""

from __future__ import annotations

from control.apiserver.validation.errors import Errors, forbidden, invalid
from skiff.v1 import pod_pb2

RESIZABLE = ("cpu", "memory")


def _names(containers) -> list[str]:
    return [c.name for c in containers]


def _removed(new, old) -> bool:
    return any(name not in new for name in old)


def _without_cpu_memory(c: pod_pb2.Container, old: pod_pb2.Container) -> pod_pb2.Container:
    """c with its cpu and memory values taken from old: what must then equal old."""
    out = pod_pb2.Container()
    out.CopyFrom(c)
    for field in ("requests", "limits"):
        values = getattr(out.resources, field)
        before = getattr(old.resources, field)
        for name in RESIZABLE:
            if name in before:
                values[name] = before[name]
            elif name in values:
                del values[name]
    if not out.resources.requests and not out.resources.limits and not old.HasField("resources"):
        out.ClearField("resources")
    return out


def _container_changes(new: pod_pb2.Container, old: pod_pb2.Container, path: str, sidecar: bool) -> Errors:
    errs: Errors = []
    if not sidecar:
        if new.resources != old.resources:
            errs.append(forbidden("spec", "resources for non-sidecar init containers are immutable"))
        return errs
    if _removed(new.resources.requests, old.resources.requests):
        errs.append(forbidden(f"{path}.resources.requests", "resource requests cannot be removed"))
    if _removed(new.resources.limits, old.resources.limits):
        errs.append(forbidden(f"{path}.resources.limits", "resource limits cannot be removed"))
    return errs


def validate_pod_resize(new: pod_pb2.Pod, old: pod_pb2.Pod, new_qos: str, old_qos: str) -> Errors:
    """What Kubernetes refuses of a resize, beyond the pod's own validation."""
    errs: Errors = []
    if old.spec.os.name == "windows":
        return [forbidden("", "windows pods cannot be resized")]
    if new_qos != old_qos:
        errs.append(invalid("spec", new_qos, "Pod QOS Class may not change as a result of resizing"))
    if _names(new.spec.containers) != _names(old.spec.containers) or _names(
            new.spec.init_containers) != _names(old.spec.init_containers):
        return errs + [forbidden("spec", "containers may not be renamed or reordered on resize")]
    comparable = pod_pb2.PodSpec()
    comparable.CopyFrom(new.spec)
    for i, (c, before) in enumerate(zip(new.spec.init_containers, old.spec.init_containers, strict=True)):
        sidecar = before.restart_policy == "Always"
        errs += _container_changes(c, before, f"spec.initContainers[{i}]", sidecar)
        if sidecar:
            comparable.init_containers[i].CopyFrom(_without_cpu_memory(c, before))
    for i, (c, before) in enumerate(zip(new.spec.containers, old.spec.containers, strict=True)):
        errs += _container_changes(c, before, f"spec.containers[{i}]", True)
        comparable.containers[i].CopyFrom(_without_cpu_memory(c, before))
    if comparable != old.spec:
        errs.append(forbidden("spec", "only cpu and memory resources are mutable"))
    return errs
