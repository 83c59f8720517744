"""Go's always-written structs: answers gain them (fill), bodies lose them again (drop); pointers keep an
empty value either way, as Go does."""

from __future__ import annotations

import copy

from control.apiserver.rest import gojson

DEPLOYMENT = "io.k8s.api.apps.v1.Deployment"


def _deployment() -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "creationTimestamp": "t"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"securityContext": {}, "containers": [{"name": "c", "image": "i"}],
                         "volumes": [{"name": "v", "emptyDir": {}}]}}}}


def test_fill_writes_value_structs_and_null_times() -> None:
    doc = gojson.fill(_deployment(), DEPLOYMENT)
    assert doc["status"] == {} and doc["spec"]["strategy"] == {}
    template = doc["spec"]["template"]
    assert template["metadata"] == {"labels": {"a": "b"}, "creationTimestamp": None}
    assert template["spec"]["containers"][0]["resources"] == {}
    assert doc["metadata"]["creationTimestamp"] == "t"
    assert "deletionTimestamp" not in doc["metadata"]  # a pointer: absent stays absent


def test_drop_undoes_fill_and_keeps_pointers() -> None:
    filled = gojson.fill(_deployment(), DEPLOYMENT)
    assert gojson.drop(copy.deepcopy(filled), DEPLOYMENT) == _deployment()
    kept = gojson.drop(_deployment(), DEPLOYMENT)["spec"]["template"]["spec"]
    assert kept["securityContext"] == {} and kept["volumes"][0]["emptyDir"] == {}
