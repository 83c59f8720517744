"""The authorizer chain, as kube-apiserver's union authorizer: system:masters first (hard-wired,
as in Kubernetes), then each --authorization-mode in order. The first ALLOW wins, a DENY stops
the chain, and without either the request is forbidden with the reasons collected."""

from __future__ import annotations

from collections.abc import Callable

from control.apiserver.auth.attributes import Attributes, Authorizer, Decision, Verdict
from control.apiserver.auth.node import NodeAuthorizer
from control.apiserver.auth.rbac import RBACAuthorizer
from control.apiserver.auth.user import SYSTEM_MASTERS
from control.apiserver.context import ApiContext


class PrivilegedGroupAuthorizer:
    def __init__(self, groups: tuple[str, ...] = (SYSTEM_MASTERS,)) -> None:
        self.groups = frozenset(groups)

    def authorize(self, attrs: Attributes) -> Verdict:
        if self.groups.intersection(attrs.user.groups):
            return Verdict(Decision.ALLOW)
        return Verdict(Decision.NO_OPINION)


class AlwaysAllow:
    def authorize(self, attrs: Attributes) -> Verdict:
        return Verdict(Decision.ALLOW)


class AlwaysDeny:
    def authorize(self, attrs: Attributes) -> Verdict:
        return Verdict(Decision.DENY, "Everything is forbidden.")


class UnionAuthorizer:
    def __init__(self, authorizers: list[Authorizer]) -> None:
        self.authorizers = authorizers

    def authorize(self, attrs: Attributes) -> Verdict:
        reasons = []
        for authorizer in self.authorizers:
            verdict = authorizer.authorize(attrs)
            if verdict.decision is Decision.ALLOW:
                return verdict
            if verdict.reason:
                reasons.append(verdict.reason)
            if verdict.decision is Decision.DENY:
                break
        return Verdict(Decision.DENY, ", ".join(reasons))


def _node(api: ApiContext) -> Authorizer:
    return NodeAuthorizer(api.cache)


def _rbac(api: ApiContext) -> Authorizer:
    return RBACAuthorizer(api.cache)


MODES: dict[str, Callable[[ApiContext], Authorizer]] = {
    "Node": _node,
    "RBAC": _rbac,
    "AlwaysAllow": lambda _api: AlwaysAllow(),
    "AlwaysDeny": lambda _api: AlwaysDeny(),
}


class AuthorizationModeError(ValueError):
    pass


def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    if not modes:
        raise AuthorizationModeError("--authorization-mode: at least one mode is required")
    for mode in modes:
        if mode not in MODES:
            raise AuthorizationModeError(f'--authorization-mode: unknown authorization mode "{mode}" '
                                         f"(supported: {', '.join(MODES)})")
    if len(set(modes)) != len(modes):
        raise AuthorizationModeError("--authorization-mode: a mode may be given only once")
    return modes


def build_authorizer(api: ApiContext, modes: list[str]) -> Authorizer:
    for mode in modes:
        if mode not in MODES:
            raise AuthorizationModeError(f'unknown authorization mode "{mode}"')
    return UnionAuthorizer([PrivilegedGroupAuthorizer(), *(MODES[m](api) for m in modes)])
