"""PersistentVolume, PersistentVolumeClaim and StorageClass defaults, validation and printing; the
pod volume sources persistentVolumeClaim and ephemeral."""

from __future__ import annotations

import pytest

from control.apiserver.registry import apply_defaults
from control.cli.printers import format_table
from control.client.convert import from_dict
from tests.fixtures.samples import PVC
from tests.fixtures.validation import DELETE, assert_violation, patched, violations

PV = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
      "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data/pv1"}}}
SC = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"},
      "provisioner": "example.com/fast"}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
       "spec": {"containers": [{"name": "c", "image": "busybox:1",
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}


def defaulted(obj: dict):
    msg = from_dict(obj)
    apply_defaults(msg)
    return msg


@pytest.mark.parametrize("obj", [PV, PVC, SC, POD])
def test_valid(obj):
    assert violations(obj) == []


def test_defaults():
    pv, pvc, sc = defaulted(PV), defaulted(PVC), defaulted(SC)
    assert (pv.spec.persistent_volume_reclaim_policy, pv.spec.volume_mode) == ("Retain", "Filesystem")
    assert pvc.spec.volume_mode == "Filesystem" and not pvc.spec.HasField("storage_class_name")
    assert (sc.reclaim_policy, sc.volume_binding_mode) == ("Delete", "Immediate")


@pytest.mark.parametrize("path,value,field,fragment", [
    ("spec.accessModes", [], "spec.accessModes", "Required value"),
    ("spec.accessModes", ["ReadWriteSometimes"], "spec.accessModes",
     'Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", '
     '"ReadWriteOnce", "ReadWriteOncePod"'),
    ("spec.accessModes", ["ReadWriteOncePod", "ReadOnlyMany"], "spec.accessModes",
     "may not use ReadWriteOncePod with other access modes"),
    ("spec.capacity", DELETE, "spec.capacity", "Required value"),
    ("spec.capacity", {"storage": "0"}, "spec.capacity[storage]", 'Invalid value: "0": must be greater than zero'),
    ("spec.capacity", {"storage": "1Gi", "cpu": "1"}, "spec.capacity", 'supported values: "storage"'),
    ("spec.hostPath", DELETE, "spec", "Required value: must specify a volume type"),
    ("spec.nfs", {"server": "nas", "path": "/export"}, "spec.nfs", "may not specify more than 1 volume type"),
    ("spec.persistentVolumeReclaimPolicy", "Keep", "spec.persistentVolumeReclaimPolicy",
     'supported values: "Delete", "Recycle", "Retain"'),
    ("spec.volumeMode", "Raw", "spec.volumeMode", 'supported values: "Block", "Filesystem"'),
    ("spec.storageClassName", "Fast_", "spec.storageClassName", "RFC 1123 subdomain"),
    ("spec.hostPath", {"path": "/a/../b"}, "spec.hostPath.path", "must not contain '..'"),
])
def test_pv_violations(path, value, field, fragment):
    assert_violation(patched(PV, path, value), field, fragment)


def test_pv_local_needs_node_affinity_and_source_is_immutable():
    local = patched(patched(PV, "spec.hostPath", DELETE), "spec.local", {"path": "/mnt/disk"})
    assert_violation(local, "spec.nodeAffinity", "Local volume requires node affinity")
    moved = patched(PV, "spec.hostPath", {"path": "/data/other"})
    assert_violation(moved, "spec.persistentvolumesource", "immutable after creation", old=PV)
    assert violations(patched(PV, "spec.capacity", {"storage": "2Gi"}), old=PV) == []


@pytest.mark.parametrize("path,value,field,fragment", [
    ("spec.accessModes", [], "spec.accessModes", "Required value: at least 1 access mode is required"),
    ("spec.resources", {}, "spec.resources[storage]", "Required value"),
    ("spec.resources.requests", {"storage": "0"}, "spec.resources[storage]", "must be greater than zero"),
    ("spec.volumeMode", "Raw", "spec.volumeMode", "Unsupported value"),
    ("spec.selector", {"matchExpressions": [{"key": "a", "operator": "Near"}]},
     "spec.selector.matchExpressions[0].operator", "not a valid selector operator"),
])
def test_claim_violations(path, value, field, fragment):
    assert_violation(patched(PVC, path, value), field, fragment)


def test_claim_update_rules():
    bound = patched(patched(PVC, "spec.volumeName", "pv1"), "status", {"phase": "Bound"})
    grown = patched(bound, "spec.resources.requests", {"storage": "1Gi"})
    assert violations(grown, old=bound) == []
    shrunk = patched(bound, "spec.resources.requests", {"storage": "256Mi"})
    assert_violation(shrunk, "spec.resources.requests.storage", "can not be less than previous value", old=bound)
    assert_violation(patched(PVC, "spec.resources.requests", {"storage": "1Gi"}), "spec",
                     "spec is immutable after creation except resources.requests", old=PVC)
    assert_violation(patched(PVC, "spec.accessModes", ["ReadWriteMany"]), "spec", "immutable", old=PVC)
    assert violations(patched(PVC, "spec.volumeName", "pv1"), old=PVC) == []  # the binder sets it once
    assert violations(patched(PVC, "spec.storageClassName", "fast"), old=PVC) == []  # retroactive default
    assert_violation(patched(bound, "spec.volumeName", "pv2"), "spec", "immutable", old=bound)


@pytest.mark.parametrize("path,value,field,fragment", [
    ("provisioner", DELETE, "provisioner", "Required value"),
    ("reclaimPolicy", "Recycle", "reclaimPolicy", 'supported values: "Delete", "Retain"'),
    ("volumeBindingMode", "Later", "volumeBindingMode", 'supported values: "Immediate", "WaitForFirstConsumer"'),
])
def test_storage_class_violations(path, value, field, fragment):
    assert_violation(patched(SC, path, value), field, fragment)


def test_storage_class_update_rules():
    assert_violation(patched(SC, "parameters", {"type": "ssd"}), "parameters", "updates to parameters are forbidden.",
                     old=SC)
    assert_violation(patched(SC, "provisioner", "other.io/x"), "provisioner", "updates to provisioner are forbidden.",
                     old=SC)
    assert violations(patched(SC, "allowVolumeExpansion", True), old=SC) == []


def test_pod_claim_and_ephemeral_sources():
    assert_violation(patched(POD, "spec.volumes.0.persistentVolumeClaim", {}),
                     "spec.volumes[0].persistentVolumeClaim.claimName", "Required value")
    eph = patched(POD, "spec.volumes.0", {"name": "data", "ephemeral": {"volumeClaimTemplate": {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}})
    assert violations(eph) == []
    assert defaulted(eph).spec.volumes[0].ephemeral.volume_claim_template.spec.volume_mode == "Filesystem"
    bad = patched(eph, "spec.volumes.0.ephemeral.volumeClaimTemplate.spec.accessModes", [])
    assert_violation(bad, "spec.volumes[0].ephemeral.volumeClaimTemplate.spec.accessModes", "Required value")
    both = violations(patched(POD, "spec.volumes.0.ephemeral", {}))
    assert any(d == "Forbidden: may not specify more than 1 volume type" for _, d in both), both


def test_allowed_topologies():
    zone = "topology.kubernetes.io/zone"
    ok = patched(SC, "allowedTopologies", [{"matchLabelExpressions": [{"key": zone, "values": ["a", "b"]}]}])
    assert violations(ok) == []
    p = "allowedTopologies[0].matchLabelExpressions[0]"
    assert_violation(patched(SC, "allowedTopologies", [{"matchLabelExpressions": [{"key": zone}]}]),
                     f"{p}.values", "Required value: must specify as least one value")
    def terms(key: str, *values: str) -> dict:
        return patched(SC, "allowedTopologies", [{"matchLabelExpressions": [{"key": key, "values": list(values)}]}])
    assert_violation(terms(zone, "a", "a"), f"{p}.values[1]", 'Duplicate value: "a"')
    assert_violation(terms("bad key", "a"), f"{p}.key", "name part must consist of")
    term = {"matchLabelExpressions": [{"key": zone, "values": ["a"]}]}
    assert_violation(patched(SC, "allowedTopologies", [term, term]), "allowedTopologies[1].matchLabelExpressions",
                     "Duplicate value")


def _table(kind: str, obj: dict, wide: bool = False) -> list[list[str]]:
    text = format_table(kind, [defaulted(obj)], wide, False)
    return [line.split() for line in text.splitlines()]


def test_printers():
    pv = patched(patched(PV, "spec.claimRef", {"namespace": "default", "name": "data"}), "status",
                 {"phase": "Bound"})
    pv = patched(pv, "spec.storageClassName", "manual")
    header, row = _table("PersistentVolume", pv)
    assert " ".join(header).startswith("NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS "
                                       "VOLUMEATTRIBUTESCLASS REASON AGE")
    assert row[:8] == ["pv1", "1Gi", "RWO", "Retain", "Bound", "default/data", "manual", "<unset>"]
    assert _table("PersistentVolume", pv, wide=True)[1][-1] == "Filesystem"
    pvc = patched(patched(PVC, "spec.volumeName", "pv1"), "status",
                  {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce", "ReadWriteMany"]})
    pvc = patched(pvc, "spec.storageClassName", "manual")
    header, row = _table("PersistentVolumeClaim", pvc)
    assert header == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS",
                      "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert row[:7] == ["data", "Bound", "pv1", "1Gi", "RWO,RWX", "manual", "<unset>"]
    sc = patched(SC, "metadata.annotations", {"storageclass.kubernetes.io/is-default-class": "true"})
    header, row = _table("StorageClass", sc)
    assert header == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]
    assert row[:6] == ["fast", "(default)", "example.com/fast", "Delete", "Immediate", "false"]
