"""kubectl's rule building for `skiffctl create role|clusterrole|rolebinding|clusterrolebinding`."""

from __future__ import annotations

import pytest

from control.cli.commands.create_rbac import parse_resources, policy_rules, split_list
from control.cli.errors import CommandError
from control.cli.main import parse_args

G = "rbac.authorization.k8s.io"


def build(*argv: str) -> tuple[dict, list[str]]:
    warnings: list[str] = []
    args = parse_args(["create", *argv])
    return args.build(args, "team-a", warnings.append), warnings


def test_resources_are_grouped_per_api_group_sorted_with_short_names_resolved() -> None:
    role, warnings = build("role", "r", "--verb=get,list", "--verb=get",
                           "--resource=deployments.apps,po,pods/log", "--resource", "rs.apps", "--resource-name=x")
    assert role == {"apiVersion": f"{G}/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "team-a"},
                    "rules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "pods/log"],
                               "resourceNames": ["x"]},
                              {"verbs": ["get", "list"], "apiGroups": ["apps"],
                               "resources": ["deployments", "replicasets"], "resourceNames": ["x"]}]}
    assert warnings == []


def test_star_verb_and_star_resource_stand_alone() -> None:
    role, _ = build("role", "all", "--verb=get,*", "--resource=*,pods")
    assert role["rules"] == [{"verbs": ["*"], "apiGroups": [""], "resources": ["*"]}]


def test_nonstandard_verb_is_a_warning() -> None:
    _, warnings = build("role", "r", "--verb=frob", "--resource=pods")
    assert warnings == ["Warning: 'frob' is not a standard resource verb"]


@pytest.mark.parametrize("argv, message", [
    (("role", "r", "--resource=pods"), "at least one verb must be specified"),
    (("role", "r", "--verb=get"), "at least one resource must be specified"),
    (("role", "r", "--verb=get", "--resource=widgets"), 'the server doesn\'t have a resource type "widgets"'),
    (("role", "r", "--verb=get", "--resource=pods.apps"), 'the server doesn\'t have a resource type "pods.apps"'),
    (("role", "r", "--verb=get", "--resource=.apps"), "resource must be specified if apiGroup/subresource specified"),
    (("role", "r", "--verb=bind", "--resource=pods"), "can not perform 'bind' on 'pods' in group ''"),
    (("clusterrole", "c", "--verb=get"), "one of resource or nonResourceURL must be specified"),
    (("clusterrole", "c", "--verb=list", "--non-resource-url=/x"), "invalid verb: 'list' for nonResourceURL"),
    (("clusterrole", "c", "--verb=list", "--resource=pods", "--non-resource-url=/x"),
     "invalid verb: 'list' for nonResourceURL"),
    (("clusterrole", "c", "--verb=get", "--non-resource-url=x"), "nonResourceURL should start with /"),
    (("clusterrole", "c", "--verb=get", "--non-resource-url=/a*/b"),
     "nonResourceURL only supports wildcard matches when '*' is at the end"),
    (("rolebinding", "b", "--user=u"), "exactly one of clusterrole or role must be specified"),
    (("rolebinding", "b", "--role=r", "--clusterrole=c"), "exactly one of clusterrole or role must be specified"),
    (("rolebinding", "b", "--role=r", "--serviceaccount=sa"), "serviceaccount must be <namespace>:<name>"),
    (("clusterrolebinding", "b", "--user=u"), 'required flag(s) "clusterrole" not set'),
])
def test_invalid_flags(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError) as e:
        build(*argv)
    assert message in str(e.value)


def test_cluster_role_with_urls_and_special_verbs() -> None:
    role, _ = build("clusterrole", "c", "--verb=get", "--resource=nodes,nodes/stats",
                    "--non-resource-url=/healthz,/api/*")
    assert role == {"apiVersion": f"{G}/v1", "kind": "ClusterRole", "metadata": {"name": "c"},
                    "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes", "nodes/stats"]},
                              {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/api/*"]}]}
    binder, _ = build("clusterrole", "binder", "--verb=bind,escalate", "--resource=roles.rbac.authorization.k8s.io")
    assert binder["rules"] == [{"verbs": ["bind", "escalate"], "apiGroups": [G], "resources": ["roles"]}]


def test_bindings() -> None:
    rb, _ = build("rolebinding", "jane-view", "--clusterrole=view", "--user=jane", "--group=devs,ops",
                  "--serviceaccount=team-a:builder")
    assert rb == {"apiVersion": f"{G}/v1", "kind": "RoleBinding",
                  "metadata": {"name": "jane-view", "namespace": "team-a"},
                  "roleRef": {"apiGroup": G, "kind": "ClusterRole", "name": "view"},
                  "subjects": [{"kind": "User", "apiGroup": G, "name": "jane"},
                               {"kind": "Group", "apiGroup": G, "name": "devs"},
                               {"kind": "Group", "apiGroup": G, "name": "ops"},
                               {"kind": "ServiceAccount", "namespace": "team-a", "name": "builder"}]}
    crb, _ = build("clusterrolebinding", "ops", "--clusterrole=admin", "--group=ops")
    assert crb == {"apiVersion": f"{G}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ops"},
                   "roleRef": {"apiGroup": G, "kind": "ClusterRole", "name": "admin"},
                   "subjects": [{"kind": "Group", "apiGroup": G, "name": "ops"}]}
    role_ref, _ = build("rolebinding", "b", "--role=pod-reader", "--user=u")
    assert role_ref["roleRef"] == {"apiGroup": G, "kind": "Role", "name": "pod-reader"}


def test_helpers() -> None:
    assert split_list(["a,b", "a", "", "c,"]) == ["a", "b", "c"]
    assert [(r.resource, r.group, r.subresource) for r in parse_resources(["deployments.apps/scale"])] == [
        ("deployments", "apps", "scale")]
    assert policy_rules(["get"], [], [], ["/x"]) == [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]
