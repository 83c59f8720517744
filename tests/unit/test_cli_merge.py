"""skiffctl apply's merge: manifest fields win, server-set fields stay, dropped fields go."""

from __future__ import annotations

import base64
import json

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from control.cli.errors import describe_rpc_error
from control.cli.merge import normalize_secret, previous_applied, three_way, with_last_applied
from control.client.wellknown import ANNOTATION_LAST_APPLIED


def test_server_fields_survive_and_manifest_wins():
    live = {"spec": {"clusterIP": "10.96.0.5", "type": "NodePort", "selector": {"app": "a"},
                     "ports": [{"port": 80, "nodePort": 30001, "protocol": "TCP", "targetPort": 8080}]},
            "status": {"loadBalancer": {}}}
    modified = {"spec": {"type": "NodePort", "selector": {"app": "b"}, "ports": [{"port": 80, "targetPort": 9090}]}}
    merged = three_way({}, modified, live)
    assert merged["spec"]["clusterIP"] == "10.96.0.5"
    assert merged["spec"]["selector"] == {"app": "b"}
    assert merged["spec"]["ports"] == [{"port": 80, "nodePort": 30001, "protocol": "TCP", "targetPort": 9090}]
    assert merged["status"] == {"loadBalancer": {}}


def test_replicas_kept_when_manifest_never_set_them_and_dropped_fields_removed():
    original = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"minReadySeconds": 5}}
    modified = {"metadata": {"labels": {"a": "1"}}, "spec": {}}
    live = {"metadata": {"labels": {"a": "1", "b": "2", "added-by-someone": "x"}, "uid": "u"},
            "spec": {"replicas": 7, "minReadySeconds": 5}}
    merged = three_way(original, modified, live)
    assert merged["spec"] == {"replicas": 7}
    assert merged["metadata"] == {"labels": {"a": "1", "added-by-someone": "x"}, "uid": "u"}


def test_containers_merge_by_name():
    live = {"containers": [{"name": "a", "image": "1", "imagePullPolicy": "IfNotPresent"},
                           {"name": "b", "image": "1"}, {"name": "injected", "image": "1"}]}
    original = {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}
    modified = {"containers": [{"name": "a", "image": "2"}]}
    merged = three_way(original, modified, live)
    assert merged["containers"] == [{"name": "a", "image": "2", "imagePullPolicy": "IfNotPresent"},
                                    {"name": "injected", "image": "1"}]


def test_lists_without_merge_key_keep_server_additions_until_the_manifest_changes_them():
    toleration = {"key": "k", "operator": "Exists"}
    added = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300}
    live = {"tolerations": [toleration, added]}
    assert three_way({"tolerations": [toleration]}, {"tolerations": [toleration]}, live) == live
    changed = {"tolerations": [{"key": "other", "operator": "Exists"}]}
    assert three_way({"tolerations": [toleration]}, changed, live) == changed


def test_last_applied_round_trip():
    manifest = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    annotated = with_last_applied(manifest)
    assert json.loads(annotated["metadata"]["annotations"][ANNOTATION_LAST_APPLIED]) == manifest
    assert previous_applied(annotated) == manifest
    assert "annotations" not in manifest["metadata"]


def test_secret_string_data_folds_into_data():
    secret = {"kind": "Secret", "data": {"a": "eA=="}, "stringData": {"b": "hello", "a": "y"}}
    folded = normalize_secret(secret)
    assert "stringData" not in folded
    assert {k: base64.b64decode(v).decode() for k, v in folded["data"].items()} == {"a": "y", "b": "hello"}


class _FakeError(grpc.RpcError):
    def __init__(self, code, details, violations=()):
        self._code, self._details = code, details
        status = status_pb2.Status(code=code.value[0], message=details)
        if violations:
            bad = error_details_pb2.BadRequest(field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations])
            detail = any_pb2.Any()
            detail.Pack(bad)
            status.details.append(detail)
        self._trailers = (("grpc-status-details-bin", status.SerializeToString()),)

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailers


def test_error_messages_read_like_kubectl():
    err = _FakeError(grpc.StatusCode.NOT_FOUND, 'pods "x" not found')
    assert describe_rpc_error(err, "s") == 'Error from server (NotFound): pods "x" not found'
    err = _FakeError(grpc.StatusCode.INVALID_ARGUMENT, "invalid",
                     [("spec.template.spec.containers[0].image", "Required value")])
    assert describe_rpc_error(err, "s", "Deployment", "web") == \
        'The Deployment "web" is invalid: spec.template.spec.containers[0].image: Required value'
    err = _FakeError(grpc.StatusCode.INVALID_ARGUMENT, "invalid", [("a", "Required value"), ("b", "Invalid value")])
    assert describe_rpc_error(err, "s", "Pod", "p") == \
        'The Pod "p" is invalid: \n* a: Required value\n* b: Invalid value'
    err = _FakeError(grpc.StatusCode.UNAVAILABLE, "connect failed")
    assert "The connection to the server 127.0.0.1:1 was refused" in describe_rpc_error(err, "127.0.0.1:1")
