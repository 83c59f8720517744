"""Quota accounting shared by the apiserver's ResourceQuota admission and the resource-quota
controller (Kubernetes' pkg/quota/v1): what an object uses, which quotas it falls under, and the
resource lists' arithmetic.

Every kind is counted as `count/<resource>[.<group>]`; pods, services, configmaps, secrets,
persistentvolumeclaims, replicationcontrollers and resourcequotas also under their legacy names,
pods with their compute resources and services with their node ports and load balancers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from google.protobuf.message import Message

from control.client.kinds import KINDS, Kind
from control.client.quantity import format_quantity, parse_quantity, quantity_format
from control.client.wellknown import POD_FAILED, POD_SUCCEEDED

# Scopes (ResourceQuotaScope).
TERMINATING, NOT_TERMINATING = "Terminating", "NotTerminating"
BEST_EFFORT, NOT_BEST_EFFORT = "BestEffort", "NotBestEffort"
PRIORITY_CLASS, CROSS_NAMESPACE_POD_AFFINITY = "PriorityClass", "CrossNamespacePodAffinity"
VOLUME_ATTRIBUTES_CLASS = "VolumeAttributesClass"
SCOPES = (TERMINATING, NOT_TERMINATING, BEST_EFFORT, NOT_BEST_EFFORT, PRIORITY_CLASS,
          CROSS_NAMESPACE_POD_AFFINITY, VOLUME_ATTRIBUTES_CLASS)

# The kinds with a name of their own besides count/<resource>.
LEGACY_COUNT = {"Pod": "pods", "Service": "services", "ConfigMap": "configmaps", "Secret": "secrets",
                "PersistentVolumeClaim": "persistentvolumeclaims",
                "ReplicationController": "replicationcontrollers", "ResourceQuota": "resourcequotas"}
POD_COMPUTE = ("cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
               "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage")
# A pod under a quota of these must state them in every container (Kubernetes keeps this rule
# for compatibility only for cpu and memory).
POD_REQUIRED = ("cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
# What `spec.resources` may set for the whole pod (besides hugepages-*).
POD_LEVEL = ("cpu", "memory")
SERVICE_RESOURCES = ("services", "services.nodeports", "services.loadbalancers")
STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/"
_HUGEPAGES = "hugepages-"


@dataclass(frozen=True)
class Quantity:
    """An exact amount and the format it prints in (a sum keeps its first non-zero term's format,
    as resource.Quantity's Add does)."""
    value: Decimal
    fmt: str = "DecimalSI"

    @classmethod
    def parse(cls, text: str) -> Quantity:
        return cls(parse_quantity(text), quantity_format(text))

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(self.value + other.value, self.fmt if self.value else other.fmt)

    def __sub__(self, other: Quantity) -> Quantity:
        return Quantity(self.value - other.value, self.fmt if self.value else other.fmt)

    def __str__(self) -> str:
        return format_quantity(self.value, self.fmt)


ZERO = Quantity(Decimal(0))
ONE = Quantity(Decimal(1))
ResourceList = dict[str, Quantity]


def parse_list(values: Mapping[str, str]) -> ResourceList:
    return {k: Quantity.parse(v) for k, v in values.items()}


def render(values: ResourceList) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}


def add(a: ResourceList, b: ResourceList) -> ResourceList:
    result = dict(a)
    for k, v in b.items():
        result[k] = result.get(k, ZERO) + v
    return result


def mask(values: ResourceList, names: Iterable[str]) -> ResourceList:
    names = set(names)
    return {k: v for k, v in values.items() if k in names}


def exceeded(usage: ResourceList, hard: ResourceList) -> list[str]:
    """The resources of `hard` that `usage` goes over."""
    return sorted(k for k, limit in hard.items() if k in usage and usage[k].value > limit.value)


def pretty(values: ResourceList) -> str:
    """`pods=1,requests.cpu=500m`, as quota messages print a resource list."""
    return ",".join(f"{k}={values[k]}" for k in sorted(values))


def count_name(kind: Kind) -> str:
    return f"count/{kind.resource}"


# --- pods -------------------------------------------------------------------------------------------

