"""Discovery documents built from the kind table: /version, /api, /apis, each group-version's
APIResourceList and aggregated discovery (apidiscovery.k8s.io/v2)."""

from __future__ import annotations

from control.apiserver.rest.routes import GROUP_VERSIONS
from control.client.kinds import Kind
from control.client.version import version_info

VERSION = version_info()  # the one the gRPC Version.Get serves too
RESOURCE_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
SUBRESOURCE_VERBS = ["get", "patch", "update"]
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _gv(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def _groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for group, version in GROUP_VERSIONS:
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
           "verbs": RESOURCE_VERBS}
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
    return subs


def resource_list(group: str, version: str) -> dict | None:
    kinds = GROUP_VERSIONS.get((group, version))
    if kinds is None:
        return None
    resources = [doc for k in kinds.values() for doc in (_resource(k), *_subresources(k))]
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": _gv(group, version),
            "resources": resources}


# --- aggregated discovery --------------------------------------------------------------------------

def _aggregated_resource(kind: Kind) -> dict:
    doc = {"resource": kind.plural, "singularResource": kind.singular,
           "responseKind": {"group": kind.group, "version": kind.version, "kind": kind.kind},
           "scope": "Namespaced" if kind.namespaced else "Cluster", "verbs": RESOURCE_VERBS}
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
    if subs:
        doc["subresources"] = subs
    return doc


def aggregated(legacy: bool) -> dict:
    """`/api` (legacy=True: the core group) or `/apis` as one APIGroupDiscoveryList."""
    items: dict[str, dict] = {}
    for (group, version), kinds in GROUP_VERSIONS.items():
        if bool(group) == legacy:
            continue
        item = items.setdefault(group, {"metadata": {"name": group} if group else {}, "versions": []})
        item["versions"].append({"version": version, "freshness": "Current",
                                 "resources": [_aggregated_resource(k) for k in kinds.values()]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": list(items.values())}
