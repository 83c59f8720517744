"""ConfigMaps, Secrets, Events, Leases, Nodes and Namespaces."""

from __future__ import annotations

import json

from control.apiserver.validation.errors import (
    Errors,
    forbidden,
    immutable,
    invalid,
    invalids,
    not_supported,
    required,
    too_long,
)
from control.apiserver.validation.meta import validate_finalizers
from control.apiserver.validation.names import cidr_errors, config_key_errors, ip_errors, qualified_name_errors
from control.apiserver.validation.resources import validate_quantity
from control.apiserver.validation.scheduling import validate_taints
from skiff.v1 import coordination_pb2, core_pb2

MAX_DATA_SIZE = 1024 * 1024  # ConfigMaps and Secrets, as in Kubernetes
IMMUTABLE_MSG = "field is immutable when `immutable` is set"
# Secret types with required keys (Kubernetes' built-in types).
REQUIRED_SECRET_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}
EVENT_FIELD_LIMIT = 128  # reportingInstance, action and reason of an Event with eventTime
EVENT_NOTE_LIMIT = 1024
LEASE_STRATEGIES = ("OldestEmulationVersion",)


def _validate_keys(data, path: str) -> tuple[Errors, int]:
    errs: Errors = []
    size = 0
    for key, value in data.items():
        errs += invalids(f"{path}[{key}]", key, config_key_errors(key))
        size += len(value.encode() if isinstance(value, str) else value)
    return errs, size


def validate_config_map(cm: core_pb2.ConfigMap) -> Errors:
    errs, size = _validate_keys(cm.data, "data")
    binary_errs, binary_size = _validate_keys(cm.binary_data, "binaryData")
    errs += binary_errs
    for key in cm.binary_data:
        if key in cm.data:
            errs.append(invalid(f"binaryData[{key}]", key, "duplicate of key present in `data`"))
    if size + binary_size > MAX_DATA_SIZE:
        errs.append(too_long("data", MAX_DATA_SIZE))
    return errs


def _validate_immutable_data(new, old, fields: tuple[tuple[str, str], ...]) -> Errors:
    if not (old.HasField("immutable") and old.immutable):
        return []
    errs: Errors = []
    if not (new.HasField("immutable") and new.immutable):
        errs.append(forbidden("immutable", IMMUTABLE_MSG))
    for field, json_name in fields:
        if dict(getattr(new, field)) != dict(getattr(old, field)):
            errs.append(forbidden(json_name, IMMUTABLE_MSG))
    return errs


def validate_config_map_update(new: core_pb2.ConfigMap, old: core_pb2.ConfigMap) -> Errors:
    return _validate_immutable_data(new, old, (("data", "data"), ("binary_data", "binaryData")))


def _validate_secret_type(secret: core_pb2.Secret) -> Errors:
    errs: Errors = []
    keys = set(secret.data) | set(secret.string_data)
    for key in REQUIRED_SECRET_KEYS.get(secret.type, ()):
        if key not in keys:
            errs.append(required(f"data[{key}]"))
    if secret.type in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = REQUIRED_SECRET_KEYS[secret.type][0]
        raw = secret.data.get(key) or secret.string_data.get(key, "").encode()
        if raw:
            try:
                json.loads(raw)
            except ValueError as e:
                errs.append(invalid(f"data[{key}]", "<secret contents redacted>", str(e)))
    if secret.type == "kubernetes.io/basic-auth" and not keys & {"username", "password"}:
        errs += [required("data[username]"), required("data[password]")]
    if secret.type == "kubernetes.io/service-account-token":
        if not secret.metadata.annotations.get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    return errs


def validate_secret(secret: core_pb2.Secret) -> Errors:
    errs, size = _validate_keys(secret.data, "data")
    string_errs, string_size = _validate_keys(secret.string_data, "stringData")
    errs += string_errs
    if size + string_size > MAX_DATA_SIZE:
        errs.append(too_long("data", MAX_DATA_SIZE))
    if not secret.type:
        errs.append(required("type"))
    return errs + _validate_secret_type(secret)


def validate_secret_update(new: core_pb2.Secret, old: core_pb2.Secret) -> Errors:
    errs = [immutable("type", new.type)] if new.type != old.type else []
    return errs + _validate_immutable_data(new, old, (("data", "data"),))


