"""Validation of Roles, ClusterRoles and their bindings: Kubernetes' rules, field paths and messages."""

from __future__ import annotations

import pytest

from tests.fixtures.validation import DELETE, assert_violation, patched, violations

G = "rbac.authorization.k8s.io"
ROLE = {"apiVersion": f"{G}/v1", "kind": "Role", "metadata": {"name": "pod-reader", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch", "list"]}]}
CLUSTER_ROLE = {"apiVersion": f"{G}/v1", "kind": "ClusterRole", "metadata": {"name": "system:secret-reader"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
                          {"nonResourceURLs": ["/healthz", "/healthz/*"], "verbs": ["get"]}]}
ROLE_BINDING = {"apiVersion": f"{G}/v1", "kind": "RoleBinding",
                "metadata": {"name": "read-pods", "namespace": "default"},
                "subjects": [{"kind": "User", "name": "jane", "apiGroup": G},
                             {"kind": "Group", "name": "devs", "apiGroup": G},
                             {"kind": "ServiceAccount", "name": "builder"}],
                "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": G}}
CRB = {"apiVersion": f"{G}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "read-secrets-global"},
       "subjects": [{"kind": "Group", "name": "manager", "apiGroup": G},
                    {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"}],
       "roleRef": {"kind": "ClusterRole", "name": "system:secret-reader", "apiGroup": G}}


@pytest.mark.parametrize("obj", [ROLE, CLUSTER_ROLE, ROLE_BINDING, CRB], ids=lambda o: o["kind"])
def test_valid_objects(obj):
    assert violations(obj) == []


@pytest.mark.parametrize("obj, path, value, field, fragment", [
    (ROLE, "rules.0.verbs", [], "rules[0].verbs", "Required value: verbs must contain at least one value"),
    (ROLE, "rules.0.apiGroups", DELETE, "rules[0].apiGroups",
     "Required value: resource rules must supply at least one api group"),
    (ROLE, "rules.0.resources", [], "rules[0].resources",
     "Required value: resource rules must supply at least one resource"),
    (ROLE, "rules.0", {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}, "rules[0].nonResourceURLs",
     "namespaced rules cannot apply to non-resource URLs"),
    (CLUSTER_ROLE, "rules.1.resources", ["pods"], "rules[1].nonResourceURLs",
     "rules cannot apply to both regular resources and non-resource URLs"),
    (ROLE, "metadata.name", "a/b", "metadata.name", "may not contain '/'"),
    (ROLE, "metadata.name", "..", "metadata.name", "may not be '..'"),
    (ROLE, "metadata.name", "", "metadata.name", "Required value"),
    (CLUSTER_ROLE, "aggregationRule", {"clusterRoleSelectors": []}, "aggregationRule.clusterRoleSelectors",
     "at least one clusterRoleSelector required"),
    (ROLE_BINDING, "roleRef.kind", "Deployment", "roleRef.kind",
     'Unsupported value: "Deployment": supported values: "Role", "ClusterRole"'),
    (ROLE_BINDING, "roleRef.apiGroup", "example.com", "roleRef.apiGroup",
     'Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"'),
    (ROLE_BINDING, "roleRef.name", "", "roleRef.name", "Required value"),
    (ROLE_BINDING, "roleRef.name", "a%b", "roleRef.name", "may not contain '%'"),
    (ROLE_BINDING, "subjects.0.name", "", "subjects[0].name", "Required value"),
    (ROLE_BINDING, "subjects.0.kind", "Robot", "subjects[0].kind",
     'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"'),
    (ROLE_BINDING, "subjects.1.apiGroup", "example.com", "subjects[1].apiGroup", "Unsupported value"),
    (ROLE_BINDING, "subjects.2.apiGroup", G, "subjects[2].apiGroup", 'Unsupported value: "rbac'),
    (ROLE_BINDING, "subjects.2.name", "Not_Valid", "subjects[2].name", "RFC 1123"),
    (CRB, "subjects.1.namespace", DELETE, "subjects[1].namespace", "Required value"),
    (CRB, "roleRef.kind", "Role", "roleRef.kind", 'Unsupported value: "Role": supported values: "ClusterRole"'),
    (CRB, "metadata.namespace", "default", "metadata.namespace", "not allowed on this type"),
])
def test_invalid(obj, path, value, field, fragment):
    assert_violation(patched(obj, path, value), field, fragment)


def test_role_binding_service_account_may_omit_namespace():
    assert violations(ROLE_BINDING) == []


@pytest.mark.parametrize("obj", [ROLE_BINDING, CRB], ids=lambda o: o["kind"])
def test_role_ref_cannot_change(obj):
    changed = patched(obj, "roleRef.name", "another")
    assert_violation(changed, "roleRef", "cannot change roleRef", old=obj)
    more_subjects = patched(obj, "subjects", obj["subjects"] + [{"kind": "User", "name": "x", "apiGroup": G}])
    assert violations(more_subjects, old=obj) == []


def test_role_rules_may_change():
    assert violations(patched(ROLE, "rules.0.verbs", ["get"]), old=ROLE) == []


def test_bindings_default_their_api_groups_as_rbac_v1_does():
    from control.apiserver.registry import apply_defaults
    from control.client.convert import from_dict

    bare = {**ROLE_BINDING, "subjects": [{"kind": "User", "name": "jane"}, {"kind": "Group", "name": "devs"},
                                         {"kind": "ServiceAccount", "name": "builder"}],
            "roleRef": {"kind": "Role", "name": "pod-reader"}}
    obj = from_dict(bare)
    apply_defaults(obj)
    assert obj.role_ref.api_group == G
    assert [s.api_group for s in obj.subjects] == [G, G, ""]
