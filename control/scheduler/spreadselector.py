"""The selector of kube-scheduler's default topology spread constraints (its DefaultSelector).

A pod that declares no constraints is spread among the pods that the Services selecting it select,
narrowed by its controller's selector when that controller is an apps/v1 ReplicaSet or StatefulSet.
(Kubernetes also takes ReplicationControllers, a kind Skiff doesn't serve.) An empty result means
the pod gets no default constraints: a bare pod no Service selects, or a Job's pods.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from google.protobuf.message import Message

from control.client.selectors import EQUALS, Requirement, Selector, SelectorError, from_label_selector
from skiff.v1 import core_pb2, meta_pb2, pod_pb2

if TYPE_CHECKING:
    from control.client.informer import Store

# (apiVersion, kind) of the controllers whose selector joins the Services'.
SPREAD_CONTROLLERS = frozenset({("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet")})


class Workloads(Protocol):
    """What the default selector reads: the listers kube-scheduler's plugin is given."""

    def services(self, namespace: str) -> Iterable[core_pb2.Service]: ...

    def controller(self, namespace: str, kind: str, name: str) -> Message | None: ...


class NoWorkloads:
    """No Services and no controllers: every pod without constraints goes unspread."""

    def services(self, namespace: str) -> Iterable[core_pb2.Service]:
        return ()

    def controller(self, namespace: str, kind: str, name: str) -> Message | None:
        return None


class StoreWorkloads:
    """Reads informer stores: Services by namespace, ReplicaSets and StatefulSets by name."""

    def __init__(self, services: Store, controllers: dict[str, Store]) -> None:
        self._services = services
        self._controllers = controllers

    def services(self, namespace: str) -> Iterable[core_pb2.Service]:
        return self._services.by_index("namespace", namespace)

    def controller(self, namespace: str, kind: str, name: str) -> Message | None:
        store = self._controllers.get(kind)
        return store.get_by_name(namespace, name) if store is not None else None


def controller_ref(meta: meta_pb2.ObjectMeta) -> meta_pb2.OwnerReference | None:
    return next((ref for ref in meta.owner_references if ref.controller), None)


def service_selects(service: core_pb2.Service, labels: dict[str, str]) -> bool:
    """A Service without a selector selects nothing (not everything)."""
    selector = service.spec.selector
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def default_selector(pod: pod_pb2.Pod, workloads: Workloads) -> Selector:
    meta = pod.metadata
    labels = dict(meta.labels)
    merged: dict[str, str] = {}
    for service in workloads.services(meta.namespace):
        if service_selects(service, labels):
            merged.update(service.spec.selector)  # they all match the pod: no conflicting values
    requirements = [Requirement(key, EQUALS, (value,)) for key, value in merged.items()]
    ref = controller_ref(meta)
    if ref is not None and (ref.api_version, ref.kind) in SPREAD_CONTROLLERS:
        owner = workloads.controller(meta.namespace, ref.kind, ref.name)
        if owner is not None:
            try:
                requirements.extend(from_label_selector(owner.spec.selector).requirements)
            except SelectorError:
                pass
    return Selector(tuple(sorted(requirements, key=lambda r: r.key)))
