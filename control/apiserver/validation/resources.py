"""Resource requirements: names, quantities, requests within limits."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from control.apiserver.validation.errors import Errors, invalid, invalids, not_supported
from control.apiserver.validation.names import qualified_name_errors
from control.client import quota
from control.client.quantity import canonical, parse_quantity
from skiff.v1 import pod_pb2

STANDARD_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def _is_extended(name: str) -> bool:
    """Extended resources (`example.com/gpu`) cannot be overcommitted."""
    return "/" in name and not name.startswith("kubernetes.io/") and not name.startswith("requests.")


def validate_quantity(text: str, path: str) -> tuple[Errors, Decimal | None]:
    try:
        value = parse_quantity(text)
    except ValueError as e:
        return [invalid(path, text, str(e))], None
    if value < 0:
        return [invalid(path, text, "must be greater than or equal to 0")], None
    return [], value


def _validate_name(name: str, path: str) -> Errors:
    errs = invalids(path, name, qualified_name_errors(name))
    if not errs and "/" not in name and name not in STANDARD_CONTAINER_RESOURCES and not _is_hugepages(name):
        errs.append(invalid(path, name, "must be a standard resource for containers"))
    return errs


validate_container_resource_name = _validate_name
POD_LEVEL_RESOURCES = ("cpu", "hugepages-", "memory")  # as Kubernetes lists them in its message


def _validate_pod_level_name(name: str, path: str) -> Errors:
    errs = invalids(path, name, qualified_name_errors(name))
    if not errs and name not in ("cpu", "memory") and not _is_hugepages(name):
        errs.append(not_supported(path, name, POD_LEVEL_RESOURCES))
    return errs


def _validate_list(resources: Mapping[str, str], path: str, pod_level: bool) -> tuple[Errors, dict[str, Decimal]]:
    errs: Errors = []
    values: dict[str, Decimal] = {}
    for name, text in resources.items():
        p = f"{path}[{name}]"
        name_errs = (_validate_pod_level_name if pod_level else _validate_name)(name, p)
        quantity_errs, value = validate_quantity(text, p)
        errs += name_errs + quantity_errs
        if value is None or name_errs:
            continue
        if _is_extended(name) and value != value.to_integral_value():
            errs.append(invalid(p, text, "must be an integer"))
        values[name] = value
    return errs, values


def validate_resources(req: pod_pb2.ResourceRequirements, path: str, pod_level: bool = False) -> Errors:
    """A container's requirements, or with pod_level the pod's own (spec.resources: cpu, memory and
    hugepages only)."""
    errs, limits = _validate_list(req.limits, f"{path}.limits", pod_level)
    request_errs, requests = _validate_list(req.requests, f"{path}.requests", pod_level)
    errs += request_errs
    for name, request in requests.items():
        p = f"{path}.requests[{name}]"
        limit = limits.get(name)
        strict = _is_extended(name) or _is_hugepages(name)
        if limit is None:
            if _is_extended(name):
                errs.append(invalid(f"{path}.limits", name,
                                    "Limit must be set for non overcommitable resources"))
            continue
        shown, limit_text = canonical(req.requests[name]), canonical(req.limits[name])
        if strict and request != limit:
            errs.append(invalid(p, shown, f"must be equal to {name} limit of {limit_text}"))
        elif request > limit:
            errs.append(invalid(p, shown, f"must be less than or equal to {name} limit of {limit_text}"))
    return errs


def validate_pod_resources(spec: pod_pb2.PodSpec, path: str) -> Errors:
    """Pod-level resources: valid themselves, and covering what the containers ask (requests, and
    hugepages limits); no container limit above the pod's."""
    res = spec.resources
    if not res.requests and not res.limits:
        return []
    errs = validate_resources(res, f"{path}.resources", pod_level=True)
    try:
        requests, limits = quota.aggregate_container_requests(spec), quota.aggregate_container_limits(spec)
        pod_requests, pod_limits = quota.parse_list(res.requests), quota.parse_list(res.limits)
    except ValueError:
        return errs  # a quantity that does not parse is reported by the containers' or the pod's check
    for name, total in sorted(requests.items()):
        if name in pod_requests and total.value > pod_requests[name].value:
            errs.append(invalid(f"{path}.resources.requests[{name}]", canonical(res.requests[name]),
                                f"must be greater than or equal to aggregate container requests of {total}"))
    for name, total in sorted(limits.items()):
        if _is_hugepages(name) and name in pod_limits and total.value > pod_limits[name].value:
            errs.append(invalid(f"{path}.resources.limits[{name}]", canonical(res.limits[name]),
                                f"must be greater than or equal to aggregate container limits of {total}"))
    for i, c in enumerate(spec.containers):
        for name, text in sorted(c.resources.limits.items()):
            if name in pod_limits and parse_quantity(text) > pod_limits[name].value:
                # Kubernetes builds this path from the pod-level resources' path.
                errs.append(invalid(f"{path}.resources.containers[{i}][{name}].limits", canonical(text),
                                    f"must be less than or equal to pod limits of {canonical(res.limits[name])}"))
    return errs

