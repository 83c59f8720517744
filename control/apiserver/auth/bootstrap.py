"""The default ClusterRoles and ClusterRoleBindings every cluster starts with.

Kubernetes' bootstrap policy reduced to Skiff's kinds: `cluster-admin` bound
to the group system:masters; the user-facing `admin`, `edit` and `view` to
grant in a namespace with a RoleBinding, written out from each kind's
`aggregate_to` in the kind table (Skiff has no aggregation controller); `system:kube-scheduler` and
`system:kube-controller-manager` bound to those users, holding what
control/scheduler and control/controllers do; `system:basic-user` bound to every authenticated user
(asking about oneself: the self reviews). Nodes are authorized by the Node authorizer, so nothing binds
system:nodes.

At every start `ensure_bootstrap_policy` creates what is missing and, for
objects still annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`,
adds the rules and subjects missing from them, as kube-apiserver's
reconciliation does; it never removes what an administrator added.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.auth.user import AUTHENTICATED, SYSTEM_MASTERS
from control.apiserver.context import ApiContext
from control.apiserver.handlers import ResourceHandlers
from control.client.kinds import KINDS, RBAC_GROUP, Kind
from skiff.v1 import rbac_pb2

log = logging.getLogger(__name__)

BOOTSTRAP_LABEL = ("kubernetes.io/bootstrapping", "rbac-defaults")
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
SCHEDULER_USER = "system:kube-scheduler"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
BASIC_USER = "system:basic-user"

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
CORE, COORDINATION = "", "coordination.k8s.io"
STORAGE = "storage.k8s.io"
METRICS_GROUP = "metrics.k8s.io"
METRICS_READER = "system:aggregated-metrics-reader"
AUTH_DELEGATOR = "system:auth-delegator"
ISSUER_DISCOVERY = "system:service-account-issuer-discovery"


def rule(verbs: list[str], groups: list[str], resources: list[str], names: tuple[str, ...] = ()) -> rbac_pb2.PolicyRule:
    return rbac_pb2.PolicyRule(verbs=verbs, api_groups=groups, resources=resources, resource_names=list(names))


# --- User-facing roles: derived from each kind's `aggregate_to` -----------------------------------

def _by_group(kinds: list[Kind], resources: Callable[[Kind], list[str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for kind in kinds:
        names = grouped.setdefault(kind.group, [])
        names.extend(r for r in resources(kind) if r not in names)
    return {group: names for group, names in grouped.items() if names}


def _rules(verbs: list[str], kinds: list[Kind], resources: Callable[[Kind], list[str]]) -> list[rbac_pb2.PolicyRule]:
    return [rule(verbs, [group], names) for group, names in _by_group(kinds, resources).items()]


def _aggregated_to(role: str) -> list[Kind]:
    return [k for k in KINDS.values() if role in k.aggregate_to]


def _readable(kind: Kind) -> list[str]:
    """The resource and the subresources a reader sees: status, scale and the kind's `get` RPCs (pods/log)."""
    names = [kind.plural]
    names += [f"{kind.plural}/status"] if kind.has_status else []
    names += [f"{kind.plural}/scale"] if kind.scale else []
    names += [f"{kind.plural}/{r.subresource}" for r in kind.rpcs if r.for_users and r.verb == "get"]
    return names


def _exec_like(kind: Kind) -> list[str]:
    """The kind's create RPCs users get (pods/exec)."""
    return [f"{kind.plural}/{r.subresource}" for r in kind.rpcs if r.for_users and r.verb == "create"]


def _writable(kind: Kind) -> list[str]:
    """What an editor changes: the resource, its scale and the kind's create RPCs."""
    return [kind.plural, *([f"{kind.plural}/scale"] if kind.scale else []), *_exec_like(kind)]


def _metrics_rules() -> list[rbac_pb2.PolicyRule]:
    """The resource metrics API (metrics.k8s.io), which metrics-server's reader role aggregates to view."""
    return [rule(READ, [METRICS_GROUP], ["pods", "nodes"])]


def _view_rules() -> list[rbac_pb2.PolicyRule]:
    return _rules(READ, _aggregated_to("view"), _readable) + _metrics_rules()


