"""What a request asks to do, in Kubernetes' authorization terms, and an authorizer's answer."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from control.apiserver.auth.user import UserInfo


@dataclass(frozen=True)
class Attributes:
    user: UserInfo
    verb: str  # get list watch create update patch delete deletecollection
    api_group: str  # "" for core, "apps", "coordination.k8s.io", "rbac.authorization.k8s.io"
    resource: str  # plural: "pods"
    subresource: str = ""  # status, binding, log, exec, proxy
    namespace: str = ""
    name: str = ""
    path: str = ""  # set for a non-resource request (only SelfSubjectAccessReview asks about one here)

    def describe(self) -> str:
        """Kubernetes' forbidden phrasing: `cannot list resource "pods" in API group "" in the namespace "x"`."""
        if self.path:
            return f'cannot {self.verb} path "{self.path}"'
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        where = f' in the namespace "{self.namespace}"' if self.namespace else " at the cluster scope"
        return f'cannot {self.verb} resource "{resource}" in API group "{self.api_group}"{where}'


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no-opinion"


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str = ""


class Authorizer(Protocol):
    def authorize(self, attrs: Attributes) -> Verdict: ...
