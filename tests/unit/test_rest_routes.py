"""REST paths and discovery documents derived from the kind table."""

from __future__ import annotations

import grpc

from control.apiserver import errors
from control.apiserver.rest import discovery
from control.apiserver.rest.reviewapi import REVIEWS, find
from control.apiserver.rest.routes import Route, resolve, split_group_version
from control.apiserver.rest.status import from_error
from control.apiserver.rest.table import column_definitions, wants_table
from control.client.kinds import KINDS


def _route(path: str) -> Route | None:
    gv, parts = split_group_version(path)
    return resolve(gv, parts) if gv else None


def test_paths() -> None:
    assert _route("/api/v1/pods") == Route(KINDS["Pod"], "")
    assert _route("/api/v1/namespaces/ns1/pods/p/status") == Route(KINDS["Pod"], "ns1", "p", "status")
    assert _route("/api/v1/namespaces/ns1") == Route(KINDS["Namespace"], "", "ns1")
    assert _route("/api/v1/namespaces") == Route(KINDS["Namespace"], "")
    assert _route("/apis/apps/v1/namespaces/x/deployments/web/scale") == Route(KINDS["Deployment"], "x", "web",
                                                                                "scale")
    assert _route("/apis/rbac.authorization.k8s.io/v1/clusterroles/admin") == Route(KINDS["ClusterRole"], "", "admin")
    assert _route("/api/v1/namespaces/x/configmaps/c/scale") is None  # no scale subresource
    assert _route("/api/v1/namespaces/x/nodes/n") is None  # cluster-scoped
    assert _route("/apis/apps/v2/deployments") is None
    assert _route("/api/v1/pods/p/exec/extra") is None
    assert _route("/api/v1/namespaces/x/pods/p/eviction") == Route(KINDS["Pod"], "x", "p", "eviction")
    assert _route("/api/v1/namespaces/x/pods/p/binding") == Route(KINDS["Pod"], "x", "p", "binding")
    assert _route("/apis/apps/v1/namespaces/x/deployments/web/eviction") is None  # not an RPC of Deployments


def test_discovery_lists_every_kind_once() -> None:
    group_versions = {(k.group, k.version) for k in KINDS.values()}
    served = {(r["kind"], discovery.resource_list(g, v)["groupVersion"]) for g, v in group_versions
              for r in discovery.resource_list(g, v)["resources"] if "/" not in r["name"]}
    assert served == {(k.kind, k.api_version) for k in KINDS.values()}
    assert discovery.api_versions()["versions"] == ["v1"]
    groups = {g["name"] for g in discovery.api_group_list()["groups"]}
    assert groups == {k.group for k in KINDS.values() if k.group} | {r.group for r in REVIEWS}
    agg = discovery.aggregated(legacy=True)["items"][0]["versions"][0]["resources"]
    assert all("responseKind" in r and all("responseKind" in s for s in r.get("subresources", [])) for r in agg)


def test_tables_and_statuses() -> None:
    assert wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    assert not wants_table("application/json")
    names = [c["name"] for c in column_definitions(KINDS["Service"])]
    assert names == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]
    code, doc = from_error(errors.not_found("pods", "x"), KINDS["Pod"])
    assert (code, doc["reason"], doc["details"]) == (404, "NotFound", {"group": "", "kind": "pods", "name": "x"})
    code, doc = from_error(errors.conflict("deployments.apps", "web"), KINDS["Deployment"])
    assert (code, doc["reason"]) == (409, "Conflict")
    code, doc = from_error(errors.gone("too old"))
    assert (code, doc["reason"]) == (410, "Expired")


def test_review_apis_and_pod_subresources_in_discovery() -> None:
    authz = discovery.resource_list("authorization.k8s.io", "v1")["resources"]
    assert {(r["name"], r["namespaced"], tuple(r["verbs"])) for r in authz} == {
        ("selfsubjectaccessreviews", False, ("create",)), ("subjectaccessreviews", False, ("create",)),
        ("localsubjectaccessreviews", True, ("create",)), ("selfsubjectrulesreviews", False, ("create",))}
    assert [r["kind"] for r in discovery.resource_list("authentication.k8s.io", "v1")["resources"]] == \
        ["SelfSubjectReview", "TokenReview"]
    pods = {r["name"]: r for r in discovery.resource_list("", "v1")["resources"]}
    assert (pods["pods/eviction"]["group"], pods["pods/eviction"]["kind"]) == ("policy", "Eviction")
    assert pods["pods/binding"]["verbs"] == ["create"] and "deletecollection" in pods["pods"]["verbs"]
    token = pods["serviceaccounts/token"]
    assert (token["group"], token["version"], token["kind"], token["verbs"]) == \
        ("authentication.k8s.io", "v1", "TokenRequest", ["create"])
    assert "deletecollection" not in pods["namespaces"]["verbs"]  # as in Kubernetes
    agg = {i["metadata"]["name"]: i for i in discovery.aggregated(legacy=False)["items"]}
    assert agg["authentication.k8s.io"]["versions"][0]["resources"][0]["resource"] == "selfsubjectreviews"
    authz_path = "/apis/authorization.k8s.io/v1/namespaces/a/"
    review, namespace = find(*split_group_version(authz_path + "localsubjectaccessreviews"))
    assert (review.kind, namespace) == ("LocalSubjectAccessReview", "a")
    assert find(*split_group_version(authz_path + "selfsubjectaccessreviews")) is None


def test_a_refused_eviction_is_429_with_its_cause() -> None:
    error = errors.ApiError(grpc.StatusCode.RESOURCE_EXHAUSTED, "Cannot evict pod as it would violate the pod's "
                            "disruption budget.", [errors.FieldViolation(field="DisruptionBudget", description="x")])
    code, doc = from_error(error, KINDS["Pod"], "p")
    assert (code, doc["reason"], doc["details"]) == (429, "TooManyRequests", {
        "causes": [{"reason": "DisruptionBudget", "message": "x"}]})
