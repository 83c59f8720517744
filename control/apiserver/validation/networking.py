"""networking.k8s.io/v1 validation: Ingresses, IngressClasses, NetworkPolicies."""

from __future__ import annotations

import ipaddress
import re

from control.apiserver.validation.errors import (
    Errors,
    enum,
    forbidden,
    immutable,
    invalid,
    invalids,
    required,
)
from control.apiserver.validation.meta import validate_label_selector
from control.apiserver.validation.names import cidr_errors, port_name_errors
from control.client.convert import int_or_string
from control.client.selectors import dns1123_subdomain_errors
from skiff.v1 import networking_pb2

PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")
POLICY_TYPES = ("Ingress", "Egress")
PROTOCOLS = ("TCP", "UDP", "SCTP")
PARAMETER_SCOPES = ("Cluster", "Namespace")
WILDCARD_MSG = ("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must "
                "consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character "
                "(e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?"
                "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_CONTROLLER_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/\S+")


def _host_errors(host: str, path: str) -> Errors:
    try:
        ipaddress.ip_address(host)
        return [invalid(path, host, "must be a DNS name, not an IP address")]
    except ValueError:
        pass
    if host.startswith("*."):
        return [] if not dns1123_subdomain_errors(host[2:]) else [invalid(path, host, WILDCARD_MSG)]
    return invalids(path, host, dns1123_subdomain_errors(host))


def _validate_backend(backend: networking_pb2.IngressBackend, path: str) -> Errors:
    has_service, has_resource = backend.HasField("service"), backend.HasField("resource")
    if has_service and has_resource:
        return [invalid(path, "", "cannot set both service and resource backends")]
    if has_resource:
        ref = backend.resource
        errs = [] if ref.kind else [required(f"{path}.resource.kind")]
        return errs + ([] if ref.name else [required(f"{path}.resource.name")])
    if not has_service:
        return [invalid(path, "", "one backend must be specified")]
    svc, errs = backend.service, []
    if not svc.name:
        errs.append(required(f"{path}.service.name"))
    else:
        errs += invalids(f"{path}.service.name", svc.name, dns1123_subdomain_errors(svc.name))
    port = svc.port
    if port.name and port.HasField("number"):
        errs.append(invalid(f"{path}.service.port", "", "cannot set both port name & port number"))
    elif port.name:
        errs += invalids(f"{path}.service.port.name", port.name, port_name_errors(port.name))
    elif port.HasField("number"):
        if not 1 <= port.number <= 65535:
            errs.append(invalid(f"{path}.service.port.number", port.number, "must be between 1 and 65535, inclusive"))
    else:
        errs.append(invalid(f"{path}.service.port", "", "port name or number is required"))
    return errs


def _validate_path(p: networking_pb2.HTTPIngressPath, path: str) -> Errors:
    errs: Errors = []
    if not p.path_type:
        errs.append(required(f"{path}.pathType", "pathType must be specified"))
    else:
        errs += enum(f"{path}.pathType", p.path_type, PATH_TYPES)
    if p.path_type in ("Exact", "Prefix") or p.path:
        if not p.path.startswith("/"):
            errs.append(invalid(f"{path}.path", p.path, "must be an absolute path"))
        elif p.path_type in ("Exact", "Prefix"):
            bad = next((s for s in _INVALID_PATH_SEQUENCES if s in p.path), None)
            if bad is not None:
                errs.append(invalid(f"{path}.path", p.path, f"must not contain '{bad}'"))
    return errs + _validate_backend(p.backend, f"{path}.backend")


def validate_ingress(ing: networking_pb2.Ingress) -> Errors:
    spec, errs = ing.spec, []
    if not spec.HasField("default_backend") and not spec.rules:
        errs.append(invalid("spec", "", "either `defaultBackend` or `rules` must be specified"))
    if spec.HasField("default_backend"):
        errs += _validate_backend(spec.default_backend, "spec.defaultBackend")
    if spec.ingress_class_name:
        errs += invalids("spec.ingressClassName", spec.ingress_class_name,
                         dns1123_subdomain_errors(spec.ingress_class_name))
    for i, rule in enumerate(spec.rules):
        p = f"spec.rules[{i}]"
        if rule.host:
            errs += _host_errors(rule.host, f"{p}.host")
        if rule.HasField("http"):
            if not rule.http.paths:
                errs.append(required(f"{p}.http.paths"))
            for j, hp in enumerate(rule.http.paths):
                errs += _validate_path(hp, f"{p}.http.paths[{j}]")
    for i, tls in enumerate(spec.tls):
        for j, host in enumerate(tls.hosts):
            errs += _host_errors(host, f"spec.tls[{i}].hosts[{j}]")
        if tls.secret_name:
            errs += invalids(f"spec.tls[{i}].secretName", tls.secret_name, dns1123_subdomain_errors(tls.secret_name))
    return errs


