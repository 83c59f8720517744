"""Every API call passes here: authentication, authorization, NodeRestriction, RBAC's escalation
check, and the audit line of a mutating request, whatever its outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import grpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.auth.attributes import Attributes, Decision
from control.apiserver.auth.audit import utcnow
from control.apiserver.auth.noderestriction import NodeRestriction
from control.apiserver.auth.rbac import check_escalation
from control.apiserver.auth.user import UserInfo
from control.apiserver.context import ApiContext
from control.client.kinds import RBAC_GROUP, Kind

ANONYMOUS = UserInfo("system:anonymous", ("system:unauthenticated",))
RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


@dataclass(frozen=True)
class Action:
    """What one RPC of a kind's service means to the authorizer."""
    verb: str
    # request -> (namespace, name) as given; the name of a create is the object's (for audit only)
    target: Callable[[Message], tuple[str, str]]
    subresource: str = ""
    mutating: bool = False
    carries_object: bool = False  # Create/Update/UpdateStatus: request.object
    # A subresource whose request is itself what admission checks (a TokenRequest): request -> object.
    body: Callable[[Message], Message] | None = None


@dataclass
class Call:
    attrs: Attributes
    name: str  # the object's name, for the audit log
    received: datetime
    authenticated: bool = False
    reason: str = ""
    source_ip: str = ""


def forbidden(attrs: Attributes, reason: str) -> errors.ApiError:
    resource = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    subject = f'{resource} "{attrs.name}"' if attrs.name else resource
    message = f'{subject} is forbidden: User "{attrs.user.name}" {attrs.describe()}'
    return errors.forbidden(f"{message}: {reason}" if reason else message)


class Gate:
    def __init__(self, api: ApiContext) -> None:
        self.api = api
        self.restriction = NodeRestriction(api)

    @property
    def enabled(self) -> bool:
        return self.api.authenticator is not None

    def begin(self, kind: Kind, action: Action, request: Message) -> Call:
        namespace, name = action.target(request)
        authz_name = "" if action.verb == "create" and not action.subresource else name
        if kind.kind == "Namespace":
            namespace = authz_name  # as Kubernetes: a named namespace is authorized within itself
        elif kind.namespaced and action.verb not in ("list", "watch"):
            namespace = namespace or "default"
        elif not kind.namespaced:
            namespace = ""
        attrs = Attributes(ANONYMOUS, action.verb, kind.group, kind.plural, action.subresource,
                           namespace, authz_name)
        return Call(attrs, name, utcnow())

    def authenticate(self, context: grpc.aio.ServicerContext) -> UserInfo | None:
        return self.api.authenticator.authenticate(context) if self.enabled else None

    async def admit(self, call: Call, kind: Kind, action: Action, request: Message,
                    context: grpc.aio.ServicerContext) -> None:
        if not self.enabled:
            return
        # Now, while the caller's connection surely exists: the audit line is written after the call.
        call.source_ip = self.api.authenticator.source_ip(context)
        user = self.api.authenticator.authenticate(context)
        call.authenticated = True
        attrs = call.attrs = Attributes(user, *_fields(call.attrs))
        verdict = self.api.authorizer.authorize(attrs)
        call.reason = verdict.reason
        if verdict.decision is not Decision.ALLOW:
            raise forbidden(attrs, verdict.reason)
        obj = request.object if action.carries_object else None
        await self.restriction.admit(attrs, obj if action.body is None else action.body(request))
        if obj is not None and kind.kind in RBAC_KINDS and kind.group == RBAC_GROUP:
            await self._check_escalation(kind, user, obj, attrs)

    async def admit_object(self, call: Call, kind: Kind, obj: Message) -> None:
        """The object checks of a write authorized before its object was known (a REST PATCH, a scale):
        NodeRestriction and RBAC's escalation check, as for the update it becomes."""
        if not self.enabled:
            return
        attrs = replace(call.attrs, verb="update")
        await self.restriction.admit(attrs, obj)
        if kind.kind in RBAC_KINDS and kind.group == RBAC_GROUP:
            await self._check_escalation(kind, attrs.user, obj, attrs)

    async def admit_create(self, call: Call, kind: Kind, obj: Message) -> None:
        """A PATCH that creates its object (a server-side apply) needs `create` too, as in Kubernetes."""
        if not self.enabled:
            return
        attrs = replace(call.attrs, verb="create")
        verdict = self.api.authorizer.authorize(attrs)
        if verdict.decision is not Decision.ALLOW:
            raise forbidden(attrs, verdict.reason)
        await self.restriction.admit(attrs, obj)
        if kind.kind in RBAC_KINDS and kind.group == RBAC_GROUP:
            await self._check_escalation(kind, attrs.user, obj, attrs)

    async def _check_escalation(self, kind: Kind, user: UserInfo, obj: Message, attrs: Attributes) -> None:
        old = None
        if attrs.verb == "update":
            await self.api.cache[kind].wait_fresh()
            old = self.api.cache[kind].get(attrs.namespace, obj.metadata.name)
        check_escalation(self.api.authorizer, user, obj, old, cache=self.api.cache)

    def end(self, call: Call, code: grpc.StatusCode, action: Action, context: grpc.aio.ServicerContext) -> None:
        audit = self.api.audit
        if audit is None or not action.mutating:
            return
        audit.record(call.attrs, call.name, code, call.source_ip, call.received, call.authenticated, call.reason)


def _fields(attrs: Attributes) -> tuple:
    return (attrs.verb, attrs.api_group, attrs.resource, attrs.subresource, attrs.namespace, attrs.name)
