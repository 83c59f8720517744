"""Roles (rbac.authorization.k8s.io/v1): namespaced rules; names need only be path segments."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import rbac


class RoleStrategy(Strategy):
    name_check = staticmethod(rbac.path_segment_name_errors)

    def validate(self, obj: Message) -> list:
        return rbac.validate_role(obj)


strategy = RoleStrategy()
