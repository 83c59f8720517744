"""A container's compute resources as CRI Linux resources (the kubelet's kuberuntime_container_linux.go):
QoS class, CPU shares and quota, memory limit, OOM score adjustment."""

from __future__ import annotations

from control.client import podutil
from control.client.quantity import bytes_of, cpu_millis
from cri.runtime.v1 import api_pb2 as cri_pb
from skiff.v1 import pod_pb2

CPU_PERIOD = 100_000
MIN_SHARES, MAX_SHARES, MIN_QUOTA = 2, 262_144, 1_000


def milli_cpu(text: str) -> int:
    return cpu_millis(text)


def _value(text: str) -> int:
    return bytes_of(text)


def effective_requests(container: pod_pb2.Container) -> dict[str, str]:
    """Requests, defaulted from limits as the apiserver does when only a limit is given."""
    requests = dict(container.resources.limits)
    requests.update(container.resources.requests)
    return requests


def qos_class(pod: pod_pb2.Pod) -> str:
    return podutil.qos_class(pod)


def cpu_shares(milli: int) -> int:
    if milli == 0:
        return MIN_SHARES
    return min(MAX_SHARES, max(MIN_SHARES, milli * 1024 // 1000))


def cpu_quota(milli: int, period: int = CPU_PERIOD) -> int:
    if milli == 0:
        return 0
    return max(MIN_QUOTA, milli * period // 1000)


def oom_score_adj(pod: pod_pb2.Pod, container: pod_pb2.Container, memory_capacity: int) -> int:
    qos = qos_class(pod)
    if qos == "Guaranteed":
        return -997
    if qos == "BestEffort" or memory_capacity <= 0:
        return 1000
    request = _value(effective_requests(container).get("memory", "0"))
    return min(999, max(2, 1000 - 1000 * request // memory_capacity))


def effective_limits(pod: pod_pb2.Pod, container: pod_pb2.Container) -> dict[str, str]:
    """The container's limits; a cpu or memory limit it lacks comes from the pod-level limit
    (spec.resources), as the kubelet sets it."""
    limits = dict(container.resources.limits)
    for res in ("cpu", "memory"):
        if res not in limits and res in pod.spec.resources.limits:
            limits[res] = pod.spec.resources.limits[res]
    return limits


def linux_resources(pod: pod_pb2.Pod, container: pod_pb2.Container,
                    memory_capacity: int = 0) -> cri_pb.LinuxContainerResources:
    requests, limits = effective_requests(container), effective_limits(pod, container)
    res = cri_pb.LinuxContainerResources(
        cpu_shares=cpu_shares(milli_cpu(requests["cpu"]) if "cpu" in requests else 0),
        oom_score_adj=oom_score_adj(pod, container, memory_capacity))
    if "cpu" in limits:
        res.cpu_period = CPU_PERIOD
        res.cpu_quota = cpu_quota(milli_cpu(limits["cpu"]))
    if "memory" in limits:
        res.memory_limit_in_bytes = _value(limits["memory"])
    return res
