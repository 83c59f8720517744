"""ConfigMap, Secret, Event, Lease, Node and Namespace validation; names per kind."""

from __future__ import annotations

import base64

import pytest

from tests.fixtures.samples import EVENT, LEASE, NODE
from tests.fixtures.validation import assert_violation, patched, violations


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"},
      "data": {"app.conf": "x=1", "KEY_2": "v"}, "binaryData": {"blob.bin": b64("\x00\x01")}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "default"},
          "data": {"password": b64("hunter2")}, "stringData": {"user": "admin"}}
NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}}








@pytest.mark.parametrize("obj", [CM, SECRET, EVENT, LEASE, NODE, NS],
                         ids=["configmap", "secret", "event", "lease", "node", "namespace"])
def test_valid(obj: dict) -> None:
    assert violations(obj) == []


@pytest.mark.parametrize("obj, path, value, field, fragment", [
    # names per kind
    (NS, "metadata.name", "dev.team", "metadata.name", "a lowercase RFC 1123 label"),
    (NS, "metadata.name", "a" * 64, "metadata.name", "must be no more than 63 characters"),
    (NODE, "metadata.name", "Node_A", "metadata.name", "a lowercase RFC 1123 subdomain"),
    (CM, "metadata.name", "-cfg", "metadata.name", "a lowercase RFC 1123 subdomain"),
    (LEASE, "metadata.name", "Lease", "metadata.name", "a lowercase RFC 1123 subdomain"),
    (NODE, "metadata.namespace", "default", "metadata.namespace", "Forbidden: not allowed on this type"),
    (NS, "metadata.namespace", "default", "metadata.namespace", "Forbidden: not allowed on this type"),
    # ConfigMap
    (CM, "data", {"bad key": "x"}, "data[bad key]", "a valid config key must consist of"),
    (CM, "data", {"..": "x"}, "data[..]", "must not be '..'"),
    (CM, "data", {"..x": "x"}, "data[..x]", "must not start with '..'"),
    (CM, "data", {"k" * 254: "x"}, f"data[{'k' * 254}]", "must be no more than 253 characters"),
    (CM, "binaryData", {"app.conf": b64("y")}, "binaryData[app.conf]", "duplicate of key present in `data`"),
    (CM, "data", {"big": "x" * (1024 * 1024 + 1)}, "data", "Too long: must have at most 1048576 bytes"),
    # Secret
    (SECRET, "data", {"bad/key": b64("x")}, "data[bad/key]", "a valid config key must consist of"),
    (SECRET, "stringData", {"bad key": "x"}, "stringData[bad key]", "a valid config key must consist of"),
    (SECRET, "type", "kubernetes.io/tls", "data[tls.crt]", "Required value"),
    (SECRET, "type", "kubernetes.io/ssh-auth", "data[ssh-privatekey]", "Required value"),
    (SECRET, "type", "kubernetes.io/dockerconfigjson", "data[.dockerconfigjson]", "Required value"),
    (SECRET, "type", "kubernetes.io/service-account-token",
     "metadata.annotations[kubernetes.io/service-account.name]", "Required value"),
    (SECRET, "data", {"big": b64("x" * (1024 * 1024 + 1))}, "data", "Too long: must have at most 1048576 bytes"),
    # Event
    (EVENT, "involvedObject", {"kind": "Pod", "name": "web", "namespace": "other"}, "involvedObject.namespace",
     "does not match event.namespace"),
    # Lease
    (LEASE, "spec.leaseDurationSeconds", 0, "spec.leaseDurationSeconds", "must be greater than 0"),
    (LEASE, "spec.leaseTransitions", -1, "spec.leaseTransitions", "must be greater than or equal to 0"),
    # Node
    (NODE, "spec.podCIDR", "10.244.1.0", "spec.podCIDR", "must be a valid CIDR value"),
    (NODE, "spec.podCIDRs", ["10.244.2.0/24"], "spec.podCIDRs", "first value must match `podCIDR`"),
    (NODE, "spec.taints", [{"key": "a", "effect": "NoSleep"}], "spec.taints[0].effect", 'Unsupported value: "NoSleep"'),
    (NODE, "spec.taints", [{"key": "a"}], "spec.taints[0].effect", "Required value"),
    (NODE, "spec.taints", [{"effect": "NoSchedule"}], "spec.taints[0].key", "Required value"),
    (NODE, "spec.taints", [{"key": "a", "value": "x y", "effect": "NoSchedule"}], "spec.taints[0].value",
     "a valid label must be"),
    (NODE, "spec.taints", [{"key": "a", "effect": "NoSchedule"}, {"key": "a", "value": "b", "effect": "NoSchedule"}],
     "spec.taints[1]", "taints must be unique by key and effect pair"),
    (NODE, "status.capacity", {"cpu": "two"}, "status.capacity[cpu]", "quantities must match"),
    (NODE, "status.addresses", [{"type": "InternalIP", "address": "node-a"}], "status.addresses[0].address",
     "must be a valid IP address"),
    # Namespace
    (NS, "spec", {"finalizers": ["bad finalizer"]}, "spec.finalizers", "name part must consist of"),
])
def test_rule_fires(obj: dict, path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(obj, path, value), field, fragment)