def _container_list(values: Mapping[str, str]) -> ResourceList:
    return parse_list(values)


def _max(a: ResourceList, b: ResourceList) -> ResourceList:
    result = dict(a)
    for k, v in b.items():
        if k not in result or v.value > result[k].value:
            result[k] = v
    return result


def is_pod_level_resource(name: str, hugepages: bool = True) -> bool:
    """What `spec.resources` may set for the whole pod: cpu, memory and (for quota and the
    scheduler, not LimitRanger) hugepages."""
    return name in POD_LEVEL or (hugepages and name.startswith(_HUGEPAGES))


def pod_level(spec: Message, field: str, hugepages: bool = True) -> ResourceList:
    """The pod-level requests or limits (`spec.resources`) of the resources they may set."""
    values = getattr(spec.resources, field)
    return parse_list({k: v for k, v in values.items() if is_pod_level_resource(k, hugepages)})


def _running_with(status: Message | None, field: str) -> dict[str, dict[str, str]]:
    """Container name -> the requests or limits it runs with (status.containerStatuses[].resources)."""
    if status is None:
        return {}
    return {cs.name: dict(getattr(cs.resources, field))
            for cs in (*status.container_statuses, *status.init_container_statuses)}


def _pod_total(spec: Message, field: str, overhead: bool, hugepages: bool = True,
               pod_level_values: bool = True, status: Message | None = None) -> ResourceList:
    """The pod's effective requests or limits: its containers and sidecars summed, at least as much
    as any init container needs with the sidecars started before it; a pod-level value
    (`spec.resources`) replaces that sum for its resource; plus the pod's overhead (which
    LimitRanger leaves out; limits get it only where they are set). With the pod's status, each
    container counts the larger of its spec and what it runs with (a resize not yet applied)."""
    running = _running_with(status, field)

    def own_of(c: Message) -> ResourceList:
        return _max(_container_list(getattr(c.resources, field)), _container_list(running.get(c.name, {})))
    total: ResourceList = {}
    for c in spec.containers:
        total = add(total, own_of(c))
    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for c in spec.init_containers:
        own = own_of(c)
        if c.restart_policy == "Always":
            sidecars = add(sidecars, own)
            total = add(total, own)
            init_peak = _max(init_peak, sidecars)
        else:
            init_peak = _max(init_peak, add(own, sidecars))
    total = _max(total, init_peak)
    if pod_level_values:
        total.update(pod_level(spec, field, hugepages))
    if not overhead:
        return total
    extra = parse_list(spec.overhead)
    if field == "limits":
        extra = {k: v for k, v in extra.items() if k in total and total[k].value}
    return add(total, extra)


def pod_requests(pod: Message, overhead: bool = True, hugepages: bool = True,
                 use_status: bool = False) -> ResourceList:
    return _pod_total(pod.spec, "requests", overhead, hugepages, status=pod.status if use_status else None)


def pod_limits(pod: Message, overhead: bool = True, hugepages: bool = True, use_status: bool = False) -> ResourceList:
    return _pod_total(pod.spec, "limits", overhead, hugepages, status=pod.status if use_status else None)


def aggregate_container_requests(spec: Message) -> ResourceList:
    """The containers' effective requests alone (no pod-level values, no overhead)."""
    return _pod_total(spec, "requests", overhead=False, pod_level_values=False)


def aggregate_container_limits(spec: Message) -> ResourceList:
    return _pod_total(spec, "limits", overhead=False, pod_level_values=False)


def has_pod_level_resources(pod: Message) -> bool:
    return bool(pod_level(pod.spec, "requests") or pod_level(pod.spec, "limits"))


def _compute_usage(requests: ResourceList, limits: ResourceList) -> ResourceList:
    result: ResourceList = {"pods": ONE}
    for res in ("cpu", "memory", "ephemeral-storage"):
        if res in requests:
            result[res] = result[f"requests.{res}"] = requests[res]
        if res in limits:
            result[f"limits.{res}"] = limits[res]
    for res, value in requests.items():
        if res.startswith(_HUGEPAGES):
            result[res] = result[f"requests.{res}"] = value
        elif is_extended(res):
            result[f"requests.{res}"] = value
    return result


