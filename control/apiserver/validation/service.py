"""Services and Endpoints."""

from __future__ import annotations

import ipaddress

from control.apiserver.validation.errors import (
    Errors,
    duplicate,
    enum,
    forbidden,
    immutable,
    invalid,
    invalids,
    not_supported,
    required,
)
from control.apiserver.validation.meta import validate_labels
from control.apiserver.validation.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    ip_errors,
    port_number_errors,
    qualified_name_errors,
)
from control.apiserver.validation.probes import validate_port_num_or_name
from skiff.v1 import core_pb2

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
SESSION_AFFINITIES = ("None", "ClientIP")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILIES = ("IPv4", "IPv6")
IP_FAMILY_POLICIES = ("SingleStack", "PreferDualStack", "RequireDualStack")
PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_CLIENT_IP_TIMEOUT = 86400


def _validate_port(sp: core_pb2.ServicePort, path: str, require_name: bool, svc_type: str) -> Errors:
    errs: Errors = []
    if sp.name:
        errs += invalids(f"{path}.name", sp.name, dns1123_label_errors(sp.name))
    elif require_name:
        errs.append(required(f"{path}.name"))
    errs += invalids(f"{path}.port", sp.port, port_number_errors(sp.port))
    errs += enum(f"{path}.protocol", sp.protocol, PROTOCOLS)
    if sp.app_protocol:
        errs += invalids(f"{path}.appProtocol", sp.app_protocol, qualified_name_errors(sp.app_protocol))
    errs += validate_port_num_or_name(sp.target_port if sp.HasField("target_port") else None,
                                      f"{path}.targetPort")
    if not 0 <= sp.node_port <= 65535:
        errs.append(invalid(f"{path}.nodePort", sp.node_port, "must be between 1 and 65535, inclusive"))
    if sp.node_port and svc_type == "ClusterIP":
        errs.append(forbidden(f"{path}.nodePort", "may not be used when `type` is 'ClusterIP'"))
    return errs


def _validate_ports(spec: core_pb2.ServiceSpec, headless: bool) -> Errors:
    errs: Errors = []
    if not spec.ports and not headless and spec.type != "ExternalName":
        errs.append(required("spec.ports"))
    names: set[str] = set()
    ports: set[tuple[int, str]] = set()
    node_ports: set[tuple[int, str]] = set()
    for i, sp in enumerate(spec.ports):
        p = f"spec.ports[{i}]"
        errs += _validate_port(sp, p, len(spec.ports) > 1, spec.type)
        if sp.name and sp.name in names:
            errs.append(duplicate(f"{p}.name", sp.name))
        names.add(sp.name)
        if (sp.port, sp.protocol) in ports:
            errs.append(duplicate(p, f"{sp.port}/{sp.protocol}"))
        ports.add((sp.port, sp.protocol))
        if sp.node_port and (sp.node_port, sp.protocol) in node_ports:
            errs.append(duplicate(f"{p}.nodePort", sp.node_port))
        node_ports.add((sp.node_port, sp.protocol))
    return errs


def _family(ip: str) -> str:
    return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"


def _validate_cluster_ip(spec: core_pb2.ServiceSpec) -> Errors:
    errs: Errors = []
    if spec.type == "ExternalName":
        if spec.cluster_ip or spec.cluster_ips:
            errs.append(forbidden("spec.clusterIPs", "may not be set for `type=ExternalName`"))
        return errs
    if spec.cluster_ip and spec.cluster_ips and spec.cluster_ips[0] != spec.cluster_ip:
        errs.append(invalid("spec.clusterIPs", list(spec.cluster_ips), "first value must match `clusterIP`"))
    for i, ip in enumerate(spec.cluster_ips or ([spec.cluster_ip] if spec.cluster_ip else [])):
        p = f"spec.clusterIPs[{i}]" if spec.cluster_ips else "spec.clusterIP"
        if ip == "None":
            if spec.type in ("NodePort", "LoadBalancer"):
                errs.append(invalid(p, ip, f"may not be set to 'None' for {spec.type} services"))
            continue
        ip_errs = invalids(p, ip, ip_errors(ip))
        errs += ip_errs
        if not ip_errs and i < len(spec.ip_families) and _family(ip) != spec.ip_families[i]:
            errs.append(invalid(p, ip, f"expected an {spec.ip_families[i]} value as indicated by "
                                f"`ipFamilies[{i}]`"))
    return errs


