"""kubectl's table layout: cells aligned in columns the way Go's tabwriter pads them."""

from __future__ import annotations


def render(rows: list[list[str]], gap: int = 3) -> str:
    """Aligned columns the way kubectl's tabwriter lays them out (three spaces between)."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    lines = []
    for r in rows:
        cells = [c.ljust(widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r)]
        lines.append((" " * gap).join(cells).rstrip())
    return "\n".join(lines) + "\n"
