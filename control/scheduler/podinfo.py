"""A pod as the scheduler sees it: requests, host ports and compiled constraints, computed once."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from control.client import quantity
from control.scheduler.matching import AffinityTerm, NodeTerm, WeightedAffinityTerm
from skiff.v1 import pod_pb2

# kube-scheduler's defaults for containers that request nothing, used only for scoring.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


# Pods of one template repeat the same few quantity strings: parse each once.
cpu_millis = lru_cache(maxsize=4096)(quantity.cpu_millis)
bytes_of = lru_cache(maxsize=4096)(quantity.bytes_of)


class Resources:
    """cpu (millicores), memory and ephemeral-storage (bytes), extended resources, pod count."""

    __slots__ = ("milli_cpu", "memory", "ephemeral_storage", "pods", "scalar")

    def __init__(self, milli_cpu: int = 0, memory: int = 0, ephemeral_storage: int = 0,
                 pods: int = 0, scalar: dict[str, int] | None = None) -> None:
        self.milli_cpu = milli_cpu
        self.memory = memory
        self.ephemeral_storage = ephemeral_storage
        self.pods = pods
        self.scalar = scalar or {}

    def __repr__(self) -> str:
        return (f"Resources(cpu={self.milli_cpu}m, memory={self.memory}, "
                f"ephemeral={self.ephemeral_storage}, pods={self.pods}, scalar={self.scalar})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Resources) and all(
            getattr(self, a) == getattr(other, a) for a in self.__slots__)

    @classmethod
    def from_list(cls, quantities: Mapping[str, str]) -> Resources:
        r = cls()
        for name, text in quantities.items():
            if name == "cpu":
                r.milli_cpu = cpu_millis(text)
            elif name == "memory":
                r.memory = bytes_of(text)
            elif name == "ephemeral-storage":
                r.ephemeral_storage = bytes_of(text)
            elif name == "pods":
                r.pods = bytes_of(text)
            else:
                r.scalar[name] = bytes_of(text)
        return r

    @classmethod
    def from_node_allocatable(cls, allocatable: Mapping[str, str]) -> Resources:
        try:
            return cls.from_list(allocatable)
        except ValueError:
            return cls()  # a node with garbage allocatable fits nothing

    def copy(self) -> Resources:
        return Resources(self.milli_cpu, self.memory, self.ephemeral_storage, self.pods, dict(self.scalar))

    def add(self, other: Resources, sign: int = 1) -> None:
        self.milli_cpu += sign * other.milli_cpu
        self.memory += sign * other.memory
        self.ephemeral_storage += sign * other.ephemeral_storage
        self.pods += sign * other.pods
        for name, v in other.scalar.items():
            self.scalar[name] = self.scalar.get(name, 0) + sign * v

    def subtract(self, other: Resources) -> None:
        self.add(other, -1)

    def set_max(self, other: Resources) -> None:
        self.milli_cpu = max(self.milli_cpu, other.milli_cpu)
        self.memory = max(self.memory, other.memory)
        self.ephemeral_storage = max(self.ephemeral_storage, other.ephemeral_storage)
        for name, v in other.scalar.items():
            self.scalar[name] = max(self.scalar.get(name, 0), v)


def _container_requests(c: pod_pb2.Container, non_zero: bool) -> Resources:
    r = Resources.from_list(c.resources.requests)
    if non_zero:
        if "cpu" not in c.resources.requests:
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST
        if "memory" not in c.resources.requests:
            r.memory = DEFAULT_MEMORY_REQUEST
    return r


def pod_requests(spec: pod_pb2.PodSpec, non_zero: bool = False) -> Resources:
    """Kubernetes' effective pod request: app containers plus sidecars, or the largest init step.

    Each regular init container runs alone next to the sidecars started before
    it, so its step needs its own request plus theirs.
    """
    total = Resources()
    for c in spec.containers:
        total.add(_container_requests(c, non_zero))
    sidecars = Resources()
    init_max = Resources()
    for c in spec.init_containers:
        step = _container_requests(c, non_zero)
        if c.restart_policy == "Always":
            total.add(step)
            sidecars.add(step)
            step = sidecars.copy()
        else:
            step.add(sidecars)
        init_max.set_max(step)
    total.set_max(init_max)
    total.pods = 1
    return total


def host_ports(spec: pod_pb2.PodSpec) -> frozenset[tuple[str, str, int]]:
    containers = [*spec.containers, *(c for c in spec.init_containers if c.restart_policy == "Always")]
    ports = set()
    for c in containers:
        for p in c.ports:
            port = p.host_port or (p.container_port if spec.host_network else 0)
            if port > 0:
                ports.add((p.host_ip or "0.0.0.0", p.protocol or "TCP", port))
    return frozenset(ports)


class PodInfo:
    """Immutable facts about one pod, derived from its spec once."""

    __slots__ = ("pod", "key", "namespace", "name", "uid", "labels", "requests", "non_zero_requests",
                 "host_ports", "node_selector", "required_node_terms",
                 "preferred_node_terms", "required_affinity", "required_anti_affinity",
                 "preferred_affinity", "preferred_anti_affinity", "priority")

    def __init__(self, pod: pod_pb2.Pod) -> None:
        meta, spec = pod.metadata, pod.spec
        self.pod = pod
        self.namespace, self.name, self.uid = meta.namespace, meta.name, meta.uid
        self.key = f"{meta.namespace}/{meta.name}"
        self.labels = dict(meta.labels)
        self.requests = pod_requests(spec)
        self.non_zero_requests = pod_requests(spec, non_zero=True)
        self.host_ports = host_ports(spec)
        self.node_selector = dict(spec.node_selector)
        self.priority = spec.priority if spec.HasField("priority") else 0
        self._compile_node_affinity(spec.affinity.node_affinity)
        self._compile_pod_affinity(spec.affinity)

    def _compile_node_affinity(self, na: pod_pb2.NodeAffinity) -> None:
        required = na.required_during_scheduling_ignored_during_execution
        self.required_node_terms = (tuple(NodeTerm.compile(t) for t in required.node_selector_terms)
                                    if na.HasField("required_during_scheduling_ignored_during_execution")
                                    else None)
        self.preferred_node_terms = tuple(
            (p.weight, NodeTerm.compile(p.preference))
            for p in na.preferred_during_scheduling_ignored_during_execution if p.weight)

    def _compile_pod_affinity(self, affinity: pod_pb2.Affinity) -> None:
        ns = self.namespace
        pa, anti = affinity.pod_affinity, affinity.pod_anti_affinity
        self.required_affinity = tuple(AffinityTerm(t, ns)
                                       for t in pa.required_during_scheduling_ignored_during_execution)
        self.required_anti_affinity = tuple(AffinityTerm(t, ns)
                                            for t in anti.required_during_scheduling_ignored_during_execution)
        self.preferred_affinity = tuple(WeightedAffinityTerm(t, ns)
                                        for t in pa.preferred_during_scheduling_ignored_during_execution)
        preferred_anti = anti.preferred_during_scheduling_ignored_during_execution
        self.preferred_anti_affinity = tuple(WeightedAffinityTerm(t, ns) for t in preferred_anti)

    @property
    def terminating(self) -> bool:
        return self.pod.metadata.HasField("deletion_timestamp")

    @property
    def tolerations(self):
        # Read from the pod each time: a kept list of them would keep the memory of every earlier
        # version of the pod (the one scheduled, before it was bound) alive with it.
        return self.pod.spec.tolerations

    @property
    def has_affinity(self) -> bool:
        return bool(self.required_affinity or self.required_anti_affinity
                    or self.preferred_affinity or self.preferred_anti_affinity)

    def bound_to(self, node_name: str) -> PodInfo:
        """A copy of this pod as assumed on a node (kube-scheduler's assume)."""
        pod = pod_pb2.Pod()
        pod.CopyFrom(self.pod)
        pod.spec.node_name = node_name
        clone = object.__new__(PodInfo)
        for attr in self.__slots__:
            setattr(clone, attr, getattr(self, attr))
        clone.pod = pod
        return clone