def _validate_families(spec: core_pb2.ServiceSpec) -> Errors:
    errs: Errors = []
    for i, family in enumerate(spec.ip_families):
        if family not in IP_FAMILIES:
            errs.append(not_supported(f"spec.ipFamilies[{i}]", family, IP_FAMILIES))
    if len(spec.ip_families) > 1 and spec.ip_families[0] == spec.ip_families[1]:
        errs.append(duplicate("spec.ipFamilies[1]", spec.ip_families[1]))
    if spec.ip_family_policy and spec.ip_family_policy not in IP_FAMILY_POLICIES:
        errs.append(not_supported("spec.ipFamilyPolicy", spec.ip_family_policy, IP_FAMILY_POLICIES))
    return errs


def _validate_affinity(spec: core_pb2.ServiceSpec) -> Errors:
    errs = enum("spec.sessionAffinity", spec.session_affinity, SESSION_AFFINITIES)
    p = "spec.sessionAffinityConfig"
    has_config = spec.HasField("session_affinity_config")
    if spec.session_affinity == "ClientIP":
        timeout = spec.session_affinity_config.client_ip
        if not timeout.HasField("timeout_seconds"):
            errs.append(required(f"{p}.clientIP.timeoutSeconds"))
        elif not 0 < timeout.timeout_seconds <= MAX_CLIENT_IP_TIMEOUT:
            errs.append(invalid(f"{p}.clientIP.timeoutSeconds", timeout.timeout_seconds,
                                f"must be greater than 0 and less than {MAX_CLIENT_IP_TIMEOUT}"))
    elif spec.session_affinity == "None" and has_config:
        errs.append(forbidden(p, "must not be set when session affinity is None"))
    return errs


