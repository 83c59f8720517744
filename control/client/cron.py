"""Cron schedules as CronJobs read them: the standard five fields (minute, hour, day of month,
month, day of week) with lists, ranges, steps, month and weekday names, `*` and `?`, and the
`@yearly`-style macros, with the parser's error messages; `next_after` finds the next start in a
time zone. Shared by the apiserver (validation) and the CronJob controller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {n: i + 1 for i, n in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                            "oct", "nov", "dec"))}
_DAYS = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
           "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
# (minimum, maximum, names) per field, in schedule order.
_BOUNDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 6, _DAYS))
_SEARCH_YEARS = 5


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_star: bool  # a `*` day field: the day matches on the other day field alone
    weekdays_star: bool

    def day_matches(self, when: datetime) -> bool:
        dom = when.day in self.days
        dow = (when.isoweekday() % 7) in self.weekdays
        if self.days_star or self.weekdays_star:
            return dom and dow
        return dom or dow

    def next_after(self, after: datetime) -> datetime | None:
        """The first start strictly after `after` (an aware datetime), in after's time zone."""
        tz = after.tzinfo
        t = after.replace(second=0, microsecond=0, tzinfo=None) + timedelta(minutes=1)
        limit = t.year + _SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self.day_matches(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            found = t.replace(tzinfo=tz)
            if found.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != t:  # skipped by a DST change
                t += timedelta(minutes=1)
                continue
            return found
        return None


def parse(spec: str) -> Schedule:
    """A schedule from its text, with the error messages Kubernetes' cron parser gives."""
    text = spec.strip()
    if text.startswith("@"):
        if text not in _MACROS:
            raise CronError(f"unrecognized descriptor: {text}")
        text = _MACROS[text]
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    values = [_parse_field(f, *bounds) for f, bounds in zip(fields, _BOUNDS, strict=True)]
    return Schedule(*(v for v, _ in values), days_star=values[2][1], weekdays_star=values[4][1])


def _parse_field(field: str, low: int, high: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    result: set[int] = set()
    star = False
    for part in field.split(","):
        values, is_star = _parse_range(part, low, high, names)
        result |= values
        star = star or is_star
    return frozenset(result), star


def _parse_range(expr: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    star = low_and_high[0] in ("*", "?")
    if star:
        start, end = low, high
    else:
        start = _value(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _value(low_and_high[1], names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _number(range_and_step[1])
        if single and not star:
            end = high  # "N/step" means N through the field's maximum
    elif len(range_and_step) > 2:
        raise CronError(f"too many slashes: {expr}")
    if start < low:
        raise CronError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise CronError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star and step == 1


def _value(text: str, names: dict[str, int]) -> int:
    named = names.get(text.lower())
    return named if named is not None else _number(text)


def _number(text: str) -> int:
    if not text.lstrip("+-").isdigit() or not text.isascii():
        raise CronError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    if len(text.lstrip("+-")) > 18:
        raise CronError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": value out of range')
    n = int(text)
    if n < 0:
        raise CronError(f"negative number ({n}) not allowed: {text}")
    return n


def zone(name: str | None) -> ZoneInfo | type[UTC]:
    """The time zone a CronJob's schedule runs in: its timeZone, or the controller's (UTC)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {name}") from None


def next_after(schedule: Schedule, after: datetime, tz) -> datetime | None:
    """The next start after `after` (any aware datetime) in zone tz, as a UTC datetime."""
    found = schedule.next_after(after.astimezone(tz))
    return None if found is None else found.astimezone(UTC)
