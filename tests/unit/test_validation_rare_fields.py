"""Rarer fields Kubernetes validates or drops: Events with eventTime, Lease strategies, claims' data
sources, a Node's retired dynamic kubelet config."""

from __future__ import annotations

import pytest

from control.apiserver.registry.node import strategy as node_strategy
from control.apiserver.registry.persistentvolumeclaim import normalize_data_sources
from control.client.convert import from_dict, to_dict
from tests.fixtures.samples import EVENT, LEASE, NODE, PVC
from tests.fixtures.validation import assert_violation, patched, violations

NEW_EVENT = {**EVENT, "eventTime": "2026-01-02T03:04:05.000000Z", "reportingComponent": "skiff.io/agent",
             "reportingInstance": "node-a", "action": "Started"}


def test_core_events_are_checked_as_kubernetes_checks_v1_events() -> None:
    # The v1 API asks nothing of involvedObject or type (the events.k8s.io API does).
    assert violations(patched(patched(EVENT, "involvedObject", {}), "metadata.namespace", "default")) == []
    assert violations(patched(EVENT, "type", "Critical")) == []
    assert violations(NEW_EVENT) == []


@pytest.mark.parametrize("path, value, field, fragment", [
    ("reportingComponent", "", "reportingController", "Required value"),
    ("reportingComponent", "bad name!", "reportingController", "must consist of alphanumeric characters"),
    ("reportingInstance", "", "reportingInstance", "Required value"),
    ("reportingInstance", "i" * 129, "reportingInstance", 'Invalid value: "": can have at most 128 characters'),
    ("action", "", "action", "Required value"),
    ("reason", "r" * 129, "reason", "can have at most 128 characters"),
    ("message", "m" * 1025, "message", "can have at most 1024 characters"),
    ("involvedObject", {"kind": "Node", "name": "n"}, "involvedObject.namespace", "does not match event.namespace"),
])
def test_events_with_event_time_carry_their_reporter(path: str, value, field: str, fragment: str) -> None:
    obj = patched(NEW_EVENT, path, value)
    if path == "involvedObject":
        obj = patched(obj, "metadata.namespace", "team")
    assert_violation(obj, field, fragment)


def test_a_cluster_scoped_new_style_event_may_live_in_kube_system() -> None:
    node_event = patched(patched(NEW_EVENT, "involvedObject", {"kind": "Node", "name": "n"}),
                         "metadata.namespace", "kube-system")
    assert violations(node_event) == []


@pytest.mark.parametrize("spec, field, fragment", [
    ({"strategy": "Newest"}, "spec.strategy.strategy",
     'Unsupported value: "Newest": supported values: "OldestEmulationVersion"'),
    ({"strategy": "example.com/bad name"}, "spec.strategy.strategy", "name part must consist of"),
    ({"preferredHolder": "node-a"}, "spec.preferredHolder",
     "Forbidden: may only be specified if `strategy` is defined"),
])
def test_lease_strategy_and_preferred_holder(spec: dict, field: str, fragment: str) -> None:
    assert_violation(patched(LEASE, "spec", {**LEASE["spec"], **spec}), field, fragment)


def test_lease_strategies_kubernetes_knows_or_prefixed_are_valid() -> None:
    for strategy in ("OldestEmulationVersion", "example.com/mine"):
        assert violations(patched(LEASE, "spec", {"strategy": strategy, "preferredHolder": "a"})) == []


@pytest.mark.parametrize("spec, field, fragment", [
    ({"dataSource": {"kind": "PersistentVolumeClaim"}}, "spec.dataSource.name", "Required value"),
    ({"dataSourceRef": {"name": "x"}}, "spec.dataSourceRef.kind", "Required value"),
    ({"dataSourceRef": {"kind": "Pod", "name": "x"}}, "spec.dataSourceRef",
     "Invalid value: \"Pod\": must be 'PersistentVolumeClaim' when referencing the default apiGroup"),
    ({"dataSourceRef": {"apiGroup": "Snap_Shots", "kind": "VolumeSnapshot", "name": "x"}},
     "spec.dataSourceRef.apiGroup", "a lowercase RFC 1123 subdomain"),
    ({"dataSourceRef": {"kind": "PersistentVolumeClaim", "name": "x", "namespace": "Other_NS"}},
     "spec.dataSourceRef.namespace", "a lowercase RFC 1123 label"),
    ({"dataSource": {"kind": "PersistentVolumeClaim", "name": "a"},
      "dataSourceRef": {"kind": "PersistentVolumeClaim", "name": "b"}}, "spec", "must match dataSourceRef"),
    ({"dataSource": {"kind": "PersistentVolumeClaim", "name": "a"},
      "dataSourceRef": {"kind": "PersistentVolumeClaim", "name": "a", "namespace": "other"}}, "spec",
     "may not be specified when dataSourceRef.namespace is specified"),
])
def test_claim_data_sources(spec: dict, field: str, fragment: str) -> None:
    assert_violation(patched(PVC, "spec", {**PVC["spec"], **spec}), field, fragment)