def _validate_traffic_policies(spec: core_pb2.ServiceSpec) -> Errors:
    errs: Errors = []
    external = spec.type in ("NodePort", "LoadBalancer")
    if external:
        errs += enum("spec.externalTrafficPolicy", spec.external_traffic_policy, TRAFFIC_POLICIES)
    elif spec.external_traffic_policy:
        errs.append(invalid("spec.externalTrafficPolicy", spec.external_traffic_policy,
                            "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
    if spec.type != "ExternalName":
        errs += enum("spec.internalTrafficPolicy", spec.internal_traffic_policy, TRAFFIC_POLICIES)
    return errs


def validate_service(svc: core_pb2.Service) -> Errors:
    spec = svc.spec
    errs: Errors = []
    if spec.type == "ExternalName":
        name = spec.external_name.removesuffix(".")
        errs += [required("spec.externalName")] if not name else invalids(
            "spec.externalName", spec.external_name, dns1123_subdomain_errors(name))
    headless = spec.cluster_ip == "None" or list(spec.cluster_ips[:1]) == ["None"]
    errs += _validate_ports(spec, headless)
    errs += validate_labels(spec.selector, "spec.selector")
    errs += _validate_cluster_ip(spec)
    errs += _validate_families(spec)
    errs += _validate_affinity(spec)
    errs += _validate_traffic_policies(spec)
    for i, ip in enumerate(spec.external_ips):
        errs += invalids(f"spec.externalIPs[{i}]", ip, ip_errors(ip))
    # As Kubernetes: after the ports, against its set of types (listed sorted), not instead of the rest.
    errs += enum("spec.type", spec.type, sorted(SERVICE_TYPES))
    if spec.load_balancer_ip:
        if spec.type != "LoadBalancer":
            errs.append(forbidden("spec.loadBalancerIP", "may only be used when `type` is 'LoadBalancer'"))
        errs += invalids("spec.loadBalancerIP", spec.load_balancer_ip, ip_errors(spec.load_balancer_ip))
    return errs + _validate_load_balancer(spec)


def _validate_load_balancer(spec: core_pb2.ServiceSpec) -> Errors:
    lb = spec.type == "LoadBalancer"
    errs: Errors = []
    only_lb = "may only be used when `type` is 'LoadBalancer'"
    if lb and not spec.HasField("allocate_load_balancer_node_ports"):
        errs.append(required("spec.allocateLoadBalancerNodePorts"))
    elif not lb and spec.HasField("allocate_load_balancer_node_ports"):
        errs.append(forbidden("spec.allocateLoadBalancerNodePorts", only_lb))
    if spec.HasField("load_balancer_class"):
        if not lb:
            errs.append(forbidden("spec.loadBalancerClass", only_lb))
        errs += invalids("spec.loadBalancerClass", spec.load_balancer_class,
                         qualified_name_errors(spec.load_balancer_class))
    if spec.health_check_node_port and not (lb and spec.external_traffic_policy == "Local"):
        errs.append(invalid("spec.healthCheckNodePort", spec.health_check_node_port,
                            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
    if spec.load_balancer_source_ranges and not lb:
        errs.append(forbidden("spec.loadBalancerSourceRanges", only_lb))
    for i, cidr in enumerate(spec.load_balancer_source_ranges):
        try:
            ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            errs.append(invalid(f"spec.loadBalancerSourceRanges[{i}]", cidr,
                                "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 "))
    return errs


def validate_service_update(new: core_pb2.Service, old: core_pb2.Service) -> Errors:
    """A ClusterIP stays once allocated, unless the service turns into an ExternalName one; a
    LoadBalancer's class stays while it is one."""
    errs: Errors = []
    if (old.spec.type == new.spec.type == "LoadBalancer"
            and old.spec.load_balancer_class != new.spec.load_balancer_class):
        errs.append(invalid("spec.loadBalancerClass", new.spec.load_balancer_class or None,
                            "may not change once set"))
    return errs + _validate_cluster_ip_update(new, old)


def _validate_cluster_ip_update(new: core_pb2.Service, old: core_pb2.Service) -> Errors:
    if new.spec.type == "ExternalName" or not old.spec.cluster_ip or old.spec.type == "ExternalName":
        return []
    if new.spec.cluster_ip != old.spec.cluster_ip:
        return [immutable("spec.clusterIP", new.spec.cluster_ip)]
    if new.spec.cluster_ips and old.spec.cluster_ips and new.spec.cluster_ips[0] != old.spec.cluster_ips[0]:
        return [immutable("spec.clusterIPs[0]", new.spec.cluster_ips[0])]
    return []


def _validate_endpoint_ip(ip: str, path: str) -> Errors:
    errs = invalids(path, ip, ip_errors(ip))
    if errs:
        return errs
    addr = ipaddress.ip_address(ip)
    if addr.is_unspecified:
        errs.append(invalid(path, ip, "may not be unspecified (0.0.0.0, ::)"))
    if addr.is_loopback:
        errs.append(invalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if addr.is_link_local:
        errs.append(invalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    if addr.is_multicast:
        errs.append(invalid(path, ip, "may not be in the multicast range"))
    return errs


def _validate_address(addr: core_pb2.EndpointAddress, path: str) -> Errors:
    errs = _validate_endpoint_ip(addr.ip, f"{path}.ip")
    if addr.hostname:
        errs += invalids(f"{path}.hostname", addr.hostname, dns1123_label_errors(addr.hostname))
    if addr.HasField("node_name"):
        errs += invalids(f"{path}.nodeName", addr.node_name, dns1123_subdomain_errors(addr.node_name))
    return errs


def validate_endpoints(ep: core_pb2.Endpoints) -> Errors:
    errs: Errors = []
    for i, subset in enumerate(ep.subsets):
        p = f"subsets[{i}]"
        if not subset.addresses and not subset.not_ready_addresses:
            errs.append(required(p, "must specify `addresses` or `notReadyAddresses`"))
        for field, json in (("addresses", "addresses"), ("not_ready_addresses", "notReadyAddresses")):
            for j, addr in enumerate(getattr(subset, field)):
                errs += _validate_address(addr, f"{p}.{json}[{j}]")
        if not subset.ports:
            errs.append(required(f"{p}.ports"))
        for j, port in enumerate(subset.ports):
            q = f"{p}.ports[{j}]"
            if port.name:
                errs += invalids(f"{q}.name", port.name, dns1123_label_errors(port.name))
            elif len(subset.ports) > 1:
                errs.append(required(f"{q}.name"))
            errs += invalids(f"{q}.port", port.port, port_number_errors(port.port))
            errs += enum(f"{q}.protocol", port.protocol, PROTOCOLS)
    return errs