def _edit_rules() -> list[rbac_pb2.PolicyRule]:
    editable = _aggregated_to("edit")
    # Streaming subresources are also opened with GET (kubectl's exec over WebSocket).
    return (_view_rules() + _rules(WRITE, editable, _writable)
            + _rules(READ, editable, lambda k: [*_exec_like(k), *([] if "view" in k.aggregate_to else [k.plural])]))


def _admin_rules() -> list[rbac_pb2.PolicyRule]:
    return _edit_rules() + _rules(WRITE + READ, _aggregated_to("admin"), lambda k: [k.plural])


# --- Components ----------------------------------------------------------------------------------

def _scheduler_rules() -> list[rbac_pb2.PolicyRule]:
    return [
        rule(["create", "patch", "update"], [CORE], ["events"]),
        rule(["create"], [COORDINATION], ["leases"]),
        rule(["get", "update"], [COORDINATION], ["leases"], ("kube-scheduler",)),
        rule(READ, [CORE], ["nodes", "namespaces"]),
        rule(READ, ["policy"], ["poddisruptionbudgets"]),
        # PodTopologySpread's default selector.
        rule(READ, [CORE], ["services"]),
        rule(READ, ["apps"], ["replicasets", "statefulsets"]),
        rule(["delete", *READ], [CORE], ["pods"]),
        rule(["create"], [CORE], ["pods/binding"]),
        rule(["patch", "update"], [CORE], ["pods/status"]),
        # Kubernetes' system:volume-scheduler: VolumeBinding reads classes, binds claims and volumes.
        rule([*READ, "patch", "update"], [CORE], ["persistentvolumeclaims", "persistentvolumes"]),
        rule(READ, [STORAGE], ["storageclasses"]),
    ]


def _controller_manager_rules() -> list[rbac_pb2.PolicyRule]:
    """The controllers create and update what they own, the namespace controller deletes any
    namespaced object, the garbage collector any object of any kind (it also updates ownerReferences
    and finalizers), and every controller writes status: so the whole table."""
    namespaced = [k for k in KINDS.values() if k.namespaced]
    return [
        # Informers, the garbage collector's owner lookups, the namespace controller's sweep.
        rule(READ, ["*"], ["*"]),
        rule(["create"], [COORDINATION], ["leases"]),
        rule(["get", "update"], [COORDINATION], ["leases"], ("kube-controller-manager",)),
        *_rules(["create"], namespaced, lambda k: [k.plural]),
        # Nodes come and go with their machines: no controller here deletes one.
        *_rules(["delete", "deletecollection", "patch", "update"], list(KINDS.values()),
                lambda k: [k.plural] if k.kind != "Node" else []),
        rule(["patch", "update"], [CORE], ["nodes"]),
        # The local provisioner creates volumes and, at start, its StorageClass.
        rule(["create"], [CORE], ["persistentvolumes"]),
        rule(["create"], [STORAGE], ["storageclasses"]),
        # The autoscaler scales any kind through its scale subresource.
        rule(["get", "update"], ["*"], ["*/scale"]),
        *_rules(["update", "patch"], list(KINDS.values()), lambda k: [f"{k.plural}/status"] if k.has_status else []),
    ]