def test_secret_types_with_their_keys_are_valid() -> None:
    tls = patched(SECRET, "type", "kubernetes.io/tls")
    tls = patched(tls, "data", {"tls.crt": b64("c"), "tls.key": b64("k")})
    assert violations(tls) == []
    docker = patched(patched(SECRET, "type", "kubernetes.io/dockerconfigjson"), "data",
                     {".dockerconfigjson": b64('{"auths": {}}')})
    assert violations(docker) == []
    bad_json = patched(docker, "data", {".dockerconfigjson": b64("{nope")})
    assert_violation(bad_json, "data[.dockerconfigjson]", "Invalid value")
    basic = patched(patched(SECRET, "type", "kubernetes.io/basic-auth"), "data", {"token": b64("x")})
    basic = patched(basic, "stringData", {})
    assert_violation(basic, "data[username]", "Required value")


def test_cluster_scoped_event_lives_in_default() -> None:
    node_event = patched(EVENT, "involvedObject", {"kind": "Node", "name": "node-a"})
    assert violations(node_event) == []
    assert_violation(patched(node_event, "metadata.namespace", "kube-system"), "involvedObject.namespace",
                     "does not match event.namespace")


def test_immutable_configmap_and_secret() -> None:
    frozen = patched(CM, "immutable", True)
    assert violations(frozen, old=frozen) == []
    assert_violation(patched(frozen, "data", {"app.conf": "x=2"}), "data",
                     "Forbidden: field is immutable when `immutable` is set", old=frozen)
    assert_violation(patched(frozen, "immutable", False), "immutable", "field is immutable when `immutable` is set",
                     old=frozen)
    assert violations(patched(CM, "data", {"a": "b"}), old=CM) == []  # mutable by default
    assert violations(frozen, old=CM) == []  # may become immutable
    secret = patched(SECRET, "immutable", True)
    assert_violation(patched(secret, "data", {"password": b64("other")}), "data", "field is immutable", old=secret)


def test_secret_type_is_immutable() -> None:
    tls = patched(patched(SECRET, "type", "kubernetes.io/tls"), "data", {"tls.crt": b64("c"), "tls.key": b64("k")})
    opaque = patched(tls, "type", "Opaque")
    assert_violation(tls, "type", 'Invalid value: "kubernetes.io/tls": field is immutable', old=opaque)


def test_node_pod_cidr_may_only_be_set_once() -> None:
    bare = patched(patched(NODE, "spec.podCIDR", ""), "spec.podCIDRs", [])
    assert violations(NODE, old=bare) == []
    other = patched(patched(NODE, "spec.podCIDR", "10.244.9.0/24"), "spec.podCIDRs", ["10.244.9.0/24"])
    assert_violation(other, "spec.podCIDR", "node updates may not change podCIDR", old=NODE)


def test_name_is_immutable_for_every_kind() -> None:
    for obj in (CM, SECRET, EVENT, LEASE, NODE, NS):
        assert_violation(patched(obj, "metadata.name", "renamed"), "metadata.name", "field is immutable", old=obj)
