"""Go durations as kubectl's duration flags take them."""

from __future__ import annotations

from control.cli.errors import CommandError


def parse_duration(text: str) -> float:
    """Go durations as kubectl's flags take them: 1m0s, 30s, 2m, 500ms."""
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text[i:i + 2] == "ms" else ch
        if unit not in units or not number:
            raise CommandError(f'invalid duration "{text}"')
        total += float(number) * units[unit]
        number, i = "", i + len(unit)
    if number:
        raise CommandError(f'time: missing unit in duration "{text}"')
    return total
