"""Pods, pod specs and pod templates; what a pod update may change."""

from __future__ import annotations

from control.apiserver.validation.containers import validate_containers
from control.apiserver.validation.errors import Errors, enum, forbidden, invalid, invalids, required
from control.apiserver.validation.meta import validate_labels, validate_template_meta
from control.apiserver.validation.names import (
    dns1123_label_errors,
    dns1123_subdomain_errors,
    ip_errors,
    qualified_name_errors,
)
from control.apiserver.validation.resources import validate_pod_resources
from control.apiserver.validation.scheduling import (
    validate_affinity,
    validate_tolerations,
    validate_topology_spread_constraints,
)
from control.apiserver.validation.security import validate_pod_security_context
from control.apiserver.validation.volumes import validate_volumes
from control.client.convert import to_dict
from skiff.v1 import pod_pb2

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
OS_NAMES = ("linux", "windows")
MAX_DNS_NAMESERVERS = 3
MAX_DNS_SEARCH_PATHS = 32
POD_UPDATE_MSG = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
    "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
    "previously negative)")


def _validate_dns(spec: pod_pb2.PodSpec, path: str) -> Errors:
    errs = enum(f"{path}.dnsPolicy", spec.dns_policy, DNS_POLICIES)
    cfg = spec.dns_config
    p = f"{path}.dnsConfig"
    if spec.dns_policy == "None" and not cfg.nameservers:
        errs.append(required(f"{p}.nameservers",
                             "must provide at least one DNS nameserver when `dnsPolicy` is None"))
    if len(cfg.nameservers) > MAX_DNS_NAMESERVERS:
        errs.append(invalid(f"{p}.nameservers", list(cfg.nameservers),
                            f"must not have more than {MAX_DNS_NAMESERVERS} nameservers"))
    for i, ns in enumerate(cfg.nameservers):
        errs += invalids(f"{p}.nameservers[{i}]", ns, ip_errors(ns))
    if len(cfg.searches) > MAX_DNS_SEARCH_PATHS:
        errs.append(invalid(f"{p}.searches", list(cfg.searches),
                            f"must not have more than {MAX_DNS_SEARCH_PATHS} search paths"))
    for i, search in enumerate(cfg.searches):
        errs += invalids(f"{p}.searches[{i}]", search, dns1123_subdomain_errors(search.removesuffix(".")))
    for i, option in enumerate(cfg.options):
        if not option.name:
            errs.append(required(f"{p}.options[{i}].name", "Option.Name must not be empty"))
    return errs


def _validate_names(spec: pod_pb2.PodSpec, path: str) -> Errors:
    errs: Errors = []
    for field, json, check in (
            ("service_account_name", "serviceAccountName", dns1123_subdomain_errors),
            ("node_name", "nodeName", dns1123_subdomain_errors),
            ("scheduler_name", "schedulerName", dns1123_subdomain_errors),
            ("priority_class_name", "priorityClassName", dns1123_subdomain_errors),
            ("hostname", "hostname", dns1123_label_errors),
            ("subdomain", "subdomain", dns1123_label_errors)):
        value = getattr(spec, field)
        if value:
            errs += invalids(f"{path}.{json}", value, check(value))
    for i, secret in enumerate(spec.image_pull_secrets):
        if not secret.name:
            errs.append(required(f"{path}.imagePullSecrets[{i}].name"))
    return errs


def _validate_host_aliases(spec: pod_pb2.PodSpec, path: str) -> Errors:
    errs: Errors = []
    for i, alias in enumerate(spec.host_aliases):
        p = f"{path}.hostAliases[{i}]"
        if not alias.ip:
            errs.append(required(f"{p}.ip"))
        else:
            errs += invalids(f"{p}.ip", alias.ip, ip_errors(alias.ip))
        for j, hostname in enumerate(alias.hostnames):
            errs += invalids(f"{p}.hostnames[{j}]", hostname, dns1123_subdomain_errors(hostname))
    return errs


def _validate_node_facing(spec: pod_pb2.PodSpec, path: str) -> Errors:
    """The pod's OS, runtime class and readiness gates."""
    errs: Errors = []
    if spec.HasField("os"):
        if not spec.os.name:
            errs.append(required(f"{path}.os.name"))
        else:
            errs += enum(f"{path}.os.name", spec.os.name, OS_NAMES)
    if spec.runtime_class_name:
        errs += invalids(f"{path}.runtimeClassName", spec.runtime_class_name,
                         dns1123_subdomain_errors(spec.runtime_class_name))
    for i, gate in enumerate(spec.readiness_gates):
        p = f"{path}.readinessGates[{i}].conditionType"
        if not gate.condition_type:
            errs.append(required(p))
        else:
            errs += invalids(p, gate.condition_type, qualified_name_errors(gate.condition_type))
    return errs


