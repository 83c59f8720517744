"""PATCH bodies: JSON merge patch, JSON patch and strategic merge patch with Kubernetes' merge keys."""

from __future__ import annotations

import pytest

from control.apiserver.rest.patch import PatchError, apply_patch
from control.client.kinds import KINDS
from control.client.patches import json_patch, merge_patch, strategic_merge

POD_TYPE = KINDS["Pod"].message.DESCRIPTOR

POD = {"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}, "finalizers": ["x"]},
       "spec": {"containers": [{"name": "app", "image": "app:1", "ports": [{"containerPort": 80, "name": "http"}],
                                "env": [{"name": "A", "value": "1"}]},
                               {"name": "side", "image": "side:1"}],
                "tolerations": [{"key": "k"}]}}


def test_merge_patch_sets_removes_and_replaces_lists() -> None:
    out = merge_patch(POD, {"metadata": {"labels": {"a": None, "c": "3"}}, "spec": {"tolerations": []}})
    assert out["metadata"]["labels"] == {"b": "2", "c": "3"} and out["spec"]["tolerations"] == []
    assert POD["metadata"]["labels"] == {"a": "1", "b": "2"}  # the original is untouched


def test_json_patch_operations() -> None:
    out = json_patch(POD, [{"op": "add", "path": "/metadata/labels/c", "value": "3"},
                           {"op": "remove", "path": "/metadata/labels/a"},
                           {"op": "replace", "path": "/spec/containers/1/image", "value": "side:2"},
                           {"op": "add", "path": "/metadata/finalizers/-", "value": "y"},
                           {"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/name"},
                           {"op": "move", "from": "/metadata/labels/b", "path": "/metadata/labels/moved"},
                           {"op": "test", "path": "/metadata/labels/moved", "value": "2"},
                           {"op": "add", "path": "/metadata/labels/a~1b", "value": "slash"}])
    assert out["metadata"]["labels"] == {"c": "3", "name": "p", "moved": "2", "a/b": "slash"}
    assert out["spec"]["containers"][1]["image"] == "side:2" and out["metadata"]["finalizers"] == ["x", "y"]


@pytest.mark.parametrize("ops", [
    [{"op": "remove", "path": "/metadata/nothing"}],
    [{"op": "test", "path": "/metadata/name", "value": "other"}],
    [{"op": "replace", "path": "/spec/containers/9/image", "value": "x"}],
    [{"op": "frobnicate", "path": "/metadata"}],
    {"op": "add"},
])
def test_json_patch_failures(ops) -> None:
    with pytest.raises(PatchError):
        json_patch(POD, ops)


def test_strategic_merge_by_keys_and_directives() -> None:
    patch = {"metadata": {"finalizers": ["y"], "labels": {"a": None}},
             "spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                      "containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}],
                                      "ports": [{"containerPort": 80, "name": "web"}]},
                                     {"name": "new", "image": "new:1"}],
                      "tolerations": [{"key": "other"}]}}
    out = strategic_merge(POD, patch, POD_TYPE)
    by_name = {c["name"]: c for c in out["spec"]["containers"]}
    assert [c["name"] for c in out["spec"]["containers"]][:2] == ["side", "app"]
    assert by_name["app"]["image"] == "app:2" and by_name["side"]["image"] == "side:1" and "new" in by_name
    assert by_name["app"]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert by_name["app"]["ports"] == [{"containerPort": 80, "name": "web"}]
    assert out["spec"]["tolerations"] == [{"key": "other"}]  # no merge key: replaced
    assert out["metadata"]["finalizers"] == ["x", "y"] and out["metadata"]["labels"] == {"b": "2"}


def test_strategic_delete_replace_and_primitive_list_directives() -> None:
    out = strategic_merge(POD, {"spec": {"containers": [{"name": "side", "$patch": "delete"}]},
                                "$deleteFromPrimitiveList/x": [], "metadata": {
                                    "$deleteFromPrimitiveList/finalizers": ["x"]}}, POD_TYPE)
    assert [c["name"] for c in out["spec"]["containers"]] == ["app"] and out["metadata"]["finalizers"] == []
    replaced = strategic_merge(POD, {"metadata": {"labels": {"$patch": "replace", "only": "1"}}}, POD_TYPE)
    assert replaced["metadata"]["labels"] == {"only": "1"}
    retained = strategic_merge(POD, {"spec": {"$retainKeys": ["containers"], "containers": []}}, POD_TYPE)
    assert set(retained["spec"]) == {"containers"}


def test_unknown_patch_type() -> None:
    with pytest.raises(PatchError):
        apply_patch("application/apply-patch+yaml", POD, {})
