"""The LimitRanger admission plugin: the namespace's LimitRanges default and bound what pods (on
create) and persistentvolumeclaims (on create and update) ask for.

Mutating: each container without a request or limit for a resource a Container item defaults
gets `defaultRequest` / `default`, and the pod is annotated with what was set. Validating: min,
max and maxLimitRequestRatio per container (Container items) and per pod (Pod items), and the
claim's storage request (PersistentVolumeClaim items); a violation is Forbidden with Kubernetes'
words, e.g. `maximum cpu usage per Container is 1, but limit is 2`.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import Decimal

from google.protobuf.message import Message

from control.apiserver import errors
from control.client import quota
from control.client.kinds import Kind
from control.client.quantity import canonical, parse_quantity

ANNOTATION = "kubernetes.io/limit-ranger"
_NAMESPACE_INDEX = "namespace"


async def limit_ranges(api, namespace: str) -> list[Message]:
    """The namespace's LimitRanges, from the watch cache once it has this apiserver's writes."""
    cache = api.cache.caches["LimitRange"]
    cache.add_index(_NAMESPACE_INDEX, lambda o: o.metadata.namespace)
    try:
        await cache.wait_fresh()
        items = cache.by_index(_NAMESPACE_INDEX, namespace)
    except TimeoutError:  # the cache is behind: a consistent read from etcd instead
        items, _ = await api.storage.list(cache.kind, namespace)
    return sorted(items, key=lambda o: o.metadata.name)


# --- mutating ---------------------------------------------------------------------------------------

def _container_defaults(lr: Message) -> tuple[dict[str, str], dict[str, str]]:
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for item in lr.spec.limits:
        if item.type == "Container":
            requests.update(item.default_request)
            limits.update(item.default)
    return requests, limits


def _merge(container: Message, requests: Mapping[str, str], limits: Mapping[str, str], what: str) -> list[str]:
    notes = []
    res = container.resources
    set_limits = sorted(k for k in limits if k not in res.limits)
    set_requests = sorted(k for k in requests if k not in res.requests)
    for k in set_limits:
        res.limits[k] = limits[k]
    for k in set_requests:
        res.requests[k] = requests[k]
    if set_requests:
        notes.append(f"{', '.join(set_requests)} request for {what} {container.name}")
    if set_limits:
        notes.append(f"{', '.join(set_limits)} limit for {what} {container.name}")
    return notes


def default_pod(pod: Message, ranges: list[Message]) -> None:
    """Each LimitRange in turn fills what the containers still lack (so the first one named wins),
    and the annotation tells what the last one that set anything set."""
    for lr in ranges:
        requests, limits = _container_defaults(lr)
        notes: list[str] = []
        for c in pod.spec.containers:
            notes += _merge(c, requests, limits, "container")
        for c in pod.spec.init_containers:
            notes += _merge(c, requests, limits, "init container")
        if notes:
            pod.metadata.annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)


# --- validating -------------------------------------------------------------------------------------

def _milli(text: str) -> Decimal:
    """Value compared as Kubernetes compares: in milli-units, rounded up."""
    return (parse_quantity(text) * 1000).to_integral_value(rounding=decimal.ROUND_CEILING)


def min_constraint(limit_type: str, name: str, enforced: str, request: Mapping[str, str],
                   limit: Mapping[str, str]) -> str | None:
    shown = canonical(enforced)
    if name not in request:
        return f"minimum {name} usage per {limit_type} is {shown}.  No request is specified"
    if _milli(request[name]) < _milli(enforced):
        return f"minimum {name} usage per {limit_type} is {shown}, but request is {canonical(request[name])}"
    if name in limit and _milli(limit[name]) < _milli(enforced):
        return f"minimum {name} usage per {limit_type} is {shown}, but limit is {canonical(limit[name])}"
    return None


def max_constraint(limit_type: str, name: str, enforced: str, request: Mapping[str, str],
                   limit: Mapping[str, str]) -> str | None:
    shown = canonical(enforced)
    if name not in limit:
        return f"maximum {name} usage per {limit_type} is {shown}.  No limit is specified"
    if _milli(limit[name]) > _milli(enforced):
        return f"maximum {name} usage per {limit_type} is {shown}, but limit is {canonical(limit[name])}"
    if name in request and _milli(request[name]) > _milli(enforced):
        return f"maximum {name} usage per {limit_type} is {shown}, but request is {canonical(request[name])}"
    return None


def max_request_constraint(limit_type: str, name: str, enforced: str, request: Mapping[str, str]) -> str | None:
    shown = canonical(enforced)
    if name not in request:
        return f"maximum {name} usage per {limit_type} is {shown}.  No request is specified"
    if _milli(request[name]) > _milli(enforced):
        return f"maximum {name} usage per {limit_type} is {shown}, but request is {canonical(request[name])}"
    return None


def ratio_constraint(limit_type: str, name: str, enforced: str, request: Mapping[str, str],
                     limit: Mapping[str, str]) -> str | None:
    shown = canonical(enforced)
    req = _milli(request[name]) if name in request else Decimal(0)
    lim = _milli(limit[name]) if name in limit else Decimal(0)
    if req == 0:
        return (f"{name} max limit to request ratio per {limit_type} is {shown}, "
                "but no request is specified or request is 0")
    if lim == 0:
        return (f"{name} max limit to request ratio per {limit_type} is {shown}, "
                "but no limit is specified or limit is 0")
    observed = lim / req
    if observed > parse_quantity(enforced):
        return (f"{name} max limit to request ratio per {limit_type} is {shown}, "
                f"but provided ratio is {float(observed):f}")
    return None


Values = Mapping[str, str]


def _check(limit_type: str, item: Message, request: Values, limit: Values,
           before: tuple[Values, Values] | None = None) -> list[str]:
    """The item's bounds on one container's (or the pod's) values; with `before`, the stored
    values, a resource whose request and limit are both unchanged is not checked again."""
    def bounds(values) -> list[tuple[str, str]]:
        return [(k, v) for k, v in sorted(values.items()) if before is None or
                request.get(k) != before[0].get(k) or limit.get(k) != before[1].get(k)]
    found = [min_constraint(limit_type, k, v, request, limit) for k, v in bounds(item.min)]
    found += [max_constraint(limit_type, k, v, request, limit) for k, v in bounds(item.max)]
    found += [ratio_constraint(limit_type, k, v, request, limit) for k, v in bounds(item.max_limit_request_ratio)]
    return [f for f in found if f]


def _pod_totals(pod: Message) -> tuple[dict[str, str], dict[str, str]]:
    return (quota.render(quota.pod_requests(pod, overhead=False, hugepages=False)),
            quota.render(quota.pod_limits(pod, overhead=False, hugepages=False)))


def pod_violations(pod: Message, ranges: list[Message], old: Message | None = None) -> list[str]:
    """The pod against the namespace's LimitRanges. On a resize (old is the stored pod) a value a
    container or the pod already holds is valid as stored: only what changed is checked."""
    found: list[str] = []
    containers = (*pod.spec.containers, *pod.spec.init_containers)
    olds = (*old.spec.containers, *old.spec.init_containers) if old is not None else ()
    for lr in ranges:
        for item in lr.spec.limits:
            if item.type == "Container":
                for i, c in enumerate(containers):
                    res = c.resources
                    before = (olds[i].resources.requests, olds[i].resources.limits) if i < len(olds) else None
                    found += _check("Container", item, res.requests, res.limits, before)
            elif item.type == "Pod":
                requests, limits = _pod_totals(pod)
                found += _check("Pod", item, requests, limits, _pod_totals(old) if old is not None else None)
    return found


def claim_violations(claim: Message, ranges: list[Message]) -> list[str]:
    found: list[str] = []
    requests = claim.spec.resources.requests
    for lr in ranges:
        for item in lr.spec.limits:
            if item.type != "PersistentVolumeClaim":
                continue
            found += [min_constraint(item.type, k, v, requests, {}) for k, v in sorted(item.min.items())]
            found += [max_request_constraint(item.type, k, v, requests) for k, v in sorted(item.max.items())]
    return [f for f in found if f]


def forbidden(resource: str, obj: Message, violations: list[str]) -> errors.ApiError:
    """Kubernetes' admission refusal: `pods "web" is forbidden: ...`, several as `[a, b]`."""
    name = obj.metadata.name or obj.metadata.generate_name
    text = violations[0] if len(violations) == 1 else f"[{', '.join(violations)}]"
    return errors.forbidden(f'{resource} "{name}" is forbidden: {text}')


# --- the plugin -------------------------------------------------------------------------------------

async def admit_pod(pod: Message, api) -> None:
    default_pod(pod, await limit_ranges(api, pod.metadata.namespace))


async def validate_resize(pod: Message, old: Message, api) -> None:
    """pods/resize: the changed values against the namespace's LimitRanges."""
    found = pod_violations(pod, await limit_ranges(api, pod.metadata.namespace), old)
    if found:
        raise forbidden("pods", pod, found)


async def validate(kind: Kind, obj: Message, old: Message | None, api) -> None:
    """The validating half, for every write the apiserver admits: pods on create (their containers'
    resources cannot change afterwards), persistentvolumeclaims on create and update."""
    if kind.kind == "Pod" and old is None:
        found = pod_violations(obj, await limit_ranges(api, obj.metadata.namespace))
    elif kind.kind == "PersistentVolumeClaim":
        found = claim_violations(obj, await limit_ranges(api, obj.metadata.namespace))
    else:
        return
    if found:
        raise forbidden(kind.resource, obj, found)
