"""Matching rules the plugins share: node selector terms, tolerations, pod affinity terms.

Everything is compiled once per pod (see PodInfo) so the per-node checks are cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from control.client.selectors import from_label_selector
from skiff.v1 import core_pb2, pod_pb2


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "In":
            return labels.get(self.key) in self.values
        if op == "NotIn":
            return labels.get(self.key) not in self.values
        if op == "Exists":
            return self.key in labels
        if op == "DoesNotExist":
            return self.key not in labels
        if op in ("Gt", "Lt"):
            return _compare(labels.get(self.key), op, self.values)
        return False


def _compare(label: str | None, op: str, values: frozenset[str]) -> bool:
    if label is None or len(values) != 1:
        return False
    try:
        have, want = int(label), int(next(iter(values)))
    except ValueError:
        return False
    return have > want if op == "Gt" else have < want


@dataclass(frozen=True, slots=True)
class NodeTerm:
    """A NodeSelectorTerm: all expressions (on labels) and fields (metadata.name) must match."""

    expressions: tuple[Requirement, ...]
    fields: tuple[Requirement, ...]

    @classmethod
    def compile(cls, term: core_pb2.NodeSelectorTerm) -> NodeTerm:
        def reqs(items) -> tuple[Requirement, ...]:
            return tuple(Requirement(r.key, r.operator, frozenset(r.values)) for r in items)
        return cls(reqs(term.match_expressions), reqs(term.match_fields))

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        if not self.expressions and not self.fields:
            return False  # an empty term matches no objects
        if not all(r.matches(labels) for r in self.expressions):
            return False
        fields = {"metadata.name": node_name}
        return all(r.key == "metadata.name" and r.matches(fields) for r in self.fields)


def tolerates(toleration: pod_pb2.Toleration, taint: core_pb2.Taint) -> bool:
    """Kubernetes' ToleratesTaint: empty effect matches all effects, empty key with Exists all keys."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == "Exists":
        return True
    if toleration.operator in ("", "Equal"):
        return toleration.value == taint.value
    return False


def tolerated(tolerations, taint: core_pb2.Taint) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def first_untolerated(taints, tolerations, effects: tuple[str, ...]) -> core_pb2.Taint | None:
    for taint in taints:
        if taint.effect in effects and not tolerated(tolerations, taint):
            return taint
    return None


class AffinityTerm:
    """A PodAffinityTerm compiled for one pod (its namespace fills in the default)."""

    __slots__ = ("selector", "namespaces", "namespace_selector", "topology_key")

    def __init__(self, term: pod_pb2.PodAffinityTerm, pod_namespace: str) -> None:
        self.selector = from_label_selector(term.label_selector) if term.HasField("label_selector") else None
        self.namespace_selector = (from_label_selector(term.namespace_selector)
                                   if term.HasField("namespace_selector") else None)
        names = set(term.namespaces)
        if not names and self.namespace_selector is None:
            names.add(pod_namespace)
        self.namespaces = frozenset(names)
        self.topology_key = term.topology_key

    def matches(self, namespace: str, labels: Mapping[str, str],
                namespace_labels: Mapping[str, Mapping[str, str]]) -> bool:
        if self.selector is None:
            return False  # a nil label selector matches nothing
        if not self._namespace_matches(namespace, namespace_labels):
            return False
        return self.selector.matches(labels)

    def _namespace_matches(self, namespace: str, namespace_labels: Mapping[str, Mapping[str, str]]) -> bool:
        if namespace in self.namespaces:
            return True
        if self.namespace_selector is None:
            return False
        return self.namespace_selector.matches(namespace_labels.get(namespace, {}))


class WeightedAffinityTerm(AffinityTerm):
    __slots__ = ("weight",)

    def __init__(self, term: pod_pb2.WeightedPodAffinityTerm, pod_namespace: str) -> None:
        super().__init__(term.pod_affinity_term, pod_namespace)
        self.weight = term.weight
