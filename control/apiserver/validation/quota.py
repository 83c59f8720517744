"""LimitRanges and ResourceQuotas (core/v1): resource names, quantities, min <= default <= max,
ratios, quota scopes and scope selectors, with Kubernetes' messages."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from control.apiserver.validation.errors import (
    Errors,
    duplicate,
    forbidden,
    invalid,
    invalids,
    required,
)
from control.apiserver.validation.names import qualified_name_errors
from control.apiserver.validation.resources import validate_container_resource_name
from control.client import quota
from control.client.quantity import canonical, parse_quantity
from skiff.v1 import core_pb2

LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")
STANDARD_RESOURCES = frozenset((
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
    "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services",
    "replicationcontrollers", "secrets", "configmaps", "persistentvolumeclaims", "storage", "requests.storage",
    "services.nodeports", "services.loadbalancers"))
STANDARD_QUOTA_RESOURCES = STANDARD_RESOURCES - {"storage"}
INTEGER_RESOURCES = frozenset(("pods", "resourcequotas", "services", "replicationcontrollers", "secrets",
                               "configmaps", "persistentvolumeclaims", "services.nodeports",
                               "services.loadbalancers"))
_POD_SCOPED = frozenset(("pods", "cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu",
                         "requests.memory"))
_CLAIM_SCOPED = frozenset(("persistentvolumeclaims", "requests.storage"))
_EXISTS_ONLY = (quota.BEST_EFFORT, quota.NOT_BEST_EFFORT, quota.TERMINATING, quota.NOT_TERMINATING)
_CONFLICTING = ((quota.BEST_EFFORT, quota.NOT_BEST_EFFORT), (quota.TERMINATING, quota.NOT_TERMINATING))


def _is_hugepages(name: str) -> bool:
    return name.startswith(("hugepages-", "requests.hugepages-"))


def _resource_name_errors(name: str, path: str) -> Errors:
    errs = invalids(path, name, qualified_name_errors(name))
    if not errs and "/" not in name and name not in STANDARD_RESOURCES and not _is_hugepages(name):
        errs.append(invalid(path, name, "must be a standard resource type or fully qualified"))
    return errs


# --- LimitRange -------------------------------------------------------------------------------------

def _limit_type_errors(value: str, path: str) -> Errors:
    errs = invalids(path, value, qualified_name_errors(value))
    if not errs and "/" not in value and value not in LIMIT_TYPES:
        errs.append(invalid(path, value, "must be a standard limit type or fully qualified"))
    return errs


def _limit_resource_errors(limit_type: str, name: str, path: str) -> Errors:
    if limit_type in ("Pod", "Container"):
        return validate_container_resource_name(name, path)
    return _resource_name_errors(name, path)


_JSON_NAMES = {"default_request": "defaultRequest", "max_limit_request_ratio": "maxLimitRequestRatio"}


def _quantities(item: core_pb2.LimitRangeItem, field: str, path: str, errs: Errors) -> dict[str, Decimal]:
    values: dict[str, Decimal] = {}
    for name, text in getattr(item, field).items():
        p = f"{path}.{_JSON_NAMES.get(field, field)}[{name}]"
        errs += _limit_resource_errors(item.type, name, p)
        try:
            values[name] = parse_quantity(text)
        except ValueError as e:
            errs.append(invalid(p, text, str(e)))
    return values


def validate_limit_range(lr: core_pb2.LimitRange) -> Errors:
    errs: Errors = []
    seen: set[str] = set()
    for i, item in enumerate(lr.spec.limits):
        path = f"spec.limits[{i}]"
        errs += _limit_type_errors(item.type, f"{path}.type")
        if item.type in seen:
            errs.append(duplicate(f"{path}.type", item.type))
        seen.add(item.type)
        errs += _validate_item(item, path)
    return errs


def _validate_item(item: core_pb2.LimitRangeItem, path: str) -> Errors:
    errs: Errors = []
    q = {f: _quantities(item, f, path, errs) for f in ("max", "min")}
    if item.type == "Pod":
        for f in ("default", "default_request"):
            if getattr(item, f):
                errs.append(forbidden(f"{path}.{_JSON_NAMES.get(f, f)}", "may not be specified when `type` is 'Pod'"))
        q["default"], q["default_request"] = {}, {}
    else:
        q["default"] = _quantities(item, "default", path, errs)
        q["default_request"] = _quantities(item, "default_request", path, errs)
    if item.type == "PersistentVolumeClaim" and "storage" not in item.min and "storage" not in item.max:
        errs.append(required(f"{path}.limits",
                             "either minimum or maximum storage value is required, but neither was provided"))
    q["ratio"] = _quantities(item, "max_limit_request_ratio", path, errs)
    for name in sorted(set().union(*(v.keys() for v in q.values()))):
        errs += _item_key_errors(item, name, q, path)
    return errs


def _shown(item: core_pb2.LimitRangeItem, field: str, name: str) -> str:
    text = getattr(item, field)[name]
    try:
        return canonical(text)
    except ValueError:  # reported where the quantity is parsed
        return text


def _item_key_errors(item, name: str, q: Mapping[str, dict[str, Decimal]], path: str) -> Errors:
    lo, hi = q["min"].get(name), q["max"].get(name)
    dflt, dreq, ratio = q["default"].get(name), q["default_request"].get(name), q["ratio"].get(name)
    s = {f: _shown(item, f, name) for f in ("min", "max", "default", "default_request", "max_limit_request_ratio")
         if name in getattr(item, f)}
    key = f"[{name}]"
    errs: Errors = []
    if lo is not None and hi is not None and lo > hi:
        errs.append(invalid(f"{path}.min{key}", s["min"], f"min value {s['min']} is greater than max value {s['max']}"))
    if dreq is not None and lo is not None and lo > dreq:
        errs.append(invalid(f"{path}.defaultRequest{key}", s["default_request"],
                            f"min value {s['min']} is greater than default request value {s['default_request']}"))
    if dreq is not None and hi is not None and dreq > hi:
        errs.append(invalid(f"{path}.defaultRequest{key}", s["default_request"],
                            f"default request value {s['default_request']} is greater than max value {s['max']}"))
    if dreq is not None and dflt is not None and dreq > dflt:
        errs.append(invalid(f"{path}.defaultRequest{key}", s["default_request"],
                            f"default request value {s['default_request']} is greater than default limit value "
                            f"{s['default']}"))
    if dflt is not None and lo is not None and lo > dflt:
        errs.append(invalid(f"{path}.default{key}", s["min"],
                            f"min value {s['min']} is greater than default value {s['default']}"))
    if dflt is not None and hi is not None and dflt > hi:
        errs.append(invalid(f"{path}.default{key}", s["max"],
                            f"default value {s['default']} is greater than max value {s['max']}"))
    errs += _ratio_errors(ratio, lo, hi, s, f"{path}.maxLimitRequestRatio{key}")
    if not _overcommit_allowed(name) and dflt is not None and dreq is not None and dflt != dreq:
        errs.append(invalid(f"{path}.defaultRequest{key}", s["default_request"],
                            f"default value {s['default']} must equal to defaultRequest value "
                            f"{s['default_request']} in {name}"))
    return errs


def _ratio_errors(ratio: Decimal | None, lo: Decimal | None, hi: Decimal | None, s: dict[str, str],
                  path: str) -> Errors:
    if ratio is None:
        return []
    shown = s["max_limit_request_ratio"]
    if ratio < 1:
        return [invalid(path, shown, f"ratio {shown} is less than 1")]
    if lo is not None and hi is not None and lo > 0 and ratio > hi / lo:
        return [invalid(path, shown, f"ratio {shown} is greater than max/min = {float(hi / lo):f}")]
    return []


def _overcommit_allowed(name: str) -> bool:
    return not name.startswith("hugepages-") and not quota.is_extended(name)


# --- ResourceQuota ----------------------------------------------------------------------------------

def _quota_name_errors(name: str, path: str) -> Errors:
    errs = _resource_name_errors(name, path)
    if not errs and "/" not in name and name not in STANDARD_QUOTA_RESOURCES and not _is_hugepages(name):
        errs.append(invalid(path, name, "must be a standard resource for quota"))
    return errs


def _is_integer_resource(name: str) -> bool:
    return name in INTEGER_RESOURCES or quota.is_extended(name)


def _quota_value_errors(name: str, text: str, path: str) -> Errors:
    try:
        value = parse_quantity(text)
    except ValueError as e:
        return [invalid(path, text, str(e))]
    if value < 0:
        return [invalid(path, canonical(text), "must be greater than or equal to 0")]
    if _is_integer_resource(name) and value != value.to_integral_value():
        return [invalid(path, canonical(text), "must be an integer")]
    return []


def _scope_valid_for(scope: str, resource: str) -> bool:
    if scope == quota.BEST_EFFORT:
        return resource == "pods"
    if scope == quota.VOLUME_ATTRIBUTES_CLASS:
        return resource in _CLAIM_SCOPED
    if scope in quota.SCOPES:
        return resource in _POD_SCOPED
    return True


def _standard_hard(spec: core_pb2.ResourceQuotaSpec) -> list[str]:
    return sorted(k for k in spec.hard if k in STANDARD_QUOTA_RESOURCES or _is_hugepages(k))


def _conflicts(scopes: set[str]) -> bool:
    return any(a in scopes and b in scopes for a, b in _CONFLICTING)


def _validate_scopes(spec: core_pb2.ResourceQuotaSpec) -> Errors:
    errs: Errors = []
    shown = list(spec.scopes)
    for scope in spec.scopes:
        if scope not in quota.SCOPES:
            errs.append(invalid("spec.scopes", shown, "unsupported scope"))
        errs += [invalid("spec.scopes", shown, "unsupported scope applied to resource")
                 for k in _standard_hard(spec) if not _scope_valid_for(scope, k)]
    if _conflicts(set(spec.scopes)):
        errs.append(invalid("spec.scopes", shown, "conflicting scopes"))
    return errs


def _validate_scope_selector(spec: core_pb2.ResourceQuotaSpec) -> Errors:
    if not spec.HasField("scope_selector"):
        return []
    path = "spec.scopeSelector.matchExpressions"
    errs: Errors = []
    for req in spec.scope_selector.match_expressions:
        if req.scope_name not in quota.SCOPES:
            errs.append(invalid(f"{path}.scopeName", req.scope_name, "unsupported scope"))
        errs += [invalid(path, spec.scope_selector, "unsupported scope applied to resource")
                 for k in _standard_hard(spec) if not _scope_valid_for(req.scope_name, k)]
        if req.scope_name in _EXISTS_ONLY and req.operator != "Exists":
            errs.append(invalid(f"{path}.operator", req.operator,
                                "must be 'Exist' only operator when scope is any of ResourceQuotaScopeTerminating, "
                                "ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort and "
                                "ResourceQuotaScopeNotBestEffort"))
        errs += _operator_errors(req, path)
    if _conflicts({r.scope_name for r in spec.scope_selector.match_expressions}):
        errs.append(invalid(path, list(spec.scopes), "conflicting scopes"))
    return errs


def _operator_errors(req: core_pb2.ScopedResourceSelectorRequirement, path: str) -> Errors:
    if req.operator in ("In", "NotIn"):
        if not req.values:
            return [required(f"{path}.values",
                             "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector")]
        return []
    if req.operator in ("Exists", "DoesNotExist"):
        if req.values:
            return [invalid(f"{path}.values", list(req.values),
                            "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector")]
        return []
    return [invalid(f"{path}.operator", req.operator, "not a valid selector operator")]


def _validate_hard(values: Mapping[str, str], path: str) -> Errors:
    errs: Errors = []
    for name, text in sorted(values.items()):
        p = f"{path}[{name}]"
        errs += _quota_name_errors(name, p) + _quota_value_errors(name, text, p)
    return errs


def validate_resource_quota(rq: core_pb2.ResourceQuota) -> Errors:
    errs = _validate_hard(rq.spec.hard, "spec.hard")
    errs += _validate_scopes(rq.spec) + _validate_scope_selector(rq.spec)
    errs += _validate_hard(rq.status.hard, "status.hard")
    for name, text in sorted(rq.status.used.items()):
        p = f"status.used[{name}]"
        errs += _quota_name_errors(name, p) + _quota_value_errors(name, text, p)
    return errs


def validate_resource_quota_update(new: core_pb2.ResourceQuota, old: core_pb2.ResourceQuota) -> Errors:
    if set(new.spec.scopes) != set(old.spec.scopes):
        return [invalid("spec.scopes", list(new.spec.scopes), "field is immutable")]
    return []
