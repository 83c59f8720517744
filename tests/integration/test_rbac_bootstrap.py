"""Bootstrap policy and the RBAC authorizer on a real apiserver context: etcd, storage, watch cache."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from control.apiserver.auth.attributes import Attributes, Decision
from control.apiserver.auth.bootstrap import AUTOUPDATE, ensure_bootstrap_policy
from control.apiserver.auth.rbac import RBACAuthorizer, check_escalation
from control.apiserver.auth.user import AUTHENTICATED, SYSTEM_MASTERS, UserInfo
from control.apiserver.context import ApiContext
from control.apiserver.encryption import Transformer
from control.apiserver.errors import ApiError
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.storage import Storage
from control.apiserver.watchcache import WatchCache
from control.client.convert import from_dict
from control.client.kinds import KINDS
from skiff.v1.requests_pb2 import DeleteRequest
from tests.fixtures.procs import eventually

G = "rbac.authorization.k8s.io"
SCHEDULER = UserInfo("system:kube-scheduler", (AUTHENTICATED,))
CONTROLLERS = UserInfo("system:kube-controller-manager", (AUTHENTICATED,))
ADMIN = UserInfo("admin", (SYSTEM_MASTERS, AUTHENTICATED))
NOBODY = UserInfo("nobody", (AUTHENTICATED,))
JANE = UserInfo("jane", (AUTHENTICATED,))


@pytest.fixture
async def api(etcd):
    storage = Storage([etcd.url], {"secrets": Transformer(b"k" * 32)})
    await storage.connect()
    cache = WatchCache(storage, list(KINDS.values()))
    await cache.start()
    ctx = ApiContext(storage, cache)
    try:
        yield ctx
    finally:
        await cache.stop()
        await storage.close()


def handlers(api, kind: str) -> ResourceHandlers:
    return ResourceHandlers(KINDS[kind], api)


async def create(api, obj: dict):
    msg = from_dict(obj)
    try:
        return await handlers(api, msg.kind).create(msg, dry_run=False)
    except ApiError as e:
        if e.code != grpc.StatusCode.ALREADY_EXISTS:
            raise


async def allowed_eventually(authz, attrs: Attributes, want: Decision = Decision.ALLOW) -> None:
    async def check():
        return authz.authorize(attrs).decision == want
    await eventually(check, timeout=10, what=f"{attrs.user.name} {attrs.describe()} -> {want}")


async def test_bootstrap_creates_the_defaults_once(api):
    await ensure_bootstrap_policy(api)
    await ensure_bootstrap_policy(api)
    roles = {r.metadata.name: r for r in (await api.storage.list(KINDS["ClusterRole"]))[0]}
    assert {"cluster-admin", "admin", "edit", "view", "system:kube-scheduler",
            "system:kube-controller-manager"} <= set(roles)
    admin = roles["cluster-admin"]
    assert admin.metadata.labels["kubernetes.io/bootstrapping"] == "rbac-defaults"
    assert admin.metadata.annotations[AUTOUPDATE] == "true"
    bindings = {b.metadata.name: b for b in (await api.storage.list(KINDS["ClusterRoleBinding"]))[0]}
    assert [(s.kind, s.name) for s in bindings["cluster-admin"].subjects] == [("Group", SYSTEM_MASTERS)]
    assert bindings["system:kube-scheduler"].role_ref.name == "system:kube-scheduler"


async def test_bootstrap_restores_removed_rules_unless_autoupdate_is_off(api):
    await ensure_bootstrap_policy(api)
    view = handlers(api, "ClusterRole")
    stored = await view.get("", "view")
    full = list(stored.rules)
    del stored.rules[1:]
    stored = await view.update(stored, dry_run=False)
    await ensure_bootstrap_policy(api)
    restored = await view.get("", "view")
    assert list(restored.rules) == full
    del restored.rules[1:]
    restored.metadata.annotations[AUTOUPDATE] = "false"
    await view.update(restored, dry_run=False)
    await ensure_bootstrap_policy(api)
    assert len((await view.get("", "view")).rules) == 1


# What control/scheduler and control/controllers ask the apiserver for.
COMPONENT_REQUESTS = [
    (SCHEDULER, "watch", "", "pods", "", "", ""),
    (SCHEDULER, "list", "", "nodes", "", "", ""),
    (SCHEDULER, "list", "", "namespaces", "", "", ""),
    (SCHEDULER, "watch", "", "services", "", "", ""),
    (SCHEDULER, "list", "apps", "replicasets", "", "", ""),
    (SCHEDULER, "watch", "apps", "statefulsets", "", "", ""),
    (SCHEDULER, "get", "", "pods", "", "dev", "web"),
    (SCHEDULER, "create", "", "pods", "binding", "dev", "web"),
    (SCHEDULER, "update", "", "pods", "status", "dev", "web"),
    (SCHEDULER, "create", "", "events", "", "dev", ""),
    (SCHEDULER, "update", "", "events", "", "dev", "web.1"),
    (SCHEDULER, "get", "coordination.k8s.io", "leases", "", "kube-system", "kube-scheduler"),
    (SCHEDULER, "update", "coordination.k8s.io", "leases", "", "kube-system", "kube-scheduler"),
    (SCHEDULER, "create", "coordination.k8s.io", "leases", "", "kube-system", ""),
    (CONTROLLERS, "list", "", "pods", "", "", ""),
    (CONTROLLERS, "watch", "apps", "deployments", "", "", ""),
    (CONTROLLERS, "list", G, "rolebindings", "", "dev", ""),
    (CONTROLLERS, "get", "apps", "replicasets", "", "dev", "web-1"),
    (CONTROLLERS, "create", "", "pods", "", "dev", ""),
    (CONTROLLERS, "delete", "", "pods", "", "dev", "web-1-x"),
    (CONTROLLERS, "create", "apps", "replicasets", "", "dev", ""),
    (CONTROLLERS, "update", "apps", "replicasets", "", "dev", "web-1"),
    (CONTROLLERS, "update", "apps", "replicasets", "status", "dev", "web-1"),
    (CONTROLLERS, "update", "apps", "deployments", "status", "dev", "web"),
    (CONTROLLERS, "update", "", "pods", "status", "dev", "web-1-x"),
    (CONTROLLERS, "create", "", "endpoints", "", "dev", ""),
    (CONTROLLERS, "update", "", "endpoints", "", "dev", "web"),
    (CONTROLLERS, "update", "", "nodes", "", "", "node-a"),
    (CONTROLLERS, "update", "", "nodes", "status", "", "node-a"),
    (CONTROLLERS, "update", "", "namespaces", "", "", "dev"),
    (CONTROLLERS, "delete", G, "roles", "", "dev", "r"),
    (CONTROLLERS, "delete", G, "rolebindings", "", "dev", "rb"),
    (CONTROLLERS, "delete", "", "secrets", "", "dev", "s"),
    (CONTROLLERS, "update", "", "configmaps", "", "dev", "c"),
    (CONTROLLERS, "get", "coordination.k8s.io", "leases", "", "kube-system", "kube-controller-manager"),
    (ADMIN, "delete", "", "nodes", "", "", "node-a"),
    (ADMIN, "create", "", "pods", "exec", "dev", "web"),
]

COMPONENT_DENIALS = [
    (SCHEDULER, "get", "", "secrets", "", "dev", "s"),
    (SCHEDULER, "delete", "", "nodes", "", "", "node-a"),
    (SCHEDULER, "update", "coordination.k8s.io", "leases", "", "kube-system", "kube-controller-manager"),
    (SCHEDULER, "create", "", "pods", "exec", "dev", "web"),
    (SCHEDULER, "update", "", "services", "", "dev", "web"),
    (CONTROLLERS, "create", G, "clusterrolebindings", "", "", ""),
    (CONTROLLERS, "delete", "", "nodes", "", "", "node-a"),
    (CONTROLLERS, "create", "", "pods", "exec", "dev", "web"),
    (NOBODY, "list", "", "pods", "", "dev", ""),
    (NOBODY, "get", "", "namespaces", "", "", "dev"),
]


async def test_component_identities_hold_what_the_components_do(api):
    await ensure_bootstrap_policy(api)
    authz = RBACAuthorizer(api.cache)
    for user, *rest in COMPONENT_REQUESTS:
        await allowed_eventually(authz, Attributes(user, *rest))
    for user, *rest in COMPONENT_DENIALS:
        assert authz.authorize(Attributes(user, *rest)).decision == Decision.NO_OPINION, (user.name, rest)


def rb(name: str, ns: str, role_kind: str, role: str, user: str, kind="RoleBinding") -> dict:
    meta = {"name": name, "namespace": ns} if ns else {"name": name}
    return {"apiVersion": f"{G}/v1", "kind": kind, "metadata": meta,
            "subjects": [{"kind": "User", "name": user, "apiGroup": G}],
            "roleRef": {"kind": role_kind, "name": role, "apiGroup": G}}


async def test_bindings_written_through_the_apiserver_take_effect(api):
    await ensure_bootstrap_policy(api)
    await create(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    authz = RBACAuthorizer(api.cache)
    list_pods = Attributes(JANE, "list", "", "pods", "", "team-a")
    assert authz.authorize(list_pods).decision == Decision.NO_OPINION
    await create(api, rb("jane-view", "team-a", "ClusterRole", "view", "jane"))
    await allowed_eventually(authz, list_pods)
    assert authz.authorize(Attributes(JANE, "list", "", "pods", "", "team-b")).decision == Decision.NO_OPINION
    assert authz.authorize(Attributes(JANE, "get", "", "secrets", "", "team-a", "s")).decision == \
        Decision.NO_OPINION
    await handlers(api, "RoleBinding").delete(DeleteRequest(namespace="team-a", name="jane-view"))
    await allowed_eventually(authz, list_pods, Decision.NO_OPINION)


async def test_a_namespace_admin_may_delegate_edit_but_not_cluster_wide(api):
    await ensure_bootstrap_policy(api)
    await create(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}})
    await create(api, rb("jane-admin", "team-b", "ClusterRole", "admin", "jane"))
    authz = RBACAuthorizer(api.cache)
    await allowed_eventually(authz, Attributes(JANE, "create", G, "rolebindings", "", "team-b"))
    check_escalation(authz, JANE, from_dict(rb("joe-edit", "team-b", "ClusterRole", "edit", "joe")), cache=api.cache)
    with pytest.raises(ApiError) as e:
        check_escalation(authz, JANE, from_dict(rb("joe-edit", "", "ClusterRole", "edit", "joe",
                                                   kind="ClusterRoleBinding")), cache=api.cache)
    assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert 'clusterrolebindings.rbac.authorization.k8s.io "joe-edit" is forbidden: user "jane"' in e.value.message
    nodes_role = {"apiVersion": f"{G}/v1", "kind": "Role", "metadata": {"name": "n", "namespace": "team-b"},
                  "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["delete"]}]}
    with pytest.raises(ApiError):
        check_escalation(authz, JANE, from_dict(nodes_role), cache=api.cache)


async def test_apiservers_starting_together_reconcile_without_failing(api, etcd):
    await ensure_bootstrap_policy(api)
    view = handlers(api, "ClusterRole")
    stored = await view.get("", "view")
    full = list(stored.rules)
    del stored.rules[1:]
    await view.update(stored, dry_run=False)
    other = ApiContext(api.storage, WatchCache(api.storage, list(KINDS.values())))
    await other.cache.start()
    try:
        await asyncio.gather(ensure_bootstrap_policy(api), ensure_bootstrap_policy(other))
    finally:
        await other.cache.stop()
    assert list((await view.get("", "view")).rules) == full
