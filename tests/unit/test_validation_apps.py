"""ReplicaSet and Deployment validation."""

from __future__ import annotations

import pytest

from tests.fixtures.validation import DELETE, assert_violation, patched, violations

TEMPLATE = {"metadata": {"labels": {"app": "web", "tier": "fe"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}
RS = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": "default"},
      "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}}
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
          "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}}








@pytest.mark.parametrize("base", [RS, DEPLOY], ids=["ReplicaSet", "Deployment"])
def test_valid_workloads(base: dict) -> None:
    assert violations(base) == []


# Rules ReplicaSets and Deployments share.
COMMON = [
    ("spec.replicas", -1, "spec.replicas", "Invalid value: -1: must be greater than or equal to 0"),
    ("spec.minReadySeconds", -1, "spec.minReadySeconds", "must be greater than or equal to 0"),
    ("spec.selector", DELETE, "spec.selector", "Required value"),
    ("spec.selector", {}, "spec.selector", "empty selector is invalid for deployment"),
    ("spec.selector", {"matchLabels": {"app": "db"}}, "spec.template.metadata.labels",
     "`selector` does not match template `labels`"),
    ("spec.selector", {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]},
     "spec.template.metadata.labels", "`selector` does not match template `labels`"),
    ("spec.selector", {"matchExpressions": [{"key": "app", "operator": "Maybe"}]},
     "spec.selector.matchExpressions[0].operator", 'Invalid value: "Maybe": not a valid selector operator'),
    ("spec.selector", {"matchLabels": {"app": "-web"}}, "spec.selector.matchLabels", "a valid label must be"),
    ("spec.template.spec.restartPolicy", "OnFailure", "spec.template.spec.restartPolicy",
     'Unsupported value: "OnFailure": supported values: "Always"'),
    ("spec.template.spec.activeDeadlineSeconds", 10, "spec.template.spec.activeDeadlineSeconds",
     "activeDeadlineSeconds in ReplicaSet is not Supported"),
    ("spec.template.spec.containers.0.image", "", "spec.template.spec.containers[0].image", "Required value"),
    ("spec.template.metadata.labels", {"app": "web", "bad key": "x"}, "spec.template.metadata.labels",
     "name part must consist of"),
    ("metadata.name", "Web", "metadata.name", "a lowercase RFC 1123 subdomain"),
]


@pytest.mark.parametrize("base", [RS, DEPLOY], ids=["ReplicaSet", "Deployment"])
@pytest.mark.parametrize("path, value, field, fragment", COMMON)
def test_workload_rule_fires(base: dict, path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(base, path, value), field, fragment)


def test_selector_may_match_a_subset_of_template_labels() -> None:
    sel = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe"]}]}
    assert violations(patched(DEPLOY, "spec.selector", sel)) == []


@pytest.mark.parametrize("path, value, field, fragment", [
    ("spec.strategy", {"type": "BlueGreen"}, "spec.strategy.type",
     'Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"'),
    ("spec.strategy", {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}, "spec.strategy.rollingUpdate",
     "may not be specified when strategy `type` is 'Recreate'"),
    ("spec.strategy", {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}},
     "spec.strategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0"),
    ("spec.strategy", {"rollingUpdate": {"maxSurge": "0%", "maxUnavailable": "0%"}},
     "spec.strategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0"),
    ("spec.strategy", {"rollingUpdate": {"maxSurge": "25"}}, "spec.strategy.rollingUpdate.maxSurge",
     "a valid percent string must be a numeric string followed by an ending '%'"),
    ("spec.strategy", {"rollingUpdate": {"maxUnavailable": -1}}, "spec.strategy.rollingUpdate.maxUnavailable",
     "must be greater than or equal to 0"),
    ("spec.strategy", {"rollingUpdate": {"maxUnavailable": "101%"}}, "spec.strategy.rollingUpdate.maxUnavailable",
     "must not be greater than 100%"),
    ("spec.revisionHistoryLimit", -1, "spec.revisionHistoryLimit", "must be greater than or equal to 0"),
    ("spec.progressDeadlineSeconds", 5, "spec.progressDeadlineSeconds", "must be greater than minReadySeconds"),
])
def test_deployment_rule_fires(path: str, value, field: str, fragment: str) -> None:
    obj = patched(DEPLOY, path, value)
    if path == "spec.progressDeadlineSeconds":
        obj = patched(obj, "spec.minReadySeconds", 5)
    assert_violation(obj, field, fragment)


@pytest.mark.parametrize("strategy", [
    {"type": "Recreate"},
    {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
    {"rollingUpdate": {"maxSurge": "30%"}},
    {"rollingUpdate": {"maxSurge": 2, "maxUnavailable": "0%"}},
])
def test_valid_strategies(strategy: dict) -> None:
    assert violations(patched(DEPLOY, "spec.strategy", strategy)) == []


@pytest.mark.parametrize("base", [RS, DEPLOY], ids=["ReplicaSet", "Deployment"])
def test_selector_is_immutable(base: dict) -> None:
    new = patched(base, "spec.selector", {"matchLabels": {"app": "web", "tier": "fe"}})
    assert_violation(new, "spec.selector", "field is immutable", old=base)
    assert violations(patched(base, "spec.replicas", 5), old=base) == []


@pytest.mark.parametrize("status, field, fragment", [
    ({"replicas": -1}, "status.replicas", "must be greater than or equal to 0"),
    ({"replicas": 1, "readyReplicas": 2, "availableReplicas": 0}, "status.readyReplicas",
     "cannot be greater than status.replicas"),
    ({"replicas": 2, "readyReplicas": 1, "availableReplicas": 2}, "status.availableReplicas",
     "cannot be greater than readyReplicas"),
])
def test_status_counters(status: dict, field: str, fragment: str) -> None:
    for base in (RS, DEPLOY):
        assert_violation(patched(base, "status", status), field, fragment)