def is_extended(name: str) -> bool:
    return "/" in name and "kubernetes.io/" not in name and not name.startswith("requests.")


def pod_counts(pod: Message, now: float | None = None) -> bool:
    """Whether the pod's compute resources (and `pods`) count: not finished, and not stuck
    terminating past its deletion grace period."""
    if pod.status.phase in (POD_FAILED, POD_SUCCEEDED):
        return False
    meta = pod.metadata
    if meta.HasField("deletion_timestamp") and meta.HasField("deletion_grace_period_seconds"):
        deadline = meta.deletion_timestamp.seconds + meta.deletion_grace_period_seconds
        return (time.time() if now is None else now) <= deadline
    return True


def is_best_effort(pod: Message) -> bool:
    if has_pod_level_resources(pod):
        return False
    return not any(c.resources.requests or c.resources.limits
                   for c in (*pod.spec.init_containers, *pod.spec.containers))


def missing_constraints(pod: Message, hard: Iterable[str]) -> str:
    """Kubernetes' `must specify limits.cpu for: web; ...` for the containers that do not state a
    cpu or memory value the quota limits; "" when every container does, or when the pod states
    its resources at pod level (then containers need not)."""
    if has_pod_level_resources(pod):
        return ""
    required = set(hard) & set(POD_REQUIRED)
    missing: dict[str, set[str]] = {}
    for c in (*pod.spec.containers, *pod.spec.init_containers):
        stated = _compute_usage(_container_list(c.resources.requests), _container_list(c.resources.limits))
        for res in required - stated.keys():
            missing.setdefault(res, set()).add(c.name)
    return "; ".join(f"must specify {res} for: {','.join(sorted(missing[res]))}" for res in sorted(missing))


# --- usage of one object ----------------------------------------------------------------------------

def usage(kind: Kind, obj: Message, now: float | None = None) -> ResourceList:
    """What one object uses, under every name it is counted by."""
    result: ResourceList = {count_name(kind): ONE}
    if kind.kind == "Pod":
        if pod_counts(obj, now):
            # As Kubernetes with in-place resize: the larger of the spec and what the containers run with.
            result.update(_compute_usage(pod_requests(obj, use_status=True), pod_limits(obj, use_status=True)))
    elif kind.kind == "Service":
        result.update(_service_usage(obj))
    elif kind.kind == "PersistentVolumeClaim":
        result.update(_claim_usage(obj))
    elif kind.kind in LEGACY_COUNT:
        result[LEGACY_COUNT[kind.kind]] = ONE
    return result


def _service_usage(svc: Message) -> ResourceList:
    result: ResourceList = {"services": ONE}
    ports = len(svc.spec.ports)
    if svc.spec.type == "NodePort":
        result["services.nodeports"] = Quantity(Decimal(ports))
    elif svc.spec.type == "LoadBalancer":
        if svc.spec.HasField("allocate_load_balancer_node_ports") and not svc.spec.allocate_load_balancer_node_ports:
            ports = sum(1 for p in svc.spec.ports if p.node_port)
        result["services.nodeports"] = Quantity(Decimal(ports))
        result["services.loadbalancers"] = ONE
    return result


def _claim_usage(claim: Message) -> ResourceList:
    result: ResourceList = {"persistentvolumeclaims": ONE}
    storage = claim.spec.resources.requests.get("storage")
    sc = claim.spec.storage_class_name
    if sc:
        result[f"{sc}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"] = ONE
    if storage:
        result["requests.storage"] = Quantity.parse(storage)
        if sc:
            result[f"{sc}{STORAGE_CLASS_SUFFIX}requests.storage"] = Quantity.parse(storage)
    return result


def matching_resources(kind: Kind, names: Iterable[str]) -> list[str]:
    """The names among `names` an object of `kind` can be charged under."""
    return sorted(n for n in names if _kind_counts(kind, n))


