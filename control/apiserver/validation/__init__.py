"""Validation of every kind, with Kubernetes' rules and messages.

`validate(obj)` checks an object about to be created; `validate(obj, old)` an
update, adding the immutability rules. Both return FieldViolations (empty
when the object is valid); the apiserver turns them into INVALID_ARGUMENT.
Objects are expected to have been through `defaults.apply_defaults` first.
"""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message

from control.apiserver.validation import apps, core, pod, rbac, service
from control.apiserver.validation.errors import Errors, FieldViolation
from control.apiserver.validation.meta import validate_object_meta, validate_object_meta_update
from control.apiserver.validation.names import (
    NameCheck,
    dns1035_label_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
)
from control.client.kinds import kind_of

__all__ = ["FieldViolation", "validate"]

# Namespaces are DNS labels, Services DNS-1035 labels (their names become DNS
# labels and environment variables), everything else DNS subdomains.
# RBAC objects only need to be path segments (`system:kube-scheduler`).
NAME_CHECKS: dict[str, NameCheck] = {
    "Namespace": dns1123_label_errors,
    "Service": dns1035_label_errors,
    **{k: rbac.path_segment_name_errors for k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")},
}

CREATE: dict[str, Callable[[Message], Errors]] = {
    "Pod": pod.validate_pod,
    "ReplicaSet": apps.validate_replica_set,
    "Deployment": apps.validate_deployment,
    "Service": service.validate_service,
    "Endpoints": service.validate_endpoints,
    "ConfigMap": core.validate_config_map,
    "Secret": core.validate_secret,
    "Event": core.validate_event,
    "Lease": core.validate_lease,
    "Node": core.validate_node,
    "Namespace": core.validate_namespace,
    "Role": rbac.validate_role,
    "ClusterRole": rbac.validate_cluster_role,
    "RoleBinding": rbac.validate_role_binding,
    "ClusterRoleBinding": rbac.validate_cluster_role_binding,
}

UPDATE: dict[str, Callable[[Message, Message], Errors]] = {
    "Pod": pod.validate_pod_update,
    "ReplicaSet": apps.validate_selector_update,
    "Deployment": apps.validate_selector_update,
    "Service": service.validate_service_update,
    "ConfigMap": core.validate_config_map_update,
    "Secret": core.validate_secret_update,
    "Node": core.validate_node_update,
    "RoleBinding": rbac.validate_binding_update,
    "ClusterRoleBinding": rbac.validate_binding_update,
}


def validate(obj: Message, old: Message | None = None) -> list[FieldViolation]:
    """All violations of `obj` (and, on update, of the change from `old`)."""
    kind = kind_of(obj)
    check = NAME_CHECKS.get(kind.kind, dns1123_subdomain_errors)
    errs = validate_object_meta(obj.metadata, kind, check)
    errs += CREATE[kind.kind](obj)
    if old is not None:
        errs += validate_object_meta_update(obj.metadata, old.metadata)
        update = UPDATE.get(kind.kind)
        if update is not None:
            errs += update(obj, old)
    return errs
