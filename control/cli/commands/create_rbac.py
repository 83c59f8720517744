"""`skiffctl create role|clusterrole|rolebinding|clusterrolebinding`: kubectl's flags and rule building."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from control.cli.errors import CommandError
from control.client.kinds import RBAC_GROUP, UnknownKindError, lookup

RBAC_VERSION = f"{RBAC_GROUP}/v1"
# kubectl warns about other verbs but still creates the role.
RESOURCE_VERBS = ("*", "get", "delete", "list", "create", "update", "patch", "watch", "proxy",
                  "deletecollection", "use", "bind", "escalate", "impersonate")
NON_RESOURCE_VERBS = ("*", "get", "post", "put", "delete", "patch", "head", "options")
# Verbs that only mean something on certain resources, as kubectl checks them: verb -> (group, resource)s.
SPECIAL_VERBS = {
    "use": (("policy", "podsecuritypolicies"), ("extensions", "podsecuritypolicies")),
    "bind": ((RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")),
    "escalate": ((RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")),
    "impersonate": (("", "users"), ("", "serviceaccounts"), ("", "groups"),
                    ("authentication.k8s.io", "userextras")),
}


@dataclass(frozen=True)
class ResourceArg:
    """One --resource: RESOURCE[.GROUP][/SUBRESOURCE]."""
    resource: str
    group: str = ""
    subresource: str = ""


def split_list(values: list[str] | None) -> list[str]:
    """kubectl's string-slice flags: repeatable and comma separated; duplicates dropped, order kept."""
    out: list[str] = []
    for value in values or []:
        for item in value.split(","):
            if item and item not in out:
                out.append(item)
    return out


def parse_resources(values: list[str]) -> list[ResourceArg]:
    out: list[ResourceArg] = []
    for value in values:
        base, _, subresource = value.partition("/")
        resource, _, group = base.partition(".")
        if resource == "*" and not group and not subresource:
            return [ResourceArg("*")]
        out.append(ResourceArg(resource, group, subresource))
    return out


def normalize_verbs(verbs: list[str]) -> list[str]:
    return ["*"] if "*" in verbs else verbs


def _resolve(r: ResourceArg) -> tuple[str, str, bool]:
    """(group, plural, known) for a resource by any kubectl spelling (po, rs.apps, deployments.apps)."""
    try:
        kind = lookup(r.resource)  # short names too: rs.apps
    except UnknownKindError:
        return r.group, r.resource, False
    if r.group and kind.group != r.group:
        return r.group, r.resource, False
    return kind.group, kind.plural, True


def validate_resources(resources: list[ResourceArg], verbs: list[str]) -> None:
    for r in resources:
        if not r.resource:
            raise CommandError("resource must be specified if apiGroup/subresource specified")
        if r.resource == "*":
            return
        group, plural, known = _resolve(r)
        special = [v for v in verbs if v in SPECIAL_VERBS]
        for verb in special:
            if (group, plural) not in SPECIAL_VERBS[verb]:
                raise CommandError(f"can not perform '{verb}' on '{plural}' in group '{group}'")
        if not known and not special:
            name = f"{r.resource}.{r.group}" if r.group else r.resource
            raise CommandError(f'the server doesn\'t have a resource type "{name}"')


def policy_rules(verbs: list[str], resources: list[ResourceArg], resource_names: list[str],
                 non_resource_urls: list[str] = ()) -> list[dict]:
    """kubectl's rules: one per API group (sorted) listing its resources, then one for the URLs."""
    by_group: dict[str, list[str]] = {}
    for r in resources:
        group, plural, _ = _resolve(r)
        name = f"{plural}/{r.subresource}" if r.subresource else plural
        names = by_group.setdefault(group, [])
        if name not in names:
            names.append(name)
    rules = []
    for group in sorted(by_group):
        rule = {"verbs": verbs, "apiGroups": [group], "resources": by_group[group]}
        if resource_names:
            rule["resourceNames"] = resource_names
        rules.append(rule)
    if non_resource_urls:
        rules.append({"verbs": verbs, "nonResourceURLs": list(non_resource_urls)})
    return rules


def _warn_verbs(verbs: list[str], warn: Callable[[str], None]) -> None:
    for verb in verbs:
        if verb not in RESOURCE_VERBS:
            warn(f"Warning: '{verb}' is not a standard resource verb")


def role_manifest(args, namespace: str, warn: Callable[[str], None]) -> dict:
    verbs, resources = _verbs(args), split_list(args.resource)
    if not resources:
        raise CommandError("at least one resource must be specified")
    _warn_verbs(verbs, warn)
    parsed = parse_resources(resources)
    validate_resources(parsed, verbs)
    return {"apiVersion": RBAC_VERSION, "kind": "Role", "metadata": {"name": args.name, "namespace": namespace},
            "rules": policy_rules(verbs, parsed, split_list(args.resource_name))}


