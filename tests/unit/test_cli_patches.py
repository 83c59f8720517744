"""Strategic merge, JSON merge and JSON patches on plain objects."""

from __future__ import annotations

import pytest

from control.client.kinds import lookup
from control.client.patches import PatchError, json_patch, merge_patch, strategic_merge

POD = lookup("Pod").message.DESCRIPTOR
DEPLOYMENT = lookup("Deployment").message.DESCRIPTOR
SERVICE = lookup("Service").message.DESCRIPTOR


def _pod() -> dict:
    return {"metadata": {"name": "p", "labels": {"app": "web", "tier": "fe"}, "finalizers": ["a"]},
            "spec": {"containers": [
                {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}, {"containerPort": 443}],
                 "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "sidecar", "image": "busybox"}],
                "volumes": [{"name": "data", "emptyDir": {}}],
                "tolerations": [{"key": "x", "operator": "Exists"}]}}


def test_containers_merge_by_name_and_nested_keys():
    patch = {"spec": {"containers": [{"name": "web", "image": "nginx:2",
                                      "ports": [{"containerPort": 443, "name": "https"}, {"containerPort": 8080}],
                                      "env": [{"name": "B", "value": "3"}]}]}}
    out = strategic_merge(_pod(), patch, POD)
    web, sidecar = out["spec"]["containers"]
    assert web["image"] == "nginx:2" and sidecar == {"name": "sidecar", "image": "busybox"}
    assert web["ports"] == [{"containerPort": 80}, {"containerPort": 443, "name": "https"}, {"containerPort": 8080}]
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]


def test_new_element_appended_and_lists_without_key_replaced():
    patch = {"spec": {"containers": [{"name": "new", "image": "x"}],
                      "tolerations": [{"key": "y", "operator": "Exists"}]}}
    out = strategic_merge(_pod(), patch, POD)
    assert [c["name"] for c in out["spec"]["containers"]] == ["web", "sidecar", "new"]
    assert out["spec"]["tolerations"] == [{"key": "y", "operator": "Exists"}]


def test_null_deletes_and_maps_merge():
    out = strategic_merge(_pod(), {"metadata": {"labels": {"tier": None, "v": "2"}}}, POD)
    assert out["metadata"]["labels"] == {"app": "web", "v": "2"}


def test_patch_delete_in_list_and_map():
    out = strategic_merge(_pod(), {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}],
                                            "volumes": [{"name": "data", "$patch": "delete"}]}}, POD)
    assert [c["name"] for c in out["spec"]["containers"]] == ["web"] and out["spec"]["volumes"] == []
    out = strategic_merge(_pod(), {"metadata": {"labels": {"$patch": "delete"}}}, POD)
    assert out["metadata"]["labels"] == {}


def test_patch_replace_in_list_and_map():
    out = strategic_merge(_pod(), {"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}},
                          POD)
    assert out["spec"]["containers"] == [{"name": "only", "image": "x"}]
    out = strategic_merge(_pod(), {"metadata": {"labels": {"$patch": "replace", "z": "1"}}}, POD)
    assert out["metadata"]["labels"] == {"z": "1"}


def test_scalar_union_and_delete_from_primitive_list():
    out = strategic_merge(_pod(), {"metadata": {"finalizers": ["b", "a"]}}, POD)
    assert out["metadata"]["finalizers"] == ["a", "b"]
    out = strategic_merge(_pod(), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, POD)
    assert out["metadata"]["finalizers"] == []


def test_retain_keys_and_set_element_order():
    patch = {"spec": {"volumes": [{"name": "data", "hostPath": {"path": "/x"}, "$retainKeys": ["hostPath", "name"]}]}}
    out = strategic_merge(_pod(), patch, POD)
    assert out["spec"]["volumes"] == [{"name": "data", "hostPath": {"path": "/x"}}]
    patch = {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}]}}
    assert [c["name"] for c in strategic_merge(_pod(), patch, POD)["spec"]["containers"]] == ["sidecar", "web"]


def test_pod_template_and_service_ports():
    deploy = {"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a", "image": "1"}]}}}}
    out = strategic_merge(deploy, {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "2"}]}}}},
                          DEPLOYMENT)
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "a", "image": "2"}]
    svc = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    out = strategic_merge(svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}, SERVICE)
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_missing_merge_key():
    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        strategic_merge(_pod(), {"spec": {"containers": [{"image": "x"}]}}, POD)


def test_merge_patch_replaces_lists():
    out = merge_patch(_pod(), {"spec": {"containers": [{"name": "x", "image": "y"}]}, "metadata": {"finalizers": None}})
    assert out["spec"]["containers"] == [{"name": "x", "image": "y"}] and "finalizers" not in out["metadata"]


def test_json_patch_operations():
    doc = _pod()
    out = json_patch(doc, [
        {"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:3"},
        {"op": "add", "path": "/metadata/labels/new~1key", "value": "v"},
        {"op": "remove", "path": "/spec/containers/1"},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "z"},
        {"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/name"},
        {"op": "move", "from": "/metadata/labels/tier", "path": "/metadata/labels/layer"},
        {"op": "test", "path": "/spec/containers/0/image", "value": "nginx:3"},
    ])
    assert out["spec"]["containers"][0]["image"] == "nginx:3" and len(out["spec"]["containers"]) == 1
    assert out["metadata"]["labels"] == {"app": "web", "new/key": "v", "name": "p", "layer": "fe"}
    assert out["metadata"]["finalizers"] == ["a", "z"]
    assert doc["spec"]["containers"][0]["image"] == "nginx:1"  # the original is untouched
    with pytest.raises(PatchError, match="test failed"):
        json_patch(doc, [{"op": "test", "path": "/metadata/name", "value": "q"}])
    with pytest.raises(PatchError, match="missing value"):
        json_patch(doc, [{"op": "remove", "path": "/metadata/nothere"}])
    with pytest.raises(PatchError, match="out of bounds"):
        json_patch(doc, [{"op": "replace", "path": "/spec/containers/5", "value": {}}])
