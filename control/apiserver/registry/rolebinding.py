"""RoleBindings (rbac.authorization.k8s.io/v1): roleRef is immutable; apiGroups default to RBAC's."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import rbac

strategy = Strategy(default=defaults.default_binding, validate=rbac.validate_role_binding,
                    validate_update=rbac.validate_binding_update, name_check=rbac.path_segment_name_errors)
