"""Roles (rbac.authorization.k8s.io/v1): namespaced rules; names need only be path segments."""

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import rbac

strategy = Strategy(validate=rbac.validate_role, name_check=rbac.path_segment_name_errors)
