"""Ingress, IngressClass and NetworkPolicy validation and defaults: Kubernetes' field paths and messages."""

from __future__ import annotations

import pytest

from control.apiserver.registry import apply_defaults
from control.client.convert import from_dict, to_dict
from tests.fixtures.validation import assert_violation, patched, violations

INGRESS = {
    "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "default"},
    "spec": {"ingressClassName": "nginx",
             "tls": [{"hosts": ["*.example.com"], "secretName": "web-tls"}],
             "rules": [{"host": "shop.example.com", "http": {"paths": [
                 {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
                 {"path": "/api", "pathType": "Exact",
                  "backend": {"service": {"name": "api", "port": {"name": "http"}}}}]}}]},
}
NETPOL = {
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "db", "namespace": "default"},
    "spec": {"podSelector": {"matchLabels": {"role": "db"}},
             "ingress": [{"from": [{"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                                   {"namespaceSelector": {"matchLabels": {"project": "x"}},
                                    "podSelector": {"matchLabels": {"role": "front"}}}],
                          "ports": [{"port": 6379}, {"port": 32000, "endPort": 32768}]}],
             "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"port": "dns", "protocol": "UDP"}]}]},
}
PATH0 = "spec.rules[0].http.paths[0]"


def test_valid_objects_pass() -> None:
    assert violations(INGRESS) == []
    assert violations(NETPOL) == []


@pytest.mark.parametrize(("path", "value", "field", "fragment"), [
    ("spec.rules.0.http.paths.0.pathType", "Sometimes", f"{PATH0}.pathType", "Unsupported value"),
    ("spec.rules.0.http.paths.0.path", "shop", f"{PATH0}.path", "must be an absolute path"),
    ("spec.rules.0.host", "10.0.0.1", "spec.rules[0].host", "must be a DNS name, not an IP address"),
    ("spec.rules.0.http.paths.0.backend", {}, f"{PATH0}.backend", "one backend must be specified"),
    ("spec.rules.0.http.paths.0.backend.service.port", {}, f"{PATH0}.backend.service.port",
     "port name or number is required"),
])
def test_ingress_rules(path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(INGRESS, path, value), field, fragment)


def test_ingress_needs_rules_or_a_default_backend() -> None:
    assert_violation(patched(INGRESS, "spec", {}), "spec", "either `defaultBackend` or `rules` must be specified")


@pytest.mark.parametrize(("path", "value", "field", "fragment"), [
    ("spec.ingress.0.ports.1.endPort", 100, "spec.ingress[0].ports[1].endPort",
     "must be greater than or equal to `port`"),
    ("spec.ingress.0.from.0.ipBlock.except", ["10.0.0.0/8"], "spec.ingress[0].from[0].ipBlock.except[0]",
     "must be a strict subset of `cidr`"),
    ("spec.ingress.0.from.0.podSelector", {"matchLabels": {"a": "b"}}, "spec.ingress[0].from[0]",
     "may not specify both ipBlock and another peer"),
    ("spec.egress.0.ports.0.protocol", "ICMP", "spec.egress[0].ports[0].protocol", "Unsupported value"),
    ("spec.policyTypes", ["Ingress", "Sideways"], "spec.policyTypes[1]", "Unsupported value"),
])
def test_network_policy_rules(path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(NETPOL, path, value), field, fragment)


def test_network_policy_defaults() -> None:
    policy = from_dict(NETPOL)
    apply_defaults(policy)
    doc = to_dict(policy)
    assert doc["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert doc["spec"]["ingress"][0]["ports"][0]["protocol"] == "TCP"


def test_ingress_class_controller_must_be_domain_prefixed() -> None:
    ic = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
          "spec": {"controller": "nginx"}}
    assert_violation(ic, "spec.controller", 'must be a domain-prefixed path (such as "acme.io/foo")')
    assert violations(patched(ic, "spec.controller", "k8s.io/ingress-nginx")) == []