def _validate_new_style_event(ev: core_pb2.Event) -> Errors:
    """What an Event with eventTime (written by the events.k8s.io-style recorders) must carry."""
    errs: Errors = []
    if not ev.involved_object.namespace and ev.metadata.namespace not in ("default", "kube-system"):
        errs.append(invalid("involvedObject.namespace", "", "does not match event.namespace"))
    # Kubernetes names the internal field in these paths (reportingController, JSON reportingComponent).
    if not ev.reporting_component:
        errs.append(required("reportingController"))
    errs += invalids("reportingController", ev.reporting_component, qualified_name_errors(ev.reporting_component))
    for value, path, limit in ((ev.reporting_instance, "reportingInstance", EVENT_FIELD_LIMIT),
                               (ev.action, "action", EVENT_FIELD_LIMIT), (ev.reason, "reason", EVENT_FIELD_LIMIT)):
        if not value:
            errs.append(required(path))
        if len(value) > limit:
            errs.append(invalid(path, "", f"can have at most {limit} characters"))
    if len(ev.message) > EVENT_NOTE_LIMIT:
        errs.append(invalid("message", "", f"can have at most {EVENT_NOTE_LIMIT} characters"))
    return errs


def validate_event(ev: core_pb2.Event) -> Errors:
    """Kubernetes' validation of core/v1 Events (its legacy rules: the v1 API checks no more)."""
    obj, namespace = ev.involved_object, ev.metadata.namespace
    if ev.HasField("event_time"):
        return _validate_new_style_event(ev)
    # A cluster-scoped object's events live in "default" (or nowhere, for old clients).
    if obj.namespace and obj.namespace != namespace or not obj.namespace and namespace not in ("", "default"):
        return [invalid("involvedObject.namespace", obj.namespace, "does not match event.namespace")]
    return []


def validate_lease(lease: coordination_pb2.Lease) -> Errors:
    spec = lease.spec
    errs: Errors = []
    if spec.HasField("lease_duration_seconds") and spec.lease_duration_seconds <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", spec.lease_duration_seconds, "must be greater than 0"))
    if spec.HasField("lease_transitions") and spec.lease_transitions < 0:
        errs.append(invalid("spec.leaseTransitions", spec.lease_transitions,
                            "must be greater than or equal to 0"))
    if spec.HasField("strategy"):
        errs += validate_lease_strategy(spec.strategy, "spec.strategy")
    if spec.preferred_holder and not spec.strategy:
        errs.append(forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
    return errs


def validate_lease_strategy(strategy: str, path: str) -> Errors:
    """A Kubernetes-defined strategy, or a prefixed (qualified) name of one's own. Kubernetes reports
    it under `<path>.strategy`."""
    if "/" not in strategy:
        return [] if strategy in LEASE_STRATEGIES else [not_supported(f"{path}.strategy", strategy, LEASE_STRATEGIES)]
    return invalids(f"{path}.strategy", strategy, qualified_name_errors(strategy))


def _validate_node_spec(spec: core_pb2.NodeSpec) -> Errors:
    errs: Errors = []
    if spec.pod_cidr:
        errs += invalids("spec.podCIDR", spec.pod_cidr, cidr_errors(spec.pod_cidr))
    for i, cidr in enumerate(spec.pod_cidrs):
        errs += invalids(f"spec.podCIDRs[{i}]", cidr, cidr_errors(cidr))
    if len(spec.pod_cidrs) > 2:
        errs.append(invalid("spec.podCIDRs", list(spec.pod_cidrs), "may specify no more than one CIDR for "
                            "each IP family"))
    if spec.pod_cidr and spec.pod_cidrs and spec.pod_cidrs[0] != spec.pod_cidr:
        errs.append(invalid("spec.podCIDRs", list(spec.pod_cidrs), "first value must match `podCIDR`"))
    return errs + validate_taints(spec.taints, "spec.taints")


def validate_node(node: core_pb2.Node) -> Errors:
    errs = _validate_node_spec(node.spec)
    for field, json_name in (("capacity", "capacity"), ("allocatable", "allocatable")):
        for name, text in getattr(node.status, field).items():
            errs += validate_quantity(text, f"status.{json_name}[{name}]")[0]
    for i, addr in enumerate(node.status.addresses):
        if not addr.type:
            errs.append(required(f"status.addresses[{i}].type"))
        if addr.type in ("InternalIP", "ExternalIP"):
            errs += invalids(f"status.addresses[{i}].address", addr.address, ip_errors(addr.address))
    return errs


def validate_node_update(new: core_pb2.Node, old: core_pb2.Node) -> Errors:
    errs: Errors = []
    if old.spec.pod_cidr and new.spec.pod_cidr != old.spec.pod_cidr:
        errs.append(forbidden("spec.podCIDR", "node updates may not change podCIDR except from \"\" to "
                              "valid"))
    if old.spec.pod_cidrs and list(new.spec.pod_cidrs) != list(old.spec.pod_cidrs):
        errs.append(forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to "
                              "valid"))
    if old.spec.provider_id and new.spec.provider_id != old.spec.provider_id:
        errs.append(forbidden("spec.providerID", "node updates may not change providerID except from \"\" to "
                              "valid"))
    if new.spec.external_id != old.spec.external_id:
        errs.append(forbidden("spec.externalID", "may not be updated"))
    return errs


def validate_namespace(ns: core_pb2.Namespace) -> Errors:
    return validate_finalizers(ns.spec.finalizers, "spec.finalizers")
