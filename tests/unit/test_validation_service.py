"""Service and Endpoints validation."""

from __future__ import annotations

import pytest

from control.apiserver.registry import apply_defaults
from control.apiserver.services import allocates_node_ports
from control.client.convert import from_dict
from tests.fixtures.validation import assert_violation, patched, violations

SVC = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"},
                          {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"}]}}
EP = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
      "subsets": [{"addresses": [{"ip": "10.244.1.5", "nodeName": "node-a"}],
                   "notReadyAddresses": [{"ip": "10.244.2.7", "hostname": "web-1"}],
                   "ports": [{"name": "http", "port": 8080}, {"name": "dns", "port": 53, "protocol": "UDP"}]}]}








@pytest.mark.parametrize("obj", [
    SVC,
    patched(SVC, "spec.type", "NodePort"),
    patched(patched(SVC, "spec.type", "LoadBalancer"), "spec.ports.0.nodePort", 30080),
    patched(SVC, "spec.clusterIP", "10.96.0.10"),
    patched(patched(SVC, "spec.clusterIP", "None"), "spec.ports", []),  # headless, no ports
    patched(patched(SVC, "spec.clusterIP", "None"), "spec.selector", {}),
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
     "spec": {"type": "ExternalName", "externalName": "db.example.com"}},
    patched(SVC, "spec.sessionAffinity", "ClientIP"),
    patched(SVC, "spec.ports", [{"port": 53, "protocol": "UDP"}]),  # a single port needs no name
    patched(SVC, "spec.ports", [{"name": "dns", "port": 53, "protocol": "UDP"},
                                {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]),
    EP,
], ids=["clusterip", "nodeport", "loadbalancer", "fixed-ip", "headless", "headless-no-selector",
        "externalname", "clientip", "single-unnamed", "same-port-two-protocols", "endpoints"])
def test_valid(obj: dict) -> None:
    assert violations(obj) == []


