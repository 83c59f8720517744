"""`describe` for LimitRanges and ResourceQuotas, laid out as kubectl's: the name lines and the
table share one tab-aligned block, and no Events follow."""

from __future__ import annotations

from control.cli.context import Context
from control.cli.describe_kinds import describes
from control.cli.describe_text import Section
from control.client.quantity import canonical

_SCOPE_HELP = {
    "Terminating": "Matches all pods that have an active deadline. These pods have a limited lifespan on a node "
                   "before being actively terminated by the system.",
    "NotTerminating": "Matches all pods that do not have an active deadline. These pods usually include long "
                      "running pods whose container command is not expected to terminate.",
    "BestEffort": "Matches all pods that do not have resource requirements set. These pods have a best effort "
                  "quality of service.",
    "NotBestEffort": "Matches all pods that have at least one resource requirement set. These pods have a "
                     "burstable or guaranteed quality of service.",
}


def tabbed(rows: list[list[str]]) -> str:
    """Go's tabwriter as kubectl uses it (padding 2): every cell but a line's last is padded to its
    column's widest such cell."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell))
    lines = ["".join(c.ljust(widths[i] + 2) for i, c in enumerate(row[:-1])) + row[-1] for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _value(values, name: str) -> str:
    return canonical(values[name]) if name in values else "-"


@describes("LimitRange", events=False)
async def limit_range(ctx: Context, lr) -> Section:
    rows = [["Name:", lr.metadata.name], ["Namespace:", lr.metadata.namespace],
            ["Type", "Resource", "Min", "Max", "Default Request", "Default Limit", "Max Limit/Request Ratio"],
            ["----", "--------", "---", "---", "---------------", "-------------", "-----------------------"]]
    for item in lr.spec.limits:
        names = sorted({*item.max, *item.min, *item.default, *item.default_request, *item.max_limit_request_ratio})
        rows += [[item.type, name, _value(item.min, name), _value(item.max, name), _value(item.default_request, name),
                  _value(item.default, name), _value(item.max_limit_request_ratio, name)] for name in names]
    return Section().raw(tabbed(rows))


@describes("ResourceQuota", events=False)
async def resource_quota(ctx: Context, q) -> Section:
    rows = [["Name:", q.metadata.name], ["Namespace:", q.metadata.namespace]]
    extra = []
    if q.spec.scopes:
        scopes = sorted(q.spec.scopes)
        rows.append(["Scopes:", ", ".join(scopes)])
        extra = [f" * {_SCOPE_HELP[s]}" for s in scopes if s in _SCOPE_HELP]
    table = [["Resource", "Used", "Hard"], ["--------", "----", "----"]]
    table += [[name, canonical(q.status.used[name]) if name in q.status.used else "0", canonical(q.status.hard[name])]
              for name in sorted(q.status.hard)]
    if not extra:
        return Section().raw(tabbed(rows + table))
    # The help lines have no tab: they end the first aligned block.
    return Section().raw("\n".join([tabbed(rows), *extra, tabbed(table)]))
