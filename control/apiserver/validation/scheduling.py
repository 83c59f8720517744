"""Scheduling constraints: node and pod affinity, tolerations, taints."""

from __future__ import annotations

import re

from control.apiserver.validation.errors import (
    Errors,
    duplicate,
    enum,
    forbidden,
    invalid,
    invalids,
    not_supported,
    required,
)
from control.apiserver.validation.meta import validate_label_selector
from control.apiserver.validation.names import dns1123_label_errors, label_value_errors, qualified_name_errors
from control.client.wellknown import NO_EXECUTE, TAINT_EFFECTS
from skiff.v1 import core_pb2, pod_pb2

TOLERATION_OPERATORS = ("Equal", "Exists", "Lt", "Gt")
WEIGHT_MSG = "must be in the range 1-100"
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _validate_requirement(rq: core_pb2.NodeSelectorRequirement, path: str) -> Errors:
    errs: Errors = []
    if rq.operator in ("In", "NotIn"):
        if not rq.values:
            errs.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif rq.operator in ("Exists", "DoesNotExist"):
        if rq.values:
            errs.append(forbidden(f"{path}.values",
                                  "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    elif rq.operator in ("Gt", "Lt"):
        if len(rq.values) != 1:
            errs.append(required(f"{path}.values",
                                 "must be specified single value when `operator` is 'Lt' or 'Gt'"))
    else:
        errs.append(invalid(f"{path}.operator", rq.operator, "not a valid selector operator"))
    return errs + invalids(f"{path}.key", rq.key, qualified_name_errors(rq.key))


def _validate_field_requirement(rq: core_pb2.NodeSelectorRequirement, path: str) -> Errors:
    errs: Errors = []
    if rq.operator in ("In", "NotIn"):
        if len(rq.values) != 1:
            errs.append(required(f"{path}.values", "must be only one value when `operator` is 'In' or "
                                 "'NotIn' for node field selector"))
    else:
        errs.append(invalid(f"{path}.operator", rq.operator, "not a valid selector operator"))
    if rq.key != "metadata.name":
        errs.append(not_supported(f"{path}.key", rq.key, ["metadata.name"]))
    return errs


def validate_node_selector_term(term: core_pb2.NodeSelectorTerm, path: str) -> Errors:
    errs: Errors = []
    for i, rq in enumerate(term.match_expressions):
        errs += _validate_requirement(rq, f"{path}.matchExpressions[{i}]")
    for i, rq in enumerate(term.match_fields):
        errs += _validate_field_requirement(rq, f"{path}.matchFields[{i}]")
    return errs


def _validate_node_affinity(na: pod_pb2.NodeAffinity, path: str) -> Errors:
    errs: Errors = []
    if na.HasField("required_during_scheduling_ignored_during_execution"):
        p = f"{path}.requiredDuringSchedulingIgnoredDuringExecution"
        terms = na.required_during_scheduling_ignored_during_execution.node_selector_terms
        if not terms:
            errs.append(required(f"{p}.nodeSelectorTerms", "must have at least one node selector term"))
        for i, term in enumerate(terms):
            errs += validate_node_selector_term(term, f"{p}.nodeSelectorTerms[{i}]")
    for i, pref in enumerate(na.preferred_during_scheduling_ignored_during_execution):
        p = f"{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        if not 1 <= pref.weight <= 100:
            errs.append(invalid(f"{p}.weight", pref.weight, WEIGHT_MSG))
        errs += validate_node_selector_term(pref.preference, f"{p}.preference")
    return errs


def _validate_pod_affinity_term(term: pod_pb2.PodAffinityTerm, path: str) -> Errors:
    errs = validate_label_selector(term.label_selector, f"{path}.labelSelector")
    errs += validate_label_selector(term.namespace_selector, f"{path}.namespaceSelector")
    for i, ns in enumerate(term.namespaces):
        errs += invalids(f"{path}.namespaces[{i}]", ns, dns1123_label_errors(ns))
    if not term.topology_key:
        errs.append(required(f"{path}.topologyKey", "can not be empty"))
    else:
        errs += invalids(f"{path}.topologyKey", term.topology_key, qualified_name_errors(term.topology_key))
    return errs + _validate_affinity_label_keys(term, path)


def _validate_affinity_label_keys(term: pod_pb2.PodAffinityTerm, path: str) -> Errors:
    errs: Errors = []
    for field, json in (("match_label_keys", "matchLabelKeys"), ("mismatch_label_keys", "mismatchLabelKeys")):
        keys = getattr(term, field)
        if keys and not term.HasField("label_selector"):
            errs.append(forbidden(f"{path}.{json}", "must not be specified when labelSelector is not set"))
        for i, key in enumerate(keys):
            errs += invalids(f"{path}.{json}[{i}]", key, qualified_name_errors(key))
    both = set(term.match_label_keys)
    for i, key in enumerate(term.mismatch_label_keys):
        if key in both:
            errs.append(invalid(f"{path}.mismatchLabelKeys[{i}]", key, "exists in both matchLabelKeys and "
                                "mismatchLabelKeys"))
    return errs


def _validate_pod_affinity(pa: pod_pb2.PodAffinity, path: str) -> Errors:
    errs: Errors = []
    for i, term in enumerate(pa.required_during_scheduling_ignored_during_execution):
        p = f"{path}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"
        errs += _validate_pod_affinity_term(term, p)
    for i, weighted in enumerate(pa.preferred_during_scheduling_ignored_during_execution):
        p = f"{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        if not 1 <= weighted.weight <= 100:
            errs.append(invalid(f"{p}.weight", weighted.weight, WEIGHT_MSG))
        errs += _validate_pod_affinity_term(weighted.pod_affinity_term, f"{p}.podAffinityTerm")
    return errs


def validate_affinity(affinity: pod_pb2.Affinity, path: str) -> Errors:
    errs: Errors = []
    if affinity.HasField("node_affinity"):
        errs += _validate_node_affinity(affinity.node_affinity, f"{path}.nodeAffinity")
    for field, json in (("pod_affinity", "podAffinity"), ("pod_anti_affinity", "podAntiAffinity")):
        if affinity.HasField(field):
            errs += _validate_pod_affinity(getattr(affinity, field), f"{path}.{json}")
    return errs


def _validate_toleration_value(t: pod_pb2.Toleration, path: str) -> Errors:
    if t.operator in ("Equal", ""):
        msgs = label_value_errors(t.value)
        return [invalid(f"{path}.operator", t.value, ";".join(msgs))] if msgs else []
    if t.operator == "Exists":
        if t.value:
            return [invalid(f"{path}.operator", t.value, "value must be empty when `operator` is 'Exists'")]
        return []
    if t.operator in ("Lt", "Gt"):
        if not _INTEGER.fullmatch(t.value):
            return [invalid(f"{path}.value", t.value,
                            "value must be an integer when `operator` is 'Lt' or 'Gt'")]
        return []
    return [not_supported(f"{path}.operator", t.operator, TOLERATION_OPERATORS)]


def validate_tolerations(tolerations, path: str) -> Errors:
    errs: Errors = []
    for i, t in enumerate(tolerations):
        p = f"{path}[{i}]"
        if t.key:
            errs += invalids(f"{p}.key", t.key, qualified_name_errors(t.key))
        elif t.operator != "Exists":
            errs.append(invalid(f"{p}.operator", t.operator, "operator must be Exists when `key` is empty, "
                                "which means \"match all values and all keys\""))
        if t.HasField("toleration_seconds") and t.effect != NO_EXECUTE:
            errs.append(invalid(f"{p}.effect", t.effect,
                                "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        errs += _validate_toleration_value(t, p)
        if t.effect:
            errs += enum(f"{p}.effect", t.effect, TAINT_EFFECTS)
    return errs


def validate_taints(taints, path: str) -> Errors:
    errs: Errors = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(taints):
        p = f"{path}[{i}]"
        errs += [required(f"{p}.key")] if not taint.key else invalids(
            f"{p}.key", taint.key, qualified_name_errors(taint.key))
        errs += invalids(f"{p}.value", taint.value, label_value_errors(taint.value))
        errs += enum(f"{p}.effect", taint.effect, TAINT_EFFECTS)
        if (taint.key, taint.effect) in seen:
            errs.append(invalid(p, f"{taint.key}:{taint.effect}",
                                "taints must be unique by key and effect pair"))
        seen.add((taint.key, taint.effect))
    return errs


UNSATISFIABLE_ACTIONS = ("DoNotSchedule", "ScheduleAnyway")
INCLUSION_POLICIES = ("Honor", "Ignore")


def _validate_spread_constraint(c: pod_pb2.TopologySpreadConstraint, path: str) -> Errors:
    errs: Errors = []
    if c.max_skew <= 0:
        errs.append(invalid(f"{path}.maxSkew", c.max_skew, "must be greater than zero"))
    if not c.topology_key:
        errs.append(required(f"{path}.topologyKey", "can not be empty"))
    else:
        errs += invalids(f"{path}.topologyKey", c.topology_key, qualified_name_errors(c.topology_key))
    errs += enum(f"{path}.whenUnsatisfiable", c.when_unsatisfiable, UNSATISFIABLE_ACTIONS)
    if c.HasField("min_domains"):
        if c.min_domains <= 0:
            errs.append(invalid(f"{path}.minDomains", c.min_domains, "must be greater than zero"))
        if c.when_unsatisfiable != "DoNotSchedule":
            errs.append(invalid(f"{path}.minDomains", c.min_domains,
                                f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, "
                                f"not {c.when_unsatisfiable}"))
    for field, json in (("node_affinity_policy", "nodeAffinityPolicy"), ("node_taints_policy", "nodeTaintsPolicy")):
        if c.HasField(field):
            errs += enum(f"{path}.{json}", getattr(c, field), INCLUSION_POLICIES)
    errs += validate_label_selector(c.label_selector, f"{path}.labelSelector")
    errs += _validate_match_label_keys(c, path)
    return errs


def _validate_match_label_keys(c: pod_pb2.TopologySpreadConstraint, path: str) -> Errors:
    if not c.match_label_keys:
        return []
    if not c.HasField("label_selector"):
        return [forbidden(f"{path}.matchLabelKeys", "must not be specified when labelSelector is not set")]
    selector_keys = set(c.label_selector.match_labels) | {e.key for e in c.label_selector.match_expressions}
    errs: Errors = []
    for i, key in enumerate(c.match_label_keys):
        errs += invalids(f"{path}.matchLabelKeys[{i}]", key, qualified_name_errors(key))
        if key in selector_keys:
            errs.append(invalid(f"{path}.matchLabelKeys[{i}]", key, "exists in both matchLabelKeys and labelSelector"))
    return errs


def validate_topology_spread_constraints(constraints, path: str) -> Errors:
    errs: Errors = []
    seen: set[tuple[str, str]] = set()
    for i, c in enumerate(constraints):
        p = f"{path}[{i}]"
        errs += _validate_spread_constraint(c, p)
        pair = (c.topology_key, c.when_unsatisfiable)
        if pair in seen:
            errs.append(duplicate(f"{p}.{{topologyKey, whenUnsatisfiable}}", f"{{{pair[0]}, {pair[1]}}}"))
        seen.add(pair)
    return errs
