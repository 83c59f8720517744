"""Roles, ClusterRoles, RoleBindings and ClusterRoleBindings (rbac.authorization.k8s.io/v1).

Kubernetes' rules: names are path segments (`system:kube-scheduler` is a valid
name), rules need verbs and either apiGroups+resources or nonResourceURLs
(only in ClusterRoles), a binding's roleRef is required and never changes.
A ClusterRole's aggregationRule is validated and stored but nothing
aggregates: Skiff runs no ClusterRole aggregation controller.
"""

from __future__ import annotations

from control.apiserver.validation.errors import Errors, invalid, invalids, not_supported, required
from control.apiserver.validation.meta import validate_label_selector
from control.apiserver.validation.names import dns1123_subdomain_errors
from skiff.v1 import rbac_pb2

GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def path_segment_name_errors(name: str, prefix: bool = False) -> list[str]:
    """Kubernetes' IsValidPathSegmentName: what may appear as one segment of a URL path."""
    errs = []
    if not prefix and name in (".", ".."):
        errs.append(f"may not be '{name}'")
    for bad in ("/", "%"):
        if bad in name:
            errs.append(f"may not contain '{bad}'")
    return errs


def validate_policy_rule(rule: rbac_pb2.PolicyRule, namespaced: bool, path: str) -> Errors:
    errs: Errors = []
    if not rule.verbs:
        errs.append(required(f"{path}.verbs", "verbs must contain at least one value"))
    if rule.non_resource_urls:
        urls = list(rule.non_resource_urls)
        if namespaced:
            errs.append(invalid(f"{path}.nonResourceURLs", urls,
                                "namespaced rules cannot apply to non-resource URLs"))
        if rule.api_groups or rule.resources or rule.resource_names:
            errs.append(invalid(f"{path}.nonResourceURLs", urls,
                                "rules cannot apply to both regular resources and non-resource URLs"))
        return errs
    if not rule.api_groups:
        errs.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
    if not rule.resources:
        errs.append(required(f"{path}.resources", "resource rules must supply at least one resource"))
    return errs


def _validate_rules(rules, namespaced: bool) -> Errors:
    errs: Errors = []
    for i, rule in enumerate(rules):
        errs += validate_policy_rule(rule, namespaced, f"rules[{i}]")
    return errs


def validate_role(role: rbac_pb2.Role) -> Errors:
    return _validate_rules(role.rules, namespaced=True)


def validate_cluster_role(role: rbac_pb2.ClusterRole) -> Errors:
    errs = _validate_rules(role.rules, namespaced=False)
    if role.HasField("aggregation_rule"):
        path = "aggregationRule.clusterRoleSelectors"
        selectors = role.aggregation_rule.cluster_role_selectors
        if not selectors:
            errs.append(required(path, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
        for i, selector in enumerate(selectors):
            errs += validate_label_selector(selector, f"{path}[{i}]")
    return errs


def validate_subject(subject: rbac_pb2.Subject, namespaced: bool, path: str) -> Errors:
    errs: Errors = []
    if not subject.name:
        errs.append(required(f"{path}.name"))
    if subject.kind == "ServiceAccount":
        if subject.name:
            errs += invalids(f"{path}.name", subject.name, dns1123_subdomain_errors(subject.name))
        if subject.api_group:
            errs.append(not_supported(f"{path}.apiGroup", subject.api_group, [""]))
        if not namespaced and not subject.namespace:
            errs.append(required(f"{path}.namespace"))
    elif subject.kind in ("User", "Group"):
        if subject.api_group != GROUP:
            errs.append(not_supported(f"{path}.apiGroup", subject.api_group, [GROUP]))
    else:
        errs.append(not_supported(f"{path}.kind", subject.kind, SUBJECT_KINDS))
    return errs


def _validate_binding(binding, role_kinds: tuple[str, ...], namespaced: bool) -> Errors:
    errs: Errors = []
    ref = binding.role_ref
    if ref.api_group != GROUP:
        errs.append(not_supported("roleRef.apiGroup", ref.api_group, [GROUP]))
    if ref.kind not in role_kinds:
        errs.append(not_supported("roleRef.kind", ref.kind, role_kinds))
    if not ref.name:
        errs.append(required("roleRef.name"))
    else:
        errs += invalids("roleRef.name", ref.name, path_segment_name_errors(ref.name))
    for i, subject in enumerate(binding.subjects):
        errs += validate_subject(subject, namespaced, f"subjects[{i}]")
    return errs


def validate_role_binding(binding: rbac_pb2.RoleBinding) -> Errors:
    return _validate_binding(binding, ("Role", "ClusterRole"), namespaced=True)


def validate_cluster_role_binding(binding: rbac_pb2.ClusterRoleBinding) -> Errors:
    return _validate_binding(binding, ("ClusterRole",), namespaced=False)


def validate_binding_update(new, old) -> Errors:
    """RoleBindings and ClusterRoleBindings: roleRef is fixed for the binding's life."""
    if new.role_ref != old.role_ref:
        return [invalid("roleRef", new.role_ref, "cannot change roleRef")]
    return []
