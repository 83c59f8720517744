"""DaemonSet, StatefulSet and ControllerRevision defaults and validation."""

from __future__ import annotations

import pytest

from control.apiserver.registry import apply_defaults
from control.client.convert import from_dict, to_dict
from tests.fixtures.validation import DELETE, assert_violation, patched, violations

TEMPLATE = {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.25",
                                     "volumeMounts": [{"name": "www", "mountPath": "/data"}]}]}}
DS = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "default"},
      "spec": {"selector": {"matchLabels": {"app": "web"}},
               "template": {"metadata": TEMPLATE["metadata"],
                            "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}}
STS = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"replicas": 3, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                "template": TEMPLATE,
                "volumeClaimTemplates": [{"metadata": {"name": "www"},
                                          "spec": {"accessModes": ["ReadWriteOnce"],
                                                   "resources": {"requests": {"storage": "1Gi"}}}}]}}
CR = {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "web-abc", "namespace": "default"},
      "data": {"spec": {"template": {"$patch": "replace"}}}, "revision": 1}


def defaulted(body: dict) -> dict:
    msg = from_dict(body)
    apply_defaults(msg)
    return to_dict(msg)


def test_daemonset_defaults() -> None:
    spec = defaulted(DS)["spec"]
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert spec["revisionHistoryLimit"] == 10


def test_statefulset_defaults() -> None:
    spec = defaulted(STS)["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    claim = spec["volumeClaimTemplates"][0]
    assert (claim["apiVersion"], claim["kind"], claim["spec"]["volumeMode"], claim["status"]["phase"]) == \
        ("v1", "PersistentVolumeClaim", "Filesystem", "Pending")


@pytest.mark.parametrize("body", [DS, STS, CR], ids=["DaemonSet", "StatefulSet", "ControllerRevision"])
def test_valid(body: dict) -> None:
    assert violations(body) == []


@pytest.mark.parametrize("path,value,field,fragment", [
    ("spec.selector", {}, "spec.selector", "empty selector is invalid for daemonset"),
    ("spec.selector", {"matchLabels": {"app": "db"}}, "spec.template.metadata.labels",
     "`selector` does not match template `labels`"),
    ("spec.template.spec.restartPolicy", "Never", "spec.template.spec.restartPolicy", 'supported values: "Always"'),
    ("spec.template.spec.activeDeadlineSeconds", 5, "spec.template.spec.activeDeadlineSeconds",
     "activeDeadlineSeconds in DaemonSet is not Supported"),
    ("spec.updateStrategy", {"type": "Sometimes"}, "spec.updateStrategy",
     'Unsupported value: "Sometimes": supported values: "RollingUpdate", "OnDelete"'),
    ("spec.updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}},
     "spec.updateStrategy.rollingUpdate.maxUnavailable", "Required value: cannot be 0 when maxSurge is 0"),
    ("spec.updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
     "spec.updateStrategy.rollingUpdate.maxSurge", "may not be set when maxUnavailable is non-zero"),
    ("spec.updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "150%"}},
     "spec.updateStrategy.rollingUpdate.maxUnavailable", "must not be greater than 100%"),
    ("spec.minReadySeconds", -1, "spec.minReadySeconds", "must be greater than or equal to 0"),
])
def test_daemonset_rule_fires(path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(DS, path, value), field, fragment)


@pytest.mark.parametrize("path,value,field,fragment", [
    ("spec.selector", {}, "spec.selector", "empty selector is invalid for statefulset"),
    ("spec.selector", DELETE, "spec.selector", "Required value"),
    ("spec.selector", {"matchLabels": {"app": "db"}}, "spec.template.metadata.labels",
     "`selector` does not match template `labels`"),
    ("spec.serviceName", "Web_1", "spec.serviceName", "a lowercase RFC 1123 label must consist of"),
    ("spec.podManagementPolicy", "Whenever", "spec.podManagementPolicy", "must be 'OrderedReady' or 'Parallel'"),
    ("spec.updateStrategy", {"type": "Sometimes"}, "spec.updateStrategy", "must be 'RollingUpdate' or 'OnDelete'"),
    ("spec.updateStrategy", {"type": "OnDelete", "rollingUpdate": {"partition": 1}},
     "spec.updateStrategy.rollingUpdate", "only allowed for updateStrategy 'RollingUpdate'"),
    ("spec.updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": -1}},
     "spec.updateStrategy.rollingUpdate.partition", "must be greater than or equal to 0"),
    ("spec.updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
     "spec.updateStrategy.rollingUpdate.maxUnavailable", "cannot be 0"),
    ("spec.persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Keep"},
     "spec.persistentVolumeClaimRetentionPolicy.whenDeleted", 'supported values: "Retain", "Delete"'),
    ("spec.ordinals", {"start": -1}, "spec.ordinals.start", "must be greater than or equal to 0"),
    ("spec.replicas", -1, "spec.replicas", "must be greater than or equal to 0"),
    ("spec.template.spec.activeDeadlineSeconds", 5, "spec.template.spec.activeDeadlineSeconds",
     "activeDeadlineSeconds in StatefulSet is not Supported"),
    ("spec.volumeClaimTemplates", [], "spec.template.spec.containers[0].volumeMounts[0].name", "Not found"),
])
def test_statefulset_rule_fires(path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(STS, path, value), field, fragment)


@pytest.mark.parametrize("path,value", [("spec.replicas", 5), ("spec.template.spec.containers.0.image", "nginx:2"),
                                        ("spec.updateStrategy", {"type": "OnDelete"}), ("spec.minReadySeconds", 5),
                                        ("spec.ordinals", {"start": 2})])
def test_statefulset_mutable_fields(path: str, value) -> None:
    assert violations(patched(STS, path, value), old=STS) == []


@pytest.mark.parametrize("path,value", [("spec.serviceName", "other"), ("spec.podManagementPolicy", "Parallel"),
                                        ("spec.volumeClaimTemplates.0.spec.accessModes", ["ReadWriteMany"]),
                                        ("spec.revisionHistoryLimit", 3)])
def test_statefulset_other_fields_are_forbidden_to_change(path: str, value) -> None:
    assert_violation(patched(STS, path, value), "spec", "Forbidden: updates to statefulset spec for fields other "
                     "than 'replicas', 'ordinals', 'template', 'updateStrategy', "
                     "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden", old=STS)


def test_daemonset_selector_is_immutable() -> None:
    changed = patched(patched(DS, "spec.selector", {"matchLabels": {"app": "web", "x": "y"}}),
                      "spec.template.metadata", {"labels": {"app": "web", "x": "y"}})
    assert_violation(changed, "spec.selector", "field is immutable", old=DS)


def test_controller_revision_rules() -> None:
    assert_violation(patched(CR, "data", DELETE), "data", "Required value: data is mandatory")
    assert_violation(patched(CR, "revision", -1), "revision", "must be greater than or equal to 0")
    assert_violation(patched(CR, "data", {"other": 1}), "data", "field is immutable", old=CR)
    assert violations(patched(CR, "revision", 7), old=CR) == []
