"""Go durations and times as kubectl's flags take them (Go's time.ParseDuration and time.Parse), refused
in Go's words."""

from __future__ import annotations

import datetime
import json

from control.cli.errors import CommandError

_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds from a Go duration (1m0s, 30s, 1h30m, 500ms, -5s), as Go's time.ParseDuration reads it."""
    value, sign = text, 1.0
    if value[:1] in ("-", "+"):
        sign, value = (-1.0 if value[0] == "-" else 1.0), value[1:]
    if value == "0":
        return 0.0
    if not value:
        raise CommandError(f"time: invalid duration {_quote(text)}")
    total = 0.0
    while value:
        number, value = _leading_number(value, text)
        unit_end = next((i for i, ch in enumerate(value) if ch == "." or ch.isdigit()), len(value))
        unit, value = value[:unit_end], value[unit_end:]
        if not unit:
            raise CommandError(f"time: missing unit in duration {_quote(text)}")
        if unit not in _UNITS:
            raise CommandError(f"time: unknown unit {_quote(unit)} in duration {_quote(text)}")
        total += number * _UNITS[unit]
    return sign * total


def _leading_number(value: str, text: str) -> tuple[float, str]:
    whole_end = next((i for i, ch in enumerate(value) if not ch.isdigit()), len(value))
    whole, value = value[:whole_end], value[whole_end:]
    fraction = ""
    if value.startswith("."):
        fraction_end = next((i for i, ch in enumerate(value[1:], 1) if not ch.isdigit()), len(value))
        fraction, value = value[1:fraction_end], value[fraction_end:]
        if not whole and not fraction:
            raise CommandError(f"time: invalid duration {_quote(text)}")
    elif not whole:
        raise CommandError(f"time: invalid duration {_quote(text)}")
    return float(f"{whole or 0}.{fraction or 0}"), value


RFC3339 = "2006-01-02T15:04:05Z07:00"
# Go's layout for RFC 3339, as (literal before, element, field): time.Parse reads it chunk by chunk.
_CHUNKS = (("", "2006", "year"), ("-", "01", "month"), ("-", "02", "day"), ("T", "15", "hour"),
           (":", "04", "minute"), (":", "05", "second"), ("", "Z07:00", "zone"))
_LIMITS = {"month": (1, 12), "hour": (0, 23), "minute": (0, 59), "second": (0, 59)}


class _Bad(Exception):
    def __init__(self, value: str, element: str = "", message: str = "") -> None:
        super().__init__(value, element, message)
        self.value, self.element, self.message = value, element, message


def parse_rfc3339(text: str) -> datetime.datetime:
    """An RFC 3339 time as kubectl's time flags take it (Go's time.Parse), refused in Go's words."""
    try:
        return _parse_rfc3339(text)
    except _Bad as bad:
        if bad.message:
            raise CommandError(f"parsing time {_quote(text)}{bad.message}") from None
        raise CommandError(f"parsing time {_quote(text)} as {_quote(RFC3339)}: cannot parse {_quote(bad.value)} "
                           f"as {_quote(bad.element)}") from None


def _parse_rfc3339(value: str) -> datetime.datetime:
    fields: dict[str, int] = {}
    nanos, offset = 0, datetime.timedelta(0)
    for literal, element, name in _CHUNKS:
        if not value.startswith(literal):
            raise _Bad(value, literal)
        value = value[len(literal):]
        if name == "zone":
            offset, value = _zone(value)
        elif name == "year":
            if len(value) < 4 or not value[:4].isdigit():
                raise _Bad(value, element)
            fields[name], value = int(value[:4]), value[4:]
        else:
            fields[name], value = _number(value, element, fixed=name != "hour")
            low, high = _LIMITS.get(name, (0, 99))
            if not low <= fields[name] <= high:
                raise _Bad(value, message=f": {name} out of range")
            if name == "second":
                nanos, value = _fraction(value)
    if value:
        raise _Bad(value, message=f": extra text: {_quote(value)}")
    try:
        then = datetime.datetime(fields["year"], fields["month"], fields["day"], fields["hour"], fields["minute"],
                                 fields["second"], nanos // 1000, tzinfo=datetime.timezone(offset))
    except ValueError:
        raise _Bad(value, message=": day out of range") from None
    return then


def _number(value: str, element: str, fixed: bool) -> tuple[int, str]:
    """One or two digits (exactly two when fixed), as Go's getnum reads them."""
    if not value[:1].isdigit():
        raise _Bad(value, element)
    if not value[1:2].isdigit():
        if fixed:
            raise _Bad(value, element)
        return int(value[0]), value[1:]
    return int(value[:2]), value[2:]


def _fraction(value: str) -> tuple[int, str]:
    """Fractional seconds, which Go reads after the seconds even when the layout has none."""
    if len(value) < 2 or value[0] not in ".," or not value[1].isdigit():
        return 0, value
    n = 2
    while n < len(value) and value[n].isdigit():
        n += 1
    digits = value[1:n][:9]
    return int(digits.ljust(9, "0")), value[n:]


def _zone(value: str) -> tuple[datetime.timedelta, str]:
    if value.startswith("Z"):
        return datetime.timedelta(0), value[1:]
    if len(value) < 6 or value[3] != ":" or value[0] not in "+-" \
            or not (value[1:3].isdigit() and value[4:6].isdigit()):
        raise _Bad(value, "Z07:00")
    hours, minutes = int(value[1:3]), int(value[4:6])
    for limit, amount, what in ((24, hours, "hour"), (60, minutes, "minute")):
        if amount > limit:
            raise _Bad(value, message=f": time zone offset {what} out of range")
    offset = datetime.timedelta(hours=hours, minutes=minutes)
    return (-offset if value[0] == "-" else offset), value[6:]


def _quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)
