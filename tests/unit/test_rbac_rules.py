"""RBAC rule and subject matching, escalation coverage: Kubernetes' semantics, table-driven."""

from __future__ import annotations

import pytest

from control.apiserver.auth.attributes import Attributes
from control.apiserver.auth.rbac import (
    compact_string,
    non_resource_url_matches,
    rule_allows,
    rule_covers,
    subject_applies,
    uncovered_rules,
)
from control.apiserver.auth.user import UserInfo
from skiff.v1 import rbac_pb2

ALICE = UserInfo("alice", ("devs", "system:authenticated"))
SA = UserInfo("system:serviceaccount:dev:builder", ("system:serviceaccounts", "system:authenticated"))


def rule(verbs=("get",), groups=("",), resources=("pods",), names=(), urls=()) -> rbac_pb2.PolicyRule:
    return rbac_pb2.PolicyRule(verbs=verbs, api_groups=groups, resources=resources, resource_names=names,
                               non_resource_urls=urls)


def req(verb="get", group="", resource="pods", sub="", ns="dev", name="web") -> Attributes:
    return Attributes(ALICE, verb, group, resource, sub, ns, name)


@pytest.mark.parametrize("r, attrs, allowed", [
    (rule(), req(), True),
    (rule(), req(verb="list", name=""), False),
    (rule(verbs=("*",)), req(verb="delete"), True),
    (rule(verbs=("get", "list")), req(verb="watch"), False),
    (rule(groups=("apps",), resources=("deployments",)), req(group="apps", resource="deployments"), True),
    (rule(groups=("apps",), resources=("deployments",)), req(resource="deployments"), False),
    (rule(groups=("*",), resources=("deployments",)), req(group="apps", resource="deployments"), True),
    (rule(resources=("*",)), req(resource="secrets"), True),
    (rule(resources=("*",)), req(resource="pods", sub="log"), True),
    # a resource does not cover its subresources, nor the other way round
    (rule(resources=("pods",)), req(sub="log"), False),
    (rule(resources=("pods/log",)), req(sub="log"), True),
    (rule(resources=("pods/log",)), req(), False),
    (rule(resources=("*/status",)), req(resource="deployments", group="", sub="status"), True),
    (rule(resources=("*/status",)), req(sub="log"), False),
    (rule(resources=("*/status",)), req(), False),
    # pods/* is not a wildcard in Kubernetes: only the literal
    (rule(resources=("pods/*",)), req(sub="log"), False),
    (rule(names=("web",)), req(), True),
    (rule(names=("db",)), req(), False),
    (rule(verbs=("list",), names=("web",)), req(verb="list", name=""), False),
    (rule(verbs=("create",), names=("web",)), req(verb="create", name=""), False),
    (rule(groups=()), req(), False),
    (rule(verbs=()), req(), False),
])
def test_rule_allows(r, attrs, allowed):
    assert rule_allows(attrs, r) is allowed


@pytest.mark.parametrize("urls, path, allowed", [
    (("/healthz",), "/healthz", True),
    (("/healthz",), "/healthz/ping", False),
    (("/healthz/*",), "/healthz/ping", True),
    (("/healthz*",), "/healthzzz", True),
    (("*",), "/anything", True),
    ((), "/healthz", False),
])
def test_non_resource_urls(urls, path, allowed):
    assert non_resource_url_matches(rule(verbs=("get",), groups=(), resources=(), urls=urls), path) is allowed


def subject(kind, name, namespace="", group="rbac.authorization.k8s.io") -> rbac_pb2.Subject:
    return rbac_pb2.Subject(kind=kind, name=name, namespace=namespace, api_group=group)


@pytest.mark.parametrize("user, subj, binding_ns, applies", [
    (ALICE, subject("User", "alice"), "", True),
    (ALICE, subject("User", "Alice"), "", False),
    (ALICE, subject("Group", "devs"), "", True),
    (ALICE, subject("Group", "alice"), "", False),
    (ALICE, subject("Group", "system:authenticated"), "dev", True),
    (SA, subject("ServiceAccount", "builder", "dev", ""), "", True),
    (SA, subject("ServiceAccount", "builder", "prod", ""), "", False),
    # a namespace-less ServiceAccount subject means the RoleBinding's namespace
    (SA, subject("ServiceAccount", "builder", "", ""), "dev", True),
    (SA, subject("ServiceAccount", "builder", "", ""), "prod", False),
    (SA, subject("ServiceAccount", "builder", "", ""), "", False),
    (SA, subject("User", "system:serviceaccount:dev:builder"), "", True),
    (ALICE, subject("Robot", "alice"), "", False),
])
def test_subject_applies(user, subj, binding_ns, applies):
    assert subject_applies(user, subj, binding_ns) is applies


@pytest.mark.parametrize("owner, wanted, covers", [
    (rule(verbs=("*",), groups=("*",), resources=("*",)), rule(verbs=("delete",), resources=("secrets",)), True),
    (rule(verbs=("get", "list")), rule(verbs=("get",)), True),
    (rule(verbs=("get",)), rule(verbs=("get", "list")), False),
    (rule(resources=("*/status",)), rule(resources=("pods/status",)), True),
    (rule(resources=("*/status",)), rule(resources=("pods",)), False),
    (rule(resources=("pods",)), rule(resources=("pods/log",)), False),
    (rule(names=("a",)), rule(), False),
    (rule(names=("a", "b")), rule(names=("a",)), True),
    (rule(), rule(names=("a",)), True),
    (rule(groups=("apps",)), rule(), False),
    (rule(verbs=("get",), groups=(), resources=(), urls=("/logs/*",)),
     rule(verbs=("get",), groups=(), resources=(), urls=("/logs/x",)), True),
    (rule(verbs=("get",), groups=(), resources=(), urls=("/logs",)),
     rule(verbs=("get",), groups=(), resources=(), urls=("/metrics",)), False),
])
def test_rule_covers(owner, wanted, covers):
    assert rule_covers(owner, wanted) is covers


def test_uncovered_rules_are_broken_down_per_verb_and_resource():
    owner = [rule(verbs=("get", "list"), resources=("pods", "services"))]
    wanted = [rule(verbs=("get", "delete"), resources=("pods", "secrets"))]
    missing = {compact_string(r) for r in uncovered_rules(owner, wanted)}
    assert missing == {
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
        '{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}',
    }
    assert uncovered_rules(owner, [rule(verbs=("list",), resources=("services",))]) == []


def test_compact_string_names_only_set_fields():
    r = rbac_pb2.PolicyRule(verbs=["get"], non_resource_urls=["/healthz"])
    assert compact_string(r) == '{NonResourceURLs:["/healthz"], Verbs:["get"]}'
    r = rule(verbs=("get", "update"), groups=("apps",), resources=("deployments",), names=("web",))
    assert compact_string(r) == '{APIGroups:["apps"], Resources:["deployments"], ResourceNames:["web"], ' \
                                'Verbs:["get" "update"]}'