def validate_pod_spec(spec: pod_pb2.PodSpec, path: str = "spec") -> Errors:
    errs, volumes = validate_volumes(spec.volumes, f"{path}.volumes")
    errs += validate_containers(spec, volumes, path)
    errs += enum(f"{path}.restartPolicy", spec.restart_policy, RESTART_POLICIES)
    errs += _validate_dns(spec, path)
    errs += validate_labels(spec.node_selector, f"{path}.nodeSelector")
    errs += _validate_names(spec, path)
    errs += _validate_host_aliases(spec, path) + _validate_node_facing(spec, path)
    errs += validate_pod_security_context(spec, path)
    errs += validate_pod_resources(spec, path)
    errs += validate_tolerations(spec.tolerations, f"{path}.tolerations")
    if spec.HasField("affinity"):
        errs += validate_affinity(spec.affinity, f"{path}.affinity")
    errs += validate_topology_spread_constraints(spec.topology_spread_constraints, f"{path}.topologySpreadConstraints")
    if spec.HasField("active_deadline_seconds") and spec.active_deadline_seconds < 1:
        errs.append(invalid(f"{path}.activeDeadlineSeconds", spec.active_deadline_seconds,
                            "must be between 1 and 2147483647, inclusive"))
    if spec.HasField("termination_grace_period_seconds") and spec.termination_grace_period_seconds < 0:
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", spec.termination_grace_period_seconds,
                            "must be greater than or equal to 0"))
    return errs


def validate_pod_template(template: pod_pb2.PodTemplateSpec, path: str) -> Errors:
    errs = validate_template_meta(template.metadata, f"{path}.metadata") + validate_pod_spec(
        template.spec, f"{path}.spec")
    if template.spec.ephemeral_containers:
        errs.append(forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template"))
    return errs


def _validate_status(status: pod_pb2.PodStatus) -> Errors:
    errs: Errors = []
    for field, json in (("pod_ip", "podIP"), ("host_ip", "hostIP")):
        value = getattr(status, field)
        if value:
            errs += invalids(f"status.{json}", value, ip_errors(value))
    for field, json in (("pod_ips", "podIPs"), ("host_ips", "hostIPs")):
        for i, ip in enumerate(getattr(status, field)):
            errs += invalids(f"status.{json}[{i}].ip", ip.ip, ip_errors(ip.ip))
    return errs


def validate_pod(pod: pod_pb2.Pod) -> Errors:
    return validate_pod_spec(pod.spec) + _validate_status(pod.status)


def _changed_paths(new: object, old: object, path: str, out: list[str]) -> None:
    if isinstance(new, dict) and isinstance(old, dict):
        for key in sorted(set(new) | set(old)):
            _changed_paths(new.get(key), old.get(key), f"{path}.{key}", out)
    elif isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        for i, (a, b) in enumerate(zip(new, old, strict=True)):
            _changed_paths(a, b, f"{path}[{i}]", out)
    elif new != old:
        out.append(path)


def _validate_tolerations_update(new: pod_pb2.PodSpec, old: pod_pb2.PodSpec) -> Errors:
    def key(t: pod_pb2.Toleration) -> tuple:
        return t.key, t.operator or "Equal", t.value, t.effect

    remaining = {key(t): t for t in new.tolerations}
    for t in old.tolerations:
        kept = remaining.get(key(t))
        if kept is None or (t.HasField("toleration_seconds") and (
                not kept.HasField("toleration_seconds") or kept.toleration_seconds > t.toleration_seconds)):
            return [forbidden("spec.tolerations",
                              "existing toleration can not be modified except its tolerationSeconds")]
    return []


def _validate_deadline_update(new: pod_pb2.PodSpec, old: pod_pb2.PodSpec) -> Errors:
    if not old.HasField("active_deadline_seconds"):
        return []
    if not new.HasField("active_deadline_seconds"):
        return [invalid("spec.activeDeadlineSeconds", None,
                        "must not update from a positive integer to nil value")]
    if new.active_deadline_seconds > old.active_deadline_seconds:
        return [invalid("spec.activeDeadlineSeconds", new.active_deadline_seconds,
                        "must be less than or equal to previous value")]
    return []


def validate_pod_update(new: pod_pb2.Pod, old: pod_pb2.Pod) -> Errors:
    errs = _validate_tolerations_update(new.spec, old.spec) + _validate_deadline_update(new.spec, old.spec)
    comparable = pod_pb2.PodSpec()
    comparable.CopyFrom(new.spec)
    for field in ("containers", "init_containers"):
        for c, before in zip(getattr(comparable, field), getattr(old.spec, field), strict=False):
            c.image = before.image
    comparable.ClearField("tolerations")
    comparable.tolerations.extend(old.spec.tolerations)
    comparable.ClearField("active_deadline_seconds")
    if old.spec.HasField("active_deadline_seconds"):
        comparable.active_deadline_seconds = old.spec.active_deadline_seconds
    old_grace = old.spec.termination_grace_period_seconds
    if old.spec.HasField("termination_grace_period_seconds") and old_grace < 0 and (
            comparable.termination_grace_period_seconds == 1):
        comparable.termination_grace_period_seconds = old_grace
    if comparable != old.spec:
        changed: list[str] = []
        _changed_paths(to_dict(comparable), to_dict(old.spec), "spec", changed)
        errs.append(forbidden("spec", f"{POD_UPDATE_MSG}; changed: {', '.join(changed[:5])}"))
    return errs