def _kind_counts(kind: Kind, name: str) -> bool:
    if name == count_name(kind) or name == LEGACY_COUNT.get(kind.kind):
        return True
    if kind.kind == "Pod":
        return name in POD_COMPUTE or name.startswith((_HUGEPAGES, "requests." + _HUGEPAGES)) or (
            name.startswith("requests.") and is_extended(name[len("requests."):]))
    if kind.kind == "Service":
        return name in SERVICE_RESOURCES
    if kind.kind == "PersistentVolumeClaim":
        return name == "requests.storage" or STORAGE_CLASS_SUFFIX in name
    return False


def kinds_counted(names: Iterable[str]) -> list[Kind]:
    """The kinds whose objects a quota with these hard names counts."""
    return [k for k in KINDS.values() if k.namespaced and matching_resources(k, names)]


# --- scopes -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScopeRequirement:
    scope_name: str
    operator: str
    values: tuple[str, ...] = ()


def scope_requirements(quota: Message) -> list[ScopeRequirement]:
    """spec.scopes (each as Exists) and spec.scopeSelector's expressions."""
    reqs = [ScopeRequirement(s, "Exists") for s in quota.spec.scopes]
    reqs += [ScopeRequirement(e.scope_name, e.operator, tuple(e.values))
             for e in quota.spec.scope_selector.match_expressions]
    return reqs


def _value_matches(req: ScopeRequirement, value: str, present: bool) -> bool:
    if req.operator == "In":
        return present and value in req.values
    if req.operator == "NotIn":
        return not present or value not in req.values
    if req.operator == "Exists":
        return present
    if req.operator == "DoesNotExist":
        return not present
    return False


def _pod_scope(req: ScopeRequirement, pod: Message) -> bool:
    spec = pod.spec
    name = req.scope_name
    if name == TERMINATING:
        return spec.HasField("active_deadline_seconds") and spec.active_deadline_seconds >= 0
    if name == NOT_TERMINATING:
        return not spec.HasField("active_deadline_seconds")
    if name == BEST_EFFORT:
        return is_best_effort(pod)
    if name == NOT_BEST_EFFORT:
        return not is_best_effort(pod)
    if name == PRIORITY_CLASS:
        return _value_matches(req, spec.priority_class_name, bool(spec.priority_class_name))
    if name == CROSS_NAMESPACE_POD_AFFINITY:
        return _uses_cross_namespace_affinity(spec)
    return False


def _uses_cross_namespace_affinity(spec: Message) -> bool:
    affinity = spec.affinity
    terms = [*affinity.pod_affinity.required_during_scheduling_ignored_during_execution,
             *affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution,
             *(w.pod_affinity_term for w in affinity.pod_affinity.preferred_during_scheduling_ignored_during_execution),
             *(w.pod_affinity_term for w in
               affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution)]
    return any(t.namespaces or t.HasField("namespace_selector") for t in terms)


def _claim_scope(req: ScopeRequirement, claim: Message) -> bool:
    if req.scope_name != VOLUME_ATTRIBUTES_CLASS:
        return False
    vac = getattr(claim.spec, "volume_attributes_class_name", "")
    return _value_matches(req, vac, bool(vac))


def matches(quota: Message, hard: Iterable[str], kind: Kind, obj: Message) -> bool:
    """Whether the quota applies to the object: it limits something the object uses and every
    scope selects it (kinds other than pods and claims fall under no scoped quota)."""
    if not matching_resources(kind, hard):
        return False
    scope = _pod_scope if kind.kind == "Pod" else _claim_scope if kind.kind == "PersistentVolumeClaim" else None
    reqs = scope_requirements(quota)
    if not reqs:
        return True
    return scope is not None and all(scope(r, obj) for r in reqs)


def usage_of(quota: Message, hard: Iterable[str], kind: Kind, objects: Iterable[Message],
             now: float | None = None) -> ResourceList:
    """What the objects of one kind that fall under the quota use of its hard resources (zero
    for each of those they could use)."""
    names = matching_resources(kind, hard)
    total: ResourceList = {n: ZERO for n in names}
    for obj in objects:
        if matches(quota, hard, kind, obj):
            total = add(total, mask(usage(kind, obj, now), names))
    return total