def cluster_role_manifest(args, _namespace: str, warn: Callable[[str], None]) -> dict:
    verbs, resources, urls = _verbs(args), split_list(args.resource), split_list(args.non_resource_url)
    if not resources and not urls:
        raise CommandError("one of resource or nonResourceURL must be specified")
    parsed = parse_resources(resources)
    if resources:
        _warn_verbs(verbs, warn)
        validate_resources(parsed, verbs)
    if urls:
        _validate_urls(urls, verbs)
    return {"apiVersion": RBAC_VERSION, "kind": "ClusterRole", "metadata": {"name": args.name},
            "rules": policy_rules(verbs, parsed, split_list(args.resource_name), urls)}


def _validate_urls(urls: list[str], verbs: list[str]) -> None:
    for verb in verbs:
        if verb not in NON_RESOURCE_VERBS:
            raise CommandError(f"invalid verb: '{verb}' for nonResourceURL")
    for url in urls:
        if url == "*":
            continue
        if not url.startswith("/"):
            raise CommandError("nonResourceURL should start with /")
        if "*" in url[:-1]:
            raise CommandError("nonResourceURL only supports wildcard matches when '*' is at the end")


def _verbs(args) -> list[str]:
    verbs = normalize_verbs(split_list(args.verb))
    if not verbs:
        raise CommandError("at least one verb must be specified")
    return verbs


def subjects(users: list[str], groups: list[str], service_accounts: list[str]) -> list[dict]:
    out = [{"kind": "User", "apiGroup": RBAC_GROUP, "name": u} for u in users]
    out += [{"kind": "Group", "apiGroup": RBAC_GROUP, "name": g} for g in groups]
    for sa in service_accounts:
        namespace, sep, name = sa.partition(":")
        if not sep or not namespace or not name or ":" in name:
            raise CommandError("serviceaccount must be <namespace>:<name>")
        out.append({"kind": "ServiceAccount", "namespace": namespace, "name": name})
    return out


def _subjects_of(args) -> list[dict]:
    return subjects(split_list(args.user), split_list(args.group), split_list(args.serviceaccount))


def role_binding_manifest(args, namespace: str, _warn: Callable[[str], None]) -> dict:
    if bool(args.role) == bool(args.clusterrole):
        raise CommandError("exactly one of clusterrole or role must be specified")
    ref_kind, ref_name = ("Role", args.role) if args.role else ("ClusterRole", args.clusterrole)
    return {"apiVersion": RBAC_VERSION, "kind": "RoleBinding",
            "metadata": {"name": args.name, "namespace": namespace},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": ref_kind, "name": ref_name},
            "subjects": _subjects_of(args)}


def cluster_role_binding_manifest(args, _namespace: str, _warn: Callable[[str], None]) -> dict:
    if not args.clusterrole:
        raise CommandError('required flag(s) "clusterrole" not set')
    return {"apiVersion": RBAC_VERSION, "kind": "ClusterRoleBinding", "metadata": {"name": args.name},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": args.clusterrole},
            "subjects": _subjects_of(args)}


def register(kinds: argparse._SubParsersAction, parents: list, run: Callable) -> None:
    """The four sub-commands of `create`; `run(args, ctx)` creates what args.build returns."""
    role = kinds.add_parser("role", parents=parents, help="Create a role with a single rule")
    cluster_role = kinds.add_parser("clusterrole", parents=parents, help="Create a cluster role")
    for p in (role, cluster_role):
        p.add_argument("name")
        p.add_argument("--verb", action="append", default=[])
        p.add_argument("--resource", action="append", default=[])
        p.add_argument("--resource-name", action="append", default=[])
    cluster_role.add_argument("--non-resource-url", action="append", default=[])
    role.set_defaults(run=run, build=role_manifest)
    cluster_role.set_defaults(run=run, build=cluster_role_manifest)
    binding = kinds.add_parser("rolebinding", parents=parents, help="Create a role binding for a role or "
                               "cluster role")
    binding.add_argument("--role", default="")
    cluster_binding = kinds.add_parser("clusterrolebinding", parents=parents,
                                       help="Create a cluster role binding for a cluster role")
    for p in (binding, cluster_binding):
        p.add_argument("name")
        p.add_argument("--clusterrole", default="")
        p.add_argument("--user", action="append", default=[])
        p.add_argument("--group", action="append", default=[])
        p.add_argument("--serviceaccount", action="append", default=[])
    binding.set_defaults(run=run, build=role_binding_manifest)
    cluster_binding.set_defaults(run=run, build=cluster_role_binding_manifest)
