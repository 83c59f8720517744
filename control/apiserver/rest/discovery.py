"""Discovery documents built from the kind table: /version, /api, /apis, each group-version's
APIResourceList and aggregated discovery (apidiscovery.k8s.io/v2)."""

from __future__ import annotations

from control.apiserver.rest.reviewapi import REVIEWS, Review
from control.apiserver.rest.routes import GROUP_VERSIONS, RPC_SUBRESOURCES, rpc_of
from control.apiserver.rest.rpcsubs import BODY_KINDS
from control.client.kinds import Kind
from control.client.version import version_info

VERSION = version_info()  # the one the gRPC Version.Get serves too
RESOURCE_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_VERBS = ["get", "patch", "update"]
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _verbs(kind: Kind) -> list[str]:
    return RESOURCE_VERBS if kind.delete_collection else [v for v in RESOURCE_VERBS if v != "deletecollection"]


def _gv(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def _group_versions() -> list[tuple[str, str]]:
    """Every served group-version: the kind table's, then the review APIs'."""
    served = list(GROUP_VERSIONS)
    return served + [gv for gv in dict.fromkeys((r.group, r.version) for r in REVIEWS) if gv not in served]


def _reviews(group: str, version: str) -> list[Review]:
    return [r for r in REVIEWS if (r.group, r.version) == (group, version)]


def _groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for group, version in _group_versions():
        if group:
            groups.setdefault(group, []).append(version)
    return groups


def api_versions() -> dict:
    return {"kind": "APIVersions", "versions": [v for g, v in GROUP_VERSIONS if not g],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]}


def _group_doc(name: str, versions: list[str]) -> dict:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list() -> dict:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(name, versions) for name, versions in _groups().items()]}


def api_group(name: str) -> dict | None:
    versions = _groups().get(name)
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(name, versions)} if versions else None


def _resource(kind: Kind) -> dict:
    doc = {"name": kind.plural, "singularName": kind.singular, "namespaced": kind.namespaced, "kind": kind.kind,
           "verbs": _verbs(kind)}
    if kind.short_names:
        doc["shortNames"] = list(kind.short_names)
    if kind.categories:
        doc["categories"] = list(kind.categories)
    return doc


def _subresources(kind: Kind) -> list[dict]:
    subs = []
    if kind.has_status:
        subs.append({"name": f"{kind.plural}/status", "singularName": "", "namespaced": kind.namespaced,
                     "kind": kind.kind, "verbs": SUBRESOURCE_VERBS})
    if kind.scale:
        subs.append({"name": f"{kind.plural}/scale", "singularName": "", "namespaced": kind.namespaced,
                     "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": SUBRESOURCE_VERBS})
    for sub, (group, version, body_kind) in _rpc_subresources(kind):
        subs.append({"name": f"{kind.plural}/{sub}", "singularName": "", "namespaced": kind.namespaced,
                     "group": group, "version": version, "kind": body_kind, "verbs": ["create"]})
    return subs


def _rpc_subresources(kind: Kind) -> list[tuple[str, tuple[str, str, str]]]:
    """The kind's own RPCs served over REST (pods/binding, pods/eviction) with their bodies' kinds."""
    return [(sub, BODY_KINDS[sub]) for sub in RPC_SUBRESOURCES if rpc_of(kind, sub)]


def _review(review: Review) -> dict:
    return {"name": review.plural, "singularName": review.singular, "namespaced": review.namespaced,
            "kind": review.kind, "verbs": ["create"]}


def resource_list(group: str, version: str) -> dict | None:
    kinds = GROUP_VERSIONS.get((group, version), {})
    reviews = _reviews(group, version)
    if not kinds and not reviews:
        return None
    resources = [doc for k in kinds.values() for doc in (_resource(k), *_subresources(k))]
    resources += [_review(r) for r in reviews]
    resources.sort(key=lambda doc: doc["name"])  # kube-apiserver installs (and lists) its paths sorted
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": _gv(group, version),
            "resources": resources}


# --- aggregated discovery --------------------------------------------------------------------------

def _aggregated_resource(kind: Kind) -> dict:
    doc = {"resource": kind.plural, "singularResource": kind.singular,
           "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
           "scope": "Namespaced" if kind.namespaced else "Cluster", "verbs": _verbs(kind)}
    if kind.short_names:
        doc["shortNames"] = list(kind.short_names)
    if kind.categories:
        doc["categories"] = list(kind.categories)
    subs = []
    if kind.has_status:
        subs.append({"subresource": "status", "verbs": SUBRESOURCE_VERBS,
                     "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind}})
    if kind.scale:
        subs.append({"subresource": "scale", "verbs": SUBRESOURCE_VERBS,
                     "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}})
    for sub, (group, version, body_kind) in _rpc_subresources(kind):
        subs.append({"subresource": sub, "verbs": ["create"],
                     "responseKind": {"group": group, "version": version, "kind": body_kind}})
    if subs:
        doc["subresources"] = sorted(subs, key=lambda sub: sub["subresource"])
    return doc


def _aggregated_review(review: Review) -> dict:
    return {"resource": review.plural, "singularResource": review.singular,
            "responseKind": {"group": review.group, "version": review.version, "kind": review.kind},
            "scope": "Namespaced" if review.namespaced else "Cluster", "verbs": ["create"]}


def aggregated(legacy: bool) -> dict:
    """`/api` (legacy=True: the core group) or `/apis` as one APIGroupDiscoveryList."""
    items: dict[str, dict] = {}
    for group, version in _group_versions():
        if bool(group) == legacy:
            continue
        item = items.setdefault(group, {"metadata": {"name": group} if group else {}, "versions": []})
        resources = [_aggregated_resource(k) for k in GROUP_VERSIONS.get((group, version), {}).values()]
        resources += [_aggregated_review(r) for r in _reviews(group, version)]
        resources.sort(key=lambda doc: doc["resource"])
        item["versions"].append({"version": version, "freshness": "Current", "resources": resources})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": list(items.values())}