@pytest.mark.parametrize("path, value, field, fragment", [
    ("metadata.name", "1web", "metadata.name", "a DNS-1035 label must consist of lower case alphanumeric"),
    ("metadata.name", "web.svc", "metadata.name", "a DNS-1035 label"),
    ("spec.type", "Ingress", "spec.type",
     'Unsupported value: "Ingress": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'),
    ("spec.ports", [], "spec.ports", "Required value"),
    ("spec.ports.0.port", 0, "spec.ports[0].port", "must be between 1 and 65535, inclusive"),
    ("spec.ports.0.port", 65536, "spec.ports[0].port", "must be between 1 and 65535, inclusive"),
    ("spec.ports.0.protocol", "ICMP", "spec.ports[0].protocol", 'Unsupported value: "ICMP"'),
    ("spec.ports.0.name", "", "spec.ports[0].name", "Required value"),
    ("spec.ports.0.name", "Http", "spec.ports[0].name", "a lowercase RFC 1123 label"),
    ("spec.ports.1.name", "http", "spec.ports[1].name", 'Duplicate value: "http"'),
    ("spec.ports.1.port", 80, "spec.ports[1]", 'Duplicate value: "80/TCP"'),
    ("spec.ports.0.targetPort", 70000, "spec.ports[0].targetPort", "must be between 1 and 65535, inclusive"),
    ("spec.ports.0.targetPort", "http_port", "spec.ports[0].targetPort",
     "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
    ("spec.ports.0.targetPort", "a-very-long-port-name", "spec.ports[0].targetPort",
     "must be no more than 15 characters"),
    ("spec.ports.0.nodePort", 70000, "spec.ports[0].nodePort", "must be between 1 and 65535"),
    ("spec.ports.0.nodePort", 30000, "spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'"),
    ("spec.sessionAffinity", "Cookie", "spec.sessionAffinity",
     'Unsupported value: "Cookie": supported values: "None", "ClientIP"'),
    ("spec.sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 10}}, "spec.sessionAffinityConfig",
     "must not be set when session affinity is None"),
    ("spec.clusterIP", "10.96.0.300", "spec.clusterIP", "must be a valid IP address"),
    ("spec.clusterIP", "fd00::10", "spec.clusterIP", "expected an IPv4 value as indicated by `ipFamilies[0]`"),
    ("spec.clusterIPs", ["10.96.0.2"], "spec.clusterIPs", "first value must match `clusterIP`"),
    ("spec.externalIPs", ["not-an-ip"], "spec.externalIPs[0]", "must be a valid IP address"),
    ("spec.externalTrafficPolicy", "Local", "spec.externalTrafficPolicy",
     "may only be set when `type` is 'NodePort' or 'LoadBalancer'"),
    ("spec.internalTrafficPolicy", "Nearby", "spec.internalTrafficPolicy", 'Unsupported value: "Nearby"'),
    ("spec.ipFamilies", ["IPv5"], "spec.ipFamilies[0]", 'Unsupported value: "IPv5"'),
    ("spec.ipFamilyPolicy", "Maybe", "spec.ipFamilyPolicy", 'Unsupported value: "Maybe"'),
    ("spec.selector", {"app": "web app"}, "spec.selector", "a valid label must be"),
    ("spec.ports.0.appProtocol", "http/2/x", "spec.ports[0].appProtocol", "a qualified name must consist of"),
    ("spec.loadBalancerIP", "10.0.0.1", "spec.loadBalancerIP", "may only be used when `type` is 'LoadBalancer'"),
])
def test_service_rule_fires(path: str, value, field: str, fragment: str) -> None:
    obj = patched(SVC, path, value)
    if path == "spec.clusterIPs":
        obj = patched(obj, "spec.clusterIP", "10.96.0.1")
    assert_violation(obj, field, fragment)


def test_type_dependent_rules() -> None:
    node_port = patched(SVC, "spec.type", "NodePort")
    assert_violation(patched(node_port, "spec.clusterIP", "None"), "spec.clusterIP",
                     "may not be set to 'None' for NodePort services")
    assert_violation(patched(node_port, "spec.externalTrafficPolicy", "Nowhere"), "spec.externalTrafficPolicy",
                     'Unsupported value: "Nowhere": supported values: "Cluster", "Local"')
    dup = patched(patched(node_port, "spec.ports.0.nodePort", 30001), "spec.ports.1.nodePort", 30001)
    assert_violation(dup, "spec.ports[1].nodePort", "Duplicate value: 30001")
    ext = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"}, "spec": {"type": "ExternalName"}}
    assert_violation(ext, "spec.externalName", "Required value")
    assert_violation(patched(ext, "spec.externalName", "Bad_Host"), "spec.externalName",
                     "a lowercase RFC 1123 subdomain")
    with_ip = patched(patched(ext, "spec.externalName", "db.example.com"), "spec.clusterIP", "10.96.0.5")
    assert_violation(with_ip, "spec.clusterIPs", "may not be set for `type=ExternalName`")
    affinity = patched(SVC, "spec.sessionAffinity", "ClientIP")
    assert_violation(patched(affinity, "spec.sessionAffinityConfig", {"clientIP": {"timeoutSeconds": 86401}}),
                     "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "must be greater than 0 and less than 86400")


def test_load_balancer_fields() -> None:
    lb = patched(SVC, "spec.type", "LoadBalancer")
    assert violations(patched(patched(lb, "spec.loadBalancerClass", "example.com/lb"),
                              "spec.loadBalancerSourceRanges", ["10.0.0.0/8"])) == []
    only_lb = "may only be used when `type` is 'LoadBalancer'"
    assert_violation(patched(SVC, "spec.loadBalancerClass", "example.com/lb"), "spec.loadBalancerClass", only_lb)
    assert_violation(patched(SVC, "spec.allocateLoadBalancerNodePorts", False),
                     "spec.allocateLoadBalancerNodePorts", only_lb)
    assert_violation(patched(SVC, "spec.loadBalancerSourceRanges", ["10.0.0.0/8"]),
                     "spec.loadBalancerSourceRanges", only_lb)
    assert_violation(patched(lb, "spec.loadBalancerClass", "bad class"), "spec.loadBalancerClass",
                     "name part must consist of alphanumeric characters")
    assert_violation(patched(lb, "spec.loadBalancerSourceRanges", ["10.0.0.0/33"]),
                     "spec.loadBalancerSourceRanges[0]", "must be a list of IP ranges")
    assert_violation(patched(lb, "spec.healthCheckNodePort", 32000), "spec.healthCheckNodePort",
                     "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'")
    assert violations(patched(patched(lb, "spec.externalTrafficPolicy", "Local"),
                              "spec.healthCheckNodePort", 32000)) == []
    old = patched(lb, "spec.loadBalancerClass", "example.com/lb")
    assert_violation(patched(lb, "spec.loadBalancerClass", "example.com/other"), "spec.loadBalancerClass",
                     "may not change once set", old=old)
    assert violations(SVC, old=old) == []  # no longer a LoadBalancer: the class may go


def test_load_balancers_allocate_node_ports_unless_told_not_to() -> None:
    lb = from_dict(patched(SVC, "spec.type", "LoadBalancer"))
    apply_defaults(lb)
    assert lb.spec.allocate_load_balancer_node_ports and allocates_node_ports(lb)
    lb.spec.allocate_load_balancer_node_ports = False
    assert not allocates_node_ports(lb)
    plain = from_dict(SVC)
    apply_defaults(plain)
    assert not plain.spec.HasField("allocate_load_balancer_node_ports")


def test_cluster_ip_is_immutable_once_set() -> None:
    old = patched(SVC, "spec.clusterIP", "10.96.0.10")
    assert violations(old, old=old) == []
    assert_violation(patched(SVC, "spec.clusterIP", "10.96.0.11"), "spec.clusterIP", "field is immutable", old=old)
    # Allocating one for the first time is not a change of an allocated one.
    assert violations(old, old=SVC) == []
    # Turning into an ExternalName service releases it.
    ext = patched(patched(SVC, "spec.type", "ExternalName"), "spec.externalName", "db.example.com")
    assert violations(ext, old=old) == []


@pytest.mark.parametrize("path, value, field, fragment", [
    ("subsets.0.addresses.0.ip", "10.244.1", "subsets[0].addresses[0].ip", "must be a valid IP address"),
    ("subsets.0.addresses.0.ip", "127.0.0.1", "subsets[0].addresses[0].ip", "may not be in the loopback range"),
    ("subsets.0.addresses.0.ip", "169.254.1.1", "subsets[0].addresses[0].ip", "may not be in the link-local range"),
    ("subsets.0.addresses.0.ip", "0.0.0.0", "subsets[0].addresses[0].ip", "may not be unspecified"),
    ("subsets.0.notReadyAddresses.0.hostname", "Web", "subsets[0].notReadyAddresses[0].hostname",
     "a lowercase RFC 1123 label"),
    ("subsets.0.addresses.0.nodeName", "Node_A", "subsets[0].addresses[0].nodeName", "RFC 1123 subdomain"),
    ("subsets.0.ports", [], "subsets[0].ports", "Required value"),
    ("subsets.0.ports.0.port", 0, "subsets[0].ports[0].port", "must be between 1 and 65535"),
    ("subsets.0.ports.0.protocol", "HTTP", "subsets[0].ports[0].protocol", 'Unsupported value: "HTTP"'),
    ("subsets.0.ports.0.name", "", "subsets[0].ports[0].name", "Required value"),
    ("subsets.0", {"ports": [{"port": 80}]}, "subsets[0]", "must specify `addresses` or `notReadyAddresses`"),
])
def test_endpoints_rule_fires(path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(EP, path, value), field, fragment)
