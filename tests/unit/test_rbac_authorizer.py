"""RBACAuthorizer and check_escalation over a watch cache filled the way its etcd watch fills it."""

from __future__ import annotations

import grpc
import pytest

from control.apiserver.auth.attributes import Attributes, Decision
from control.apiserver.auth.rbac import RBACAuthorizer, check_escalation
from control.apiserver.auth.user import SYSTEM_MASTERS, UserInfo
from control.apiserver.errors import ApiError
from control.apiserver.watchcache import CacheEvent, WatchCache
from control.client.convert import from_dict
from control.client.kinds import KINDS

G = "rbac.authorization.k8s.io"
ALICE = UserInfo("alice", ("system:authenticated",))
BOB = UserInfo("bob", ("auditors", "system:authenticated"))


class Cache:
    """A WatchCache without etcd: put/delete apply events as its watch loop would."""

    def __init__(self) -> None:
        self.cache = WatchCache(None, list(KINDS.values()))
        self.revision = 0

    def put(self, obj: dict) -> None:
        msg = from_dict(obj)
        self.revision += 1
        msg.metadata.resource_version = str(self.revision)
        kc = self.cache[KINDS[msg.kind]]
        old = kc.get(msg.metadata.namespace, msg.metadata.name)
        kc._apply(CacheEvent.of("MODIFIED" if old else "ADDED", self.revision, msg, old))
        kc.revision = self.revision

    def delete(self, kind: str, name: str, namespace: str = "") -> None:
        kc = self.cache[KINDS[kind]]
        self.revision += 1
        kc._apply(CacheEvent.of("DELETED", self.revision, kc.get(namespace, name)))
        kc.revision = self.revision


def role(name, ns, *rules, kind="Role"):
    meta = {"name": name, "namespace": ns} if kind == "Role" else {"name": name}
    return {"apiVersion": f"{G}/v1", "kind": kind, "metadata": meta, "rules": list(rules)}


def binding(name, ns, role_kind, role_name, *subjects, kind="RoleBinding"):
    meta = {"name": name, "namespace": ns} if kind == "RoleBinding" else {"name": name}
    return {"apiVersion": f"{G}/v1", "kind": kind, "metadata": meta, "subjects": list(subjects),
            "roleRef": {"apiGroup": G, "kind": role_kind, "name": role_name}}


def user(name):
    return {"kind": "User", "name": name, "apiGroup": G}


def group(name):
    return {"kind": "Group", "name": name, "apiGroup": G}


POD_READER = {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}
SECRET_READER = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}


@pytest.fixture
def cache() -> Cache:
    c = Cache()
    c.put(role("pod-reader", "dev", POD_READER))
    c.put(binding("read-pods", "dev", "Role", "pod-reader", user("alice")))
    c.put(role("secret-reader", "", SECRET_READER, kind="ClusterRole"))
    c.put(binding("read-secrets", "dev", "ClusterRole", "secret-reader", group("auditors")))
    return c


def ask(authz, who, verb, resource, ns="dev", sub="", name="", group=""):
    return authz.authorize(Attributes(who, verb, group, resource, sub, ns, name))


def test_role_binding_grants_only_in_its_namespace(cache):
    authz = RBACAuthorizer(cache.cache)
    allowed = ask(authz, ALICE, "list", "pods")
    assert allowed.decision == Decision.ALLOW
    assert allowed.reason == 'RBAC: allowed by RoleBinding "read-pods/dev" of Role "pod-reader" to User "alice"'
    assert ask(authz, ALICE, "get", "pods", sub="log", name="web").decision == Decision.ALLOW
    assert ask(authz, ALICE, "list", "pods", ns="prod").decision == Decision.NO_OPINION
    assert ask(authz, ALICE, "list", "pods", ns="").decision == Decision.NO_OPINION
    assert ask(authz, ALICE, "delete", "pods", name="web").decision == Decision.NO_OPINION
    assert ask(authz, ALICE, "get", "pods", sub="exec", name="web").decision == Decision.NO_OPINION


def test_role_binding_to_cluster_role_grants_in_the_binding_namespace_only(cache):
    authz = RBACAuthorizer(cache.cache)
    assert ask(authz, BOB, "get", "secrets", name="s").decision == Decision.ALLOW
    assert ask(authz, BOB, "get", "secrets", ns="prod", name="s").decision == Decision.NO_OPINION
    assert ask(authz, BOB, "list", "secrets", ns="").decision == Decision.NO_OPINION
    assert ask(authz, ALICE, "get", "secrets", name="s").decision == Decision.NO_OPINION


def test_cluster_role_binding_grants_everywhere_and_at_cluster_scope(cache):
    authz = RBACAuthorizer(cache.cache)
    cache.put(binding("pods-everywhere", "", "ClusterRole", "pod-viewer", user("carol"), kind="ClusterRoleBinding"))
    carol = UserInfo("carol")
    denied = ask(authz, carol, "list", "pods", ns="prod")
    assert denied.decision == Decision.NO_OPINION
    assert denied.reason == 'RBAC: clusterrole.rbac.authorization.k8s.io "pod-viewer" not found'
    cache.put(role("pod-viewer", "", POD_READER, kind="ClusterRole"))
    allowed = ask(authz, carol, "list", "pods", ns="prod")
    assert allowed.reason == ('RBAC: allowed by ClusterRoleBinding "pods-everywhere" of ClusterRole "pod-viewer" '
                              'to User "carol"')
    assert ask(authz, carol, "list", "pods", ns="").decision == Decision.ALLOW


