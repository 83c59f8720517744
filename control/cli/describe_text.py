"""Layout for describe output: labelled fields, nested sections and small tables, aligned like kubectl."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    """Ordered (label, value) pairs; a value is text, a nested Section, or a table (rows)."""
    items: list[tuple[str, object]] = field(default_factory=list)
    rows: list[list[str]] | None = None

    @classmethod
    def table(cls, rows: list[list[str]]) -> Section:
        return cls(rows=rows)

    def add(self, label: str, value: object) -> Section:
        self.items.append((label, value))
        return self

    def raw(self, text: str) -> Section:
        """Text printed as it is (kubectl's `Data\n====` blocks)."""
        self.items.append(("", text))
        return self


def render_section(section: Section, indent: int = 0) -> str:
    if section.rows is not None:
        return _render_rows(section.rows, indent)
    width = max((len(label) for label, value in section.items if not isinstance(value, Section)), default=0)
    out = []
    pad = " " * indent
    for label, value in section.items:
        if not label:
            out.extend(f"{pad}{line}".rstrip() + "\n" for line in str(value).rstrip("\n").split("\n"))
            continue
        if isinstance(value, Section):
            out.append(f"{pad}{label}:\n")
            out.append(render_section(value, indent + 2))
            continue
        lines = str(value).split("\n") if value != "" else [""]
        out.append(f"{pad}{(label + ':').ljust(width + 2)}{lines[0]}".rstrip() + "\n")
        out.extend(f"{pad}{' ' * (width + 2)}{line}".rstrip() + "\n" for line in lines[1:])
    return "".join(out)


def _render_rows(rows: list[list[str]], indent: int) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    pad = " " * indent
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    return "".join(f"{pad}{line}\n" for line in lines)


def map_text(values: dict[str, str], sep: str = "=") -> str:
    if not values:
        return "<none>"
    return "\n".join(f"{k}{sep}{v}" for k, v in sorted(values.items()))