def _normalized(spec: dict, old: dict | None = None) -> dict:
    claim = from_dict(patched(PVC, "spec", {**PVC["spec"], **spec}))
    before = from_dict(patched(PVC, "spec", {**PVC["spec"], **old})).spec if old is not None else None
    normalize_data_sources(claim.spec, before)
    out = to_dict(claim)["spec"]
    return {k: out[k] for k in ("dataSource", "dataSourceRef") if k in out}


def test_claim_data_sources_fill_each_other_and_odd_ones_are_dropped() -> None:
    snap = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "s"}
    assert _normalized({"dataSource": snap}) == {"dataSource": snap, "dataSourceRef": snap}
    populator = {"apiGroup": "example.com", "kind": "Populator", "name": "p"}
    assert _normalized({"dataSourceRef": populator}) == {"dataSource": populator, "dataSourceRef": populator}
    # dataSource alone may name only a claim or a snapshot: anything else is dropped, as no source
    assert _normalized({"dataSource": populator}) == {}
    assert _normalized({"dataSource": populator}, old={"dataSource": populator}) == {
        "dataSource": populator, "dataSourceRef": populator}
    # cross-namespace sources are an alpha feature: the namespace is dropped
    claim = {"kind": "PersistentVolumeClaim", "name": "c"}
    assert _normalized({"dataSourceRef": {**claim, "namespace": "other"}}) == {"dataSource": claim,
                                                                               "dataSourceRef": claim}


def test_node_config_source_is_dropped_as_kubernetes_drops_it() -> None:
    config = {"configMap": {"name": "kubelet", "namespace": "kube-system", "kubeletConfigKey": "kubelet"}}
    node = from_dict(patched(patched(NODE, "spec", {**NODE["spec"], "configSource": config}), "status",
                             {**NODE["status"], "config": {"error": "x"}}))
    node_strategy.prepare_for_create(node)
    assert not node.spec.HasField("config_source") and not node.status.HasField("config")
    assert dict(node.status.capacity) == NODE["status"]["capacity"]  # the rest of the status stays
    old = from_dict(NODE)
    new = from_dict(patched(NODE, "spec", {**NODE["spec"], "configSource": config}))
    node_strategy.prepare_for_update(new, old)
    assert not new.spec.HasField("config_source")
    kept = from_dict(patched(NODE, "spec", {**NODE["spec"], "configSource": config}))
    node_strategy.prepare_for_update(kept, kept)
    assert kept.spec.HasField("config_source")


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"containers": [{"name": "a", "image": "busybox",
                                "resources": {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}},
                               {"name": "b", "image": "busybox", "resources": {"requests": {"cpu": "700m"}}}]}}


@pytest.mark.parametrize("resources, field, fragment", [
    ({"limits": {"ephemeral-storage": "1Gi", "cpu": "2"}}, "spec.resources.limits[ephemeral-storage]",
     'Unsupported value: "ephemeral-storage": supported values: "cpu", "hugepages-", "memory"'),
    ({"requests": {"cpu": "1"}, "limits": {"cpu": "2", "memory": "2Gi"}}, "spec.resources.requests[cpu]",
     'Invalid value: "1": must be greater than or equal to aggregate container requests of 1200m'),
    ({"requests": {"cpu": "3"}, "limits": {"cpu": "2", "memory": "2Gi"}}, "spec.resources.requests[cpu]",
     "must be less than or equal to cpu limit of 2"),
    ({"limits": {"cpu": "2", "memory": "512Mi"}}, "spec.resources.containers[0][memory].limits",
     'Invalid value: "1Gi": must be less than or equal to pod limits of 512Mi'),
])
def test_pod_level_resources(resources: dict, field: str, fragment: str) -> None:
    assert_violation(patched(POD, "spec", {**POD["spec"], "resources": resources}), field, fragment)


def test_pod_level_resources_that_cover_the_containers_are_valid() -> None:
    covering = {"limits": {"cpu": "2", "memory": "2Gi"}}
    assert violations(patched(POD, "spec", {**POD["spec"], "resources": covering})) == []


def test_node_provider_id_is_set_once_and_external_id_never_changes() -> None:
    with_id = patched(NODE, "spec", {**NODE["spec"], "providerID": "kind://docker/a"})
    assert violations(with_id, old=NODE) == []  # from "" to a value
    assert_violation(patched(NODE, "spec", {**NODE["spec"], "providerID": "kind://docker/b"}), "spec.providerID",
                     'Forbidden: node updates may not change providerID except from "" to valid', old=with_id)
    assert_violation(patched(NODE, "spec", {**NODE["spec"], "externalID": "x"}), "spec.externalID",
                     "Forbidden: may not be updated", old=NODE)
