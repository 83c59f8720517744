"""Builders for scheduler tests and benchmarks: hollow nodes and pending pods as API objects.

A hollow node is only a Node object (Ready, with allocatable): nothing runs
on it, which is all the scheduler looks at (kube-scheduler's perf tests do the same).
"""

from __future__ import annotations

from google.protobuf.message import Message

from control.client.kinds import KINDS
from control.client.wellknown import CONDITION_TRUE, LABEL_HOSTNAME, NODE_READY
from skiff.v1 import core_pb2, meta_pb2, pod_pb2


def make_node(name: str, cpu: str = "4", memory: str = "32Gi", pods: str = "110",
              labels: dict[str, str] | None = None, taints: list[tuple[str, str, str]] | None = None,
              ready: str = CONDITION_TRUE, unschedulable: bool = False, extra: dict[str, str] | None = None,
              ) -> core_pb2.Node:
    allocatable = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    node = KINDS["Node"].new(
        metadata=meta_pb2.ObjectMeta(name=name, labels={LABEL_HOSTNAME: name, **(labels or {})}),
        spec=core_pb2.NodeSpec(unschedulable=unschedulable,
                               taints=[core_pb2.Taint(key=k, value=v, effect=e) for k, v, e in taints or []]),
        status=core_pb2.NodeStatus(capacity=allocatable, allocatable=allocatable,
                                   conditions=[core_pb2.NodeCondition(type=NODE_READY, status=ready)]))
    return node


def make_pod(name: str, namespace: str = "default", cpu: str = "", memory: str = "",
             labels: dict[str, str] | None = None, node_selector: dict[str, str] | None = None,
             host_ports: list[int] | None = None, tolerations: list[pod_pb2.Toleration] | None = None,
             affinity: pod_pb2.Affinity | None = None, owner_uid: str = "", node_name: str = "",
             uid: str = "", scheduler_name: str = "") -> pod_pb2.Pod:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    container = pod_pb2.Container(name="c", image="busybox",
                                  resources=pod_pb2.ResourceRequirements(requests=requests),
                                  ports=[pod_pb2.ContainerPort(container_port=p, host_port=p)
                                         for p in host_ports or []])
    meta = meta_pb2.ObjectMeta(name=name, namespace=namespace, labels=labels or {}, uid=uid or f"uid-{name}")
    if owner_uid:
        meta.owner_references.append(meta_pb2.OwnerReference(
            api_version="apps/v1", kind="ReplicaSet", name=f"rs-{owner_uid}", uid=owner_uid, controller=True))
    spec = pod_pb2.PodSpec(containers=[container], node_selector=node_selector or {},
                           tolerations=tolerations or [], node_name=node_name, scheduler_name=scheduler_name)
    if affinity is not None:
        spec.affinity.CopyFrom(affinity)
    return KINDS["Pod"].new(metadata=meta, spec=spec)


def make_service(name: str, selector: dict[str, str], namespace: str = "default") -> core_pb2.Service:
    return KINDS["Service"].new(metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace),
                                spec=core_pb2.ServiceSpec(selector=selector, ports=[core_pb2.ServicePort(port=80)]))


def make_controller(kind: str, name: str, match_labels: dict[str, str], namespace: str = "default") -> Message:
    """A ReplicaSet or StatefulSet (only its selector and template labels matter to the scheduler)."""
    obj = KINDS[kind].new(metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, uid=f"uid-{name}"))
    obj.spec.selector.match_labels.update(match_labels)
    obj.spec.template.metadata.labels.update(match_labels)
    obj.spec.template.spec.containers.add(name="c", image="busybox")
    return obj


def owned_by(pod: pod_pb2.Pod, owner: Message) -> pod_pb2.Pod:
    pod.metadata.owner_references.append(meta_pb2.OwnerReference(
        api_version=owner.api_version, kind=owner.kind, name=owner.metadata.name, uid=owner.metadata.uid,
        controller=True))
    return pod


class ListedWorkloads:
    """The default spread selector's view from plain lists (the scheduler reads informer stores)."""

    def __init__(self, services: list[core_pb2.Service] = (), controllers: list[Message] = ()) -> None:
        self._services = list(services)
        self._controllers = {(c.kind, c.metadata.namespace, c.metadata.name): c for c in controllers}

    def services(self, namespace: str) -> list[core_pb2.Service]:
        return [s for s in self._services if s.metadata.namespace == namespace]

    def controller(self, namespace: str, kind: str, name: str) -> Message | None:
        return self._controllers.get((kind, namespace, name))