def validate_ingress_class(ic: networking_pb2.IngressClass) -> Errors:
    spec, errs = ic.spec, []
    if not spec.controller:
        errs.append(required("spec.controller"))
    elif len(spec.controller) > 250:
        errs.append(invalid("spec.controller", spec.controller, "must be no more than 250 characters"))
    elif not _CONTROLLER_RE.fullmatch(spec.controller):
        errs.append(invalid("spec.controller", spec.controller,
                            'must be a domain-prefixed path (such as "acme.io/foo")'))
    if spec.HasField("parameters"):
        params, p = spec.parameters, "spec.parameters"
        errs += [] if params.kind else [required(f"{p}.kind")]
        errs += [] if params.name else [required(f"{p}.name")]
        scope = params.scope or "Cluster"
        errs += enum(f"{p}.scope", scope, PARAMETER_SCOPES)
        if scope == "Namespace" and not params.namespace:
            errs.append(required(f"{p}.namespace", "`parameters.scope` is set to 'Namespace'"))
        if scope == "Cluster" and params.namespace:
            errs.append(forbidden(f"{p}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return errs


def validate_ingress_class_update(new: networking_pb2.IngressClass, old: networking_pb2.IngressClass) -> Errors:
    return [] if new.spec.controller == old.spec.controller else [immutable("spec.controller", new.spec.controller)]


def _validate_port(port: networking_pb2.NetworkPolicyPort, path: str) -> Errors:
    errs = enum(f"{path}.protocol", port.protocol, PROTOCOLS) if port.protocol else []
    value = int_or_string(port.port) if port.HasField("port") else None
    if isinstance(value, int):
        if not 1 <= value <= 65535:
            errs.append(invalid(f"{path}.port", value, "must be between 1 and 65535, inclusive"))
    elif isinstance(value, str):
        errs += invalids(f"{path}.port", value, port_name_errors(value))
    if port.HasField("end_port"):
        if not isinstance(value, int):
            errs.append(forbidden(f"{path}.endPort", "may not be specified when `port` is non-numeric"
                                  if value is not None else "may not be specified when `port` is not specified"))
        elif port.end_port < value:
            errs.append(invalid(f"{path}.endPort", port.end_port, "must be greater than or equal to `port`"))
    return errs


def _validate_ip_block(block: networking_pb2.IPBlock, path: str) -> Errors:
    errs = [required(f"{path}.cidr")] if not block.cidr else invalids(f"{path}.cidr", block.cidr,
                                                                       cidr_errors(block.cidr))
    if errs:
        return errs
    cidr = ipaddress.ip_network(block.cidr, strict=False)
    for i, text in enumerate(block.except_):
        p = f"{path}.except[{i}]"
        problems = cidr_errors(text)
        if problems:
            errs += invalids(p, text, problems)
            continue
        inner = ipaddress.ip_network(text, strict=False)
        if inner.version != cidr.version or not inner.subnet_of(cidr) or inner.prefixlen <= cidr.prefixlen:
            errs.append(invalid(p, text, "must be a strict subset of `cidr`"))
    return errs


def _validate_peer(peer: networking_pb2.NetworkPolicyPeer, path: str) -> Errors:
    kinds = [f for f in ("pod_selector", "namespace_selector", "ip_block") if peer.HasField(f)]
    if not kinds:
        return [required(path, "must specify a peer")]
    if "ip_block" in kinds and len(kinds) > 1:
        return [forbidden(path, "may not specify both ipBlock and another peer")]
    errs: Errors = []
    if peer.HasField("pod_selector"):
        errs += validate_label_selector(peer.pod_selector, f"{path}.podSelector")
    if peer.HasField("namespace_selector"):
        errs += validate_label_selector(peer.namespace_selector, f"{path}.namespaceSelector")
    if peer.HasField("ip_block"):
        errs += _validate_ip_block(peer.ip_block, f"{path}.ipBlock")
    return errs


def validate_network_policy(np: networking_pb2.NetworkPolicy) -> Errors:
    spec = np.spec
    errs = validate_label_selector(spec.pod_selector, "spec.podSelector")
    for direction, rules, peers_field, json in (("ingress", spec.ingress, "from_", "from"),
                                                ("egress", spec.egress, "to", "to")):
        for i, rule in enumerate(rules):
            p = f"spec.{direction}[{i}]"
            for j, port in enumerate(rule.ports):
                errs += _validate_port(port, f"{p}.ports[{j}]")
            for j, peer in enumerate(getattr(rule, peers_field)):
                errs += _validate_peer(peer, f"{p}.{json}[{j}]")
    if len(spec.policy_types) > len(POLICY_TYPES):
        errs.append(invalid("spec.policyTypes", list(spec.policy_types), "may not specify more than two policyTypes"))
    for i, t in enumerate(spec.policy_types):
        errs += enum(f"spec.policyTypes[{i}]", t, POLICY_TYPES)
    return errs

