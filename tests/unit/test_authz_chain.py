"""The authorizer chain, the Node authorizer's rules and graph, NodeRestriction and the forbidden message."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from control.apiserver import errors
from control.apiserver.auth.attributes import Attributes, Decision, Verdict
from control.apiserver.auth.authorize import (
    AuthorizationModeError,
    PrivilegedGroupAuthorizer,
    UnionAuthorizer,
    build_authorizer,
    parse_modes,
)
from control.apiserver.auth.gate import forbidden
from control.apiserver.auth.node import NodeAuthorizer
from control.apiserver.auth.noderestriction import NodeRestriction
from control.apiserver.auth.user import AUTHENTICATED, UserInfo
from control.apiserver.watchcache import CacheEvent, KindCache
from control.client.convert import from_dict
from control.client.kinds import KINDS, kind_of
from skiff.v1 import authz_pb2

ALICE = UserInfo("alice", ("dev", AUTHENTICATED))
ADMIN = UserInfo("admin", ("system:masters", AUTHENTICATED))


def node_user(name: str) -> UserInfo:
    return UserInfo(f"system:node:{name}", ("system:nodes", AUTHENTICATED))


class Fixed:
    def __init__(self, decision: Decision, reason: str = "") -> None:
        self.verdict = Verdict(decision, reason)
        self.asked = 0

    def authorize(self, attrs: Attributes) -> Verdict:
        self.asked += 1
        return self.verdict


def attrs(user=ALICE, verb="get", resource="pods", ns="default", name="", group="", sub="") -> Attributes:
    return Attributes(user, verb, group, resource, sub, ns, name)


# -- the chain --------------------------------------------------------------------------------------

def test_first_allow_wins_and_deny_stops() -> None:
    later = Fixed(Decision.ALLOW)
    chain = UnionAuthorizer([Fixed(Decision.NO_OPINION, "a"), Fixed(Decision.DENY, "b"), later])
    assert chain.authorize(attrs()) == Verdict(Decision.DENY, "a, b")
    assert later.asked == 0
    chain = UnionAuthorizer([Fixed(Decision.NO_OPINION), Fixed(Decision.ALLOW, "ok")])
    assert chain.authorize(attrs()).decision is Decision.ALLOW
    assert UnionAuthorizer([Fixed(Decision.NO_OPINION)]).authorize(attrs()).decision is Decision.DENY


def test_system_masters_is_hard_wired() -> None:
    assert PrivilegedGroupAuthorizer().authorize(attrs(ADMIN)).decision is Decision.ALLOW
    assert PrivilegedGroupAuthorizer().authorize(attrs(ALICE)).decision is Decision.NO_OPINION
    chain = build_authorizer(None, ["AlwaysDeny"])
    assert chain.authorize(attrs(ADMIN)).decision is Decision.ALLOW
    assert chain.authorize(attrs(ALICE)).decision is Decision.DENY


def test_modes() -> None:
    assert parse_modes("Node,RBAC") == ["Node", "RBAC"]
    assert parse_modes(" RBAC ") == ["RBAC"]
    for bad, why in (("Node,ABAC", 'unknown authorization mode "ABAC"'), ("", "at least one"),
                     ("RBAC,RBAC", "only once")):
        with pytest.raises(AuthorizationModeError, match=why):
            parse_modes(bad)


def test_forbidden_messages_are_kubernetes() -> None:
    e = forbidden(attrs(verb="list", ns="dev"), "")
    assert e.code == grpc.StatusCode.PERMISSION_DENIED
    assert e.message == 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" ' \
                        'in the namespace "dev"'
    e = forbidden(attrs(verb="get", resource="deployments", group="apps", name="web"), "")
    assert e.message.startswith('deployments.apps "web" is forbidden: User "alice" cannot get resource '
                                '"deployments" in API group "apps" in the namespace "default"')
    e = forbidden(attrs(verb="create", sub="exec", name="p"), "RBAC: role x not found")
    assert e.message == 'pods "p" is forbidden: User "alice" cannot create resource "pods/exec" in API ' \
                        'group "" in the namespace "default": RBAC: role x not found'
    e = forbidden(attrs(verb="get", resource="nodes", ns="", name="n1", sub="stats"), "")
    assert e.message.endswith('cannot get resource "nodes/stats" in API group "" at the cluster scope')


# -- the Node authorizer ----------------------------------------------------------------------------

class FakeKindCache(KindCache):
    """A real kind cache (objects, indices) fed through its own event path, without etcd."""

    def __init__(self, objects=()) -> None:
        super().__init__(kind_of(objects[0]) if objects else KINDS["Pod"], storage=None)
        for o in objects:
            self._apply(CacheEvent.of("ADDED", 1, o))

    async def wait_fresh(self, revision: int | None = None, timeout: float = 10.0) -> None:
        return None


class FakeCache(dict):
    def __getitem__(self, kind):
        return dict.get(self, kind.kind) or FakeKindCache()


def pod(name: str, node: str, **spec) -> object:
    body = {"nodeName": node, "containers": [{"name": "c", "image": "i", **spec.pop("container", {})}], **spec}
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                      "spec": body})


PODS = [pod("a", "n1", volumes=[{"name": "v", "secret": {"secretName": "vol"}},
                                 {"name": "p", "projected": {"sources": [{"secret": {"name": "proj-s"}},
                                                                         {"configMap": {"name": "proj-cm"}}]}}],
            imagePullSecrets=[{"name": "pull"}],
            container={"envFrom": [{"configMapRef": {"name": "cm"}}]}),
        pod("b", "n2", initContainers=[{"name": "i", "image": "i", "env": [
            {"name": "X", "valueFrom": {"secretKeyRef": {"name": "init-env", "key": "k"}}}]}])]


def node_authorizer() -> NodeAuthorizer:
    return NodeAuthorizer(FakeCache(Pod=FakeKindCache(PODS)))


@pytest.mark.parametrize("node,resource,name,allowed", [
    ("n1", "secrets", "vol", True), ("n1", "secrets", "pull", True), ("n1", "configmaps", "cm", True),
    ("n2", "secrets", "init-env", True), ("n1", "secrets", "init-env", False), ("n2", "secrets", "vol", False),
    ("n1", "configmaps", "vol", False), ("n1", "secrets", "proj-s", True), ("n1", "configmaps", "proj-cm", True),
    ("n2", "configmaps", "proj-cm", False),
])
def test_node_graph(node: str, resource: str, name: str, allowed: bool) -> None:
    verdict = node_authorizer().authorize(attrs(node_user(node), "get", resource, name=name))
    assert (verdict.decision is Decision.ALLOW) == allowed
    if not allowed:
        assert verdict.reason == f"no relationship found between node '{node}' and this object"


def test_node_rules() -> None:
    n = node_authorizer()
    allow = [("get", "nodes", "", ""), ("update", "nodes", "status", ""), ("watch", "pods", "", ""),
             ("update", "pods", "status", ""), ("delete", "pods", "", ""), ("list", "services", "", ""),
             ("create", "events", "", ""), ("update", "leases", "", "coordination.k8s.io")]
    deny = [("list", "secrets", "", ""), ("watch", "configmaps", "", ""), ("create", "pods", "", ""),
            ("update", "pods", "", ""), ("create", "pods", "exec", ""), ("get", "deployments", "", "apps"),
            ("create", "roles", "", "rbac.authorization.k8s.io"), ("get", "leases", "", "")]
    for verb, res, sub, group in allow:
        assert n.authorize(attrs(node_user("n1"), verb, res, group=group, sub=sub)).decision is Decision.ALLOW
    for verb, res, sub, group in deny:
        assert n.authorize(attrs(node_user("n1"), verb, res, group=group, sub=sub)).decision \
            is Decision.NO_OPINION, (verb, res, sub)


def test_not_a_node_or_a_nameless_node() -> None:
    n = node_authorizer()
    assert n.authorize(attrs(ALICE, "get", "nodes")) == Verdict(Decision.NO_OPINION)
    # A node's name without the group is not a node.
    assert n.authorize(attrs(UserInfo("system:node:n1"), "get", "nodes")).decision is Decision.NO_OPINION
    nameless = UserInfo("system:node:", ("system:nodes",))
    assert n.authorize(attrs(nameless, "get", "nodes")).decision is Decision.NO_OPINION


# -- NodeRestriction ------------------------------------------------------------------------------------

class FakeApi:
    def __init__(self) -> None:
        self.cache = FakeCache(Pod=FakeKindCache(PODS))


def admit(a: Attributes, obj=None) -> None:
    asyncio.run(NodeRestriction(FakeApi()).admit(a, obj))


def denied(a: Attributes, obj=None) -> str:
    with pytest.raises(errors.ApiError) as info:
        admit(a, obj)
    assert info.value.code == grpc.StatusCode.PERMISSION_DENIED
    return info.value.message


def test_node_restriction() -> None:
    n1 = node_user("n1")
    admit(attrs(n1, "update", "nodes", "", "n1"))
    assert denied(attrs(n1, "update", "nodes", "", "n2", sub="status")) == \
        'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"'
    node = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}})
    assert "not allowed to modify node" in denied(attrs(n1, "create", "nodes", ""), node)
    admit(attrs(n1, "update", "pods", "default", "a", sub="status"))
    assert "can only update pod status" in denied(attrs(n1, "update", "pods", "default", "b", sub="status"))
    assert "can only delete pods" in denied(attrs(n1, "delete", "pods", "default", "b"))
    assert "mirror pods" in denied(attrs(n1, "create", "pods", "default"), PODS[0])
    admit(attrs(n1, "update", "leases", "kube-node-lease", "n1", group="coordination.k8s.io"))
    assert "same name" in denied(attrs(n1, "update", "leases", "kube-node-lease", "n2", group="coordination.k8s.io"))
    assert "kube-node-lease namespace" in denied(attrs(n1, "update", "leases", "default", "n1",
                                                       group="coordination.k8s.io"))
    admit(attrs(n1, "get", "nodes", "", "n2"))  # reads are the authorizer's business
    admit(attrs(ALICE, "update", "nodes", "", "n2"))  # and other users are not restricted


def test_node_restriction_keeps_cluster_owned_node_fields() -> None:
    n1 = node_user("n1")
    old = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {
        "node-restriction.kubernetes.io/pool": "a", "mine": "x"}}, "spec": {"taints": [
            {"key": "k", "effect": "NoSchedule"}], "podCIDR": "10.0.1.0/24"}})
    api = FakeApi()
    api.cache["Node"] = FakeKindCache([old])

    def check(mutate) -> None:
        new = type(old)()
        new.CopyFrom(old)
        mutate(new)
        asyncio.run(NodeRestriction(api).admit(attrs(n1, "update", "nodes", "", "n1"), new))

    check(lambda n: n.metadata.labels.update({"mine": "y"}))
    for mutate, why in [
        (lambda n: n.metadata.labels.update({"node-restriction.kubernetes.io/pool": "b"}), "modify labels"),
        (lambda n: n.metadata.labels.update({"x.node-restriction.kubernetes.io/z": "b"}), "modify labels"),
        (lambda n: n.spec.ClearField("taints"), "modify taints"),
        (lambda n: setattr(n.spec, "pod_cidr", "10.0.9.0/24"), "modify pod CIDRs"),
    ]:
        with pytest.raises(errors.ApiError, match=why):
            check(mutate)
    fresh = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {
        "node-restriction.kubernetes.io/pool": "a"}}})
    assert "set the following labels: node-restriction.kubernetes.io/pool" in denied(
        attrs(n1, "create", "nodes", ""), fresh)



# -- ServiceAccount tokens for nodes ------------------------------------------------------------------

def _as_account(p, account: str, uid: str):
    p.spec.service_account_name, p.metadata.uid = account, uid
    return p


TOKEN_PODS = [_as_account(pod("a", "n1"), "builder", "uid-a"), _as_account(pod("b", "n2"), "other", "uid-b")]


def test_a_node_may_ask_tokens_only_for_accounts_its_pods_use() -> None:
    n = NodeAuthorizer(FakeCache(Pod=FakeKindCache(TOKEN_PODS)))

    def decision(node: str, name: str, verb: str = "create"):
        return n.authorize(attrs(node_user(node), verb, "serviceaccounts", "default", name, sub="token")).decision
    assert decision("n1", "builder") is Decision.ALLOW
    assert decision("n2", "other") is Decision.ALLOW
    assert decision("n2", "builder") is Decision.NO_OPINION
    assert decision("n1", "other") is Decision.NO_OPINION
    assert decision("n1", "builder", "get") is Decision.NO_OPINION


def test_node_restriction_binds_node_tokens_to_its_pods() -> None:
    api = FakeApi()
    api.cache = FakeCache(Pod=FakeKindCache(TOKEN_PODS))

    def request(name: str, uid: str, kind: str = "Pod") -> authz_pb2.TokenRequest:
        r = authz_pb2.TokenRequest()
        r.spec.bound_object_ref.kind, r.spec.bound_object_ref.name, r.spec.bound_object_ref.uid = kind, name, uid
        return r

    def refused(r: authz_pb2.TokenRequest) -> str:
        with pytest.raises(errors.ApiError) as info:
            asyncio.run(NodeRestriction(api).admit(token, r))
        return info.value.message
    token = attrs(node_user("n1"), "create", "serviceaccounts", "default", "builder", sub="token")
    asyncio.run(NodeRestriction(api).admit(token, request("a", "uid-a")))
    assert refused(authz_pb2.TokenRequest()) == \
        'serviceaccounts "builder" is forbidden: node requested token not bound to a pod'
    assert "without a uid" in refused(request("a", ""))
    assert "scheduled on a different node" in refused(request("b", "uid-b"))
    assert "another uid" in refused(request("a", "uid-old"))
    assert "not bound to a pod" in refused(request("s", "u", kind="Secret"))
