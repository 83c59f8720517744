"""ClusterRoleBindings (rbac.authorization.k8s.io/v1): roleRef is immutable; apiGroups default to RBAC's."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import rbac


class ClusterRoleBindingStrategy(Strategy):
    name_check = staticmethod(rbac.path_segment_name_errors)

    def default(self, obj: Message) -> None:
        defaults.default_binding(obj)

    def validate(self, obj: Message) -> list:
        return rbac.validate_cluster_role_binding(obj)

    def validate_update(self, new: Message, old: Message) -> list:
        return rbac.validate_binding_update(new, old)


strategy = ClusterRoleBindingStrategy()