def test_changes_to_bindings_and_roles_take_effect(cache):
    authz = RBACAuthorizer(cache.cache)
    assert ask(authz, ALICE, "list", "pods").decision == Decision.ALLOW
    cache.put(role("pod-reader", "dev", {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}))
    assert ask(authz, ALICE, "list", "pods").decision == Decision.NO_OPINION
    assert ask(authz, ALICE, "get", "pods", name="x").decision == Decision.ALLOW
    cache.delete("RoleBinding", "read-pods", "dev")
    assert ask(authz, ALICE, "get", "pods", name="x").decision == Decision.NO_OPINION
    cache.put(binding("read-pods-2", "dev", "Role", "pod-reader", user("bob"), user("alice")))
    assert ask(authz, ALICE, "get", "pods", name="x").decision == Decision.ALLOW


def test_service_account_subjects(cache):
    authz = RBACAuthorizer(cache.cache)
    cache.put(binding("sa", "dev", "Role", "pod-reader", {"kind": "ServiceAccount", "name": "builder"}))
    sa = UserInfo("system:serviceaccount:dev:builder", ("system:serviceaccounts",))
    other = UserInfo("system:serviceaccount:prod:builder", ("system:serviceaccounts",))
    assert ask(authz, sa, "watch", "pods").reason == \
        'RBAC: allowed by RoleBinding "sa/dev" of Role "pod-reader" to ServiceAccount "builder/dev"'
    assert ask(authz, other, "watch", "pods").decision == Decision.NO_OPINION


class Chain:
    """The apiserver's chain reduced to what escalation checks need: masters, then RBAC."""

    def __init__(self, cache: WatchCache) -> None:
        self.rbac = RBACAuthorizer(cache)

    def authorize(self, attrs):
        return self.rbac.authorize(attrs)


def escalate(cache, who, obj, old=None):
    check_escalation(Chain(cache.cache), who, from_dict(obj), from_dict(old) if old else None, cache=cache.cache)


def test_creating_a_role_within_ones_own_permissions_passes(cache):
    escalate(cache, ALICE, role("mine", "dev", {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}))


def test_creating_a_role_beyond_ones_permissions_is_forbidden(cache):
    wider = role("wider", "dev", {"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "delete"]})
    with pytest.raises(ApiError) as e:
        escalate(cache, ALICE, wider)
    assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert e.value.message == (
        'roles.rbac.authorization.k8s.io "wider" is forbidden: user "alice" (groups=["system:authenticated"]) '
        "is attempting to grant RBAC permissions not currently held:\n"
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}')
    # the same role in a namespace where alice holds nothing
    with pytest.raises(ApiError):
        escalate(cache, ALICE, role("mine", "prod", {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}))


def test_escalate_verb_lets_a_user_grant_more(cache):
    wider = role("wider", "dev", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
    cache.put(role("role-escalator", "dev", {"apiGroups": [G], "resources": ["roles"], "verbs": ["escalate"]}))
    cache.put(binding("esc", "dev", "Role", "role-escalator", user("alice")))
    escalate(cache, ALICE, wider)


def test_system_masters_pass(cache):
    admin = UserInfo("admin", (SYSTEM_MASTERS,))
    escalate(cache, admin, role("all", "", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                                kind="ClusterRole"))


def test_binding_to_a_role_one_holds_passes_and_to_more_is_forbidden(cache):
    escalate(cache, ALICE, binding("share", "dev", "Role", "pod-reader", user("dave")))
    with pytest.raises(ApiError) as e:
        escalate(cache, ALICE, binding("share", "dev", "ClusterRole", "secret-reader", user("dave")))
    assert e.value.message.startswith('rolebindings.rbac.authorization.k8s.io "share" is forbidden: user "alice"')
    assert '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}' in e.value.message


def test_binding_to_a_missing_role_is_forbidden(cache):
    with pytest.raises(ApiError) as e:
        escalate(cache, ALICE, binding("ghost", "dev", "Role", "nope", user("dave")))
    assert e.value.message == ('rolebindings.rbac.authorization.k8s.io "ghost" is forbidden: '
                               'role.rbac.authorization.k8s.io "nope" not found')


def test_bind_verb_lets_a_user_bind_a_role_they_do_not_hold(cache):
    cache.put(role("binder", "dev", {"apiGroups": [G], "resources": ["clusterroles"], "verbs": ["bind"],
                                     "resourceNames": ["secret-reader"]}))
    cache.put(binding("binder", "dev", "Role", "binder", user("alice")))
    escalate(cache, ALICE, binding("share", "dev", "ClusterRole", "secret-reader", user("dave")))
    # bind in dev does not reach a ClusterRoleBinding
    with pytest.raises(ApiError):
        escalate(cache, ALICE, binding("share", "", "ClusterRole", "secret-reader", user("dave"),
                                       kind="ClusterRoleBinding"))


def test_updates_that_do_not_widen_are_not_checked(cache):
    wide = binding("read-secrets", "dev", "ClusterRole", "secret-reader", group("auditors"))
    relabeled = binding("read-secrets", "dev", "ClusterRole", "secret-reader", group("auditors"))
    relabeled["metadata"]["labels"] = {"team": "x"}
    escalate(cache, ALICE, relabeled, old=wide)
    more_subjects = binding("read-secrets", "dev", "ClusterRole", "secret-reader", group("auditors"), user("eve"))
    with pytest.raises(ApiError):
        escalate(cache, ALICE, more_subjects, old=wide)