def _basic_user_rules() -> list[rbac_pb2.PolicyRule]:
    """Kubernetes' system:basic-user: every authenticated user may ask about themselves."""
    return [rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"])]


def _cluster_role(name: str, rules: list[rbac_pb2.PolicyRule]) -> rbac_pb2.ClusterRole:
    role = KINDS["ClusterRole"].new(rules=rules)
    _bootstrap_meta(role, name)
    return role


def _binding(name: str, role: str, kind: str, subject: str) -> rbac_pb2.ClusterRoleBinding:
    binding = KINDS["ClusterRoleBinding"].new(
        role_ref=rbac_pb2.RoleRef(api_group=RBAC_GROUP, kind="ClusterRole", name=role),
        subjects=[rbac_pb2.Subject(kind=kind, api_group=RBAC_GROUP, name=subject)])
    _bootstrap_meta(binding, name)
    return binding


def _bootstrap_meta(obj: Message, name: str) -> None:
    obj.metadata.name = name
    obj.metadata.labels[BOOTSTRAP_LABEL[0]] = BOOTSTRAP_LABEL[1]
    obj.metadata.annotations[AUTOUPDATE] = "true"


def cluster_roles() -> list[rbac_pb2.ClusterRole]:
    everything = [rule(["*"], ["*"], ["*"]), rbac_pb2.PolicyRule(verbs=["*"], non_resource_urls=["*"])]
    return [
        _cluster_role("cluster-admin", everything),
        _cluster_role("admin", _admin_rules()),
        _cluster_role("edit", _edit_rules()),
        _cluster_role("view", _view_rules()),
        _cluster_role(METRICS_READER, _metrics_rules()),
        # Who may ask whether a token authenticates and what a user may do (webhook authenticators).
        _cluster_role(AUTH_DELEGATOR, [rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
                                       rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])]),
        _cluster_role(ISSUER_DISCOVERY, [rbac_pb2.PolicyRule(verbs=["get"], non_resource_urls=[
            "/.well-known/openid-configuration", "/.well-known/openid-configuration/",
            "/openid/v1/jwks", "/openid/v1/jwks/"])]),
        _cluster_role(SCHEDULER_USER, _scheduler_rules()),
        _cluster_role(CONTROLLER_MANAGER_USER, _controller_manager_rules()),
        _cluster_role(BASIC_USER, _basic_user_rules()),
    ]


def cluster_role_bindings() -> list[rbac_pb2.ClusterRoleBinding]:
    return [
        _binding("cluster-admin", "cluster-admin", "Group", SYSTEM_MASTERS),
        _binding(ISSUER_DISCOVERY, ISSUER_DISCOVERY, "Group", "system:serviceaccounts"),
        _binding(SCHEDULER_USER, SCHEDULER_USER, "User", SCHEDULER_USER),
        _binding(CONTROLLER_MANAGER_USER, CONTROLLER_MANAGER_USER, "User", CONTROLLER_MANAGER_USER),
        _binding(BASIC_USER, BASIC_USER, "Group", AUTHENTICATED),
    ]


# --- Reconciliation ------------------------------------------------------------------------------

def _reconciled(existing: Message, wanted: Message) -> Message | None:
    """`existing` with what `wanted` adds, or None when nothing is missing or autoupdate is off."""
    if existing.metadata.annotations.get(AUTOUPDATE) != "true":
        return None
    updated = existing.__class__()
    updated.CopyFrom(existing)
    field = "rules" if isinstance(existing, rbac_pb2.ClusterRole) else "subjects"
    have = list(getattr(existing, field))
    missing = [item for item in getattr(wanted, field) if item not in have]
    if not missing:
        return None
    getattr(updated, field).extend(missing)
    return updated


async def _ensure_once(handlers: ResourceHandlers, wanted: Message) -> None:
    try:
        await handlers.create(wanted, dry_run=False)
        log.info("created %s %s", wanted.kind, wanted.metadata.name)
        return
    except errors.ApiError as e:
        if e.code.name != "ALREADY_EXISTS":
            raise
    existing = await handlers.get("", wanted.metadata.name)
    updated = _reconciled(existing, wanted)
    if updated is not None:
        await handlers.update(updated, dry_run=False)
        log.info("added missing default permissions to %s %s", wanted.kind, wanted.metadata.name)


async def _ensure(api: ApiContext, wanted: Message, attempts: int = 5) -> None:
    """Another apiserver starting at the same time may write the same object: try again."""
    handlers = ResourceHandlers(KINDS[wanted.kind], api)
    for attempt in range(attempts):
        obj = wanted.__class__()
        obj.CopyFrom(wanted)
        try:
            await _ensure_once(handlers, obj)
            return
        except errors.ApiError as e:
            if e.code.name not in ("ABORTED", "NOT_FOUND") or attempt == attempts - 1:
                raise


async def ensure_bootstrap_policy(api: ApiContext) -> None:
    """Creates the default ClusterRoles and ClusterRoleBindings, completing autoupdated ones."""
    for obj in [*cluster_roles(), *cluster_role_bindings()]:
        await _ensure(api, obj)
