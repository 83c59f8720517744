"""ClusterRoles (rbac.authorization.k8s.io/v1): cluster-wide rules, also for non-resource URLs."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import rbac


class ClusterRoleStrategy(Strategy):
    name_check = staticmethod(rbac.path_segment_name_errors)

    def validate(self, obj: Message) -> list:
        return rbac.validate_cluster_role(obj)


strategy = ClusterRoleStrategy()
