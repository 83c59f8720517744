"""Kubernetes' resource paths, derived from the kind table:
`/api/v1/[namespaces/{ns}/]{plural}[/{name}[/{sub}]]` and `/apis/{group}/{version}/...`."""

from __future__ import annotations

from dataclasses import dataclass

from control.client.kinds import KINDS, Kind, Rpc

SUBRESOURCES = ("status", "scale")
# Subresources served over REST through a kind's own RPCs (the kind table's `rpcs`): POST only.
RPC_SUBRESOURCES = ("binding", "eviction", "token")
# Served by control/apiserver/rest/streams.py where the kind has the RPC behind them (pods).
STREAMING = ("log", "exec", "attach", "portforward")
OWN_SUBRESOURCES = (*STREAMING, "ephemeralcontainers", "resize")  # the kind's RPCs' subresources served over REST


@dataclass(frozen=True)
class Route:
    kind: Kind
    namespace: str  # "" for cluster-scoped kinds and cluster-wide lists
    name: str = ""
    subresource: str = ""


def group_versions() -> dict[tuple[str, str], dict[str, Kind]]:
    """(group, version) -> plural -> kind as that version shows it: the stored versions in the kind
    table's order, then the older versions served beside them (so a group's preferred version comes
    first)."""
    table: dict[tuple[str, str], dict[str, Kind]] = {}
    for kind in KINDS.values():
        table.setdefault((kind.group, kind.version), {})[kind.plural] = kind
    for kind in KINDS.values():
        for view in kind.versions[1:]:
            table.setdefault((view.group, view.version), {})[view.plural] = view
    return table


GROUP_VERSIONS = group_versions()


def split_group_version(path: str) -> tuple[tuple[str, str] | None, list[str]]:
    """`/api/v1/pods` -> (("", "v1"), ["pods"]); `/apis/apps/v1` -> (("apps", "v1"), [])."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        return ("", parts[1]), parts[2:]
    if len(parts) >= 3 and parts[0] == "apis":
        return (parts[1], parts[2]), parts[3:]
    return None, parts


def resolve(gv: tuple[str, str], parts: list[str]) -> Route | None:
    kinds = GROUP_VERSIONS.get(gv)
    if not kinds or not parts:
        return None
    if parts[0] == "namespaces" and len(parts) >= 3 and parts[2] in kinds and kinds[parts[2]].namespaced:
        return _route(kinds[parts[2]], parts[1], parts[3:])
    kind = kinds.get(parts[0])
    if kind is None:
        return None
    return _route(kind, "", parts[1:])


def _route(kind: Kind, namespace: str, rest: list[str]) -> Route | None:
    if len(rest) > 2:
        return None
    name = rest[0] if rest else ""
    sub = rest[1] if len(rest) == 2 else ""
    if sub and sub not in SUBRESOURCES and not (sub in RPC_SUBRESOURCES and rpc_of(kind, sub)) \
            and sub not in rpc_subresources(kind):
        return None
    if sub == "status" and not kind.has_status or sub == "scale" and not kind.scale:
        return None
    if not kind.namespaced and namespace:
        return None
    return Route(kind, namespace, name, sub)


def rpc_of(kind: Kind, subresource: str) -> Rpc | None:
    return next((r for r in kind.rpcs if r.subresource == subresource), None)


def rpc_subresources(kind: Kind) -> tuple[str, ...]:
    return tuple(r.subresource for r in kind.rpcs if r.subresource in OWN_SUBRESOURCES)

