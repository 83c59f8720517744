"""Cron schedules: parsing (with the parser's messages) and next start times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from control.client import cron


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if "+" not in text else datetime.fromisoformat(text)


@pytest.mark.parametrize(("schedule", "after", "expected"), [
    ("* * * * *", "2026-01-01T10:00:30", "2026-01-01T10:01:00"),
    ("*/15 * * * *", "2026-01-01T10:01:00", "2026-01-01T10:15:00"),
    ("5-10/2 * * * *", "2026-01-01T10:07:00", "2026-01-01T10:09:00"),
    ("30 2 * * *", "2026-01-01T10:00:00", "2026-01-02T02:30:00"),
    ("0 0 1 jan *", "2026-03-01T00:00:00", "2027-01-01T00:00:00"),
    ("0 9 * * mon-fri", "2026-01-02T10:00:00", "2026-01-05T09:00:00"),   # Friday -> Monday
    ("0 0 13 * FRI", "2026-01-01T00:00:00", "2026-01-02T00:00:00"),      # day-of-month OR weekday
    ("0 0 */10 * *", "2026-01-01T00:00:00", "2026-01-11T00:00:00"),      # a starred day field ANDs
    ("0 0 29 2 *", "2026-01-01T00:00:00", "2028-02-29T00:00:00"),
    ("20/20 * * * ?", "2026-01-01T10:41:00", "2026-01-01T11:20:00"),     # N/step runs to the maximum
    ("@hourly", "2026-01-01T10:00:00", "2026-01-01T11:00:00"),
    ("@daily", "2026-01-01T10:00:00", "2026-01-02T00:00:00"),
    ("@weekly", "2026-01-01T10:00:00", "2026-01-04T00:00:00"),
    ("@monthly", "2026-01-01T10:00:00", "2026-02-01T00:00:00"),
    ("@yearly", "2026-01-01T10:00:00", "2027-01-01T00:00:00"),
    ("1,2,3 4 * * *", "2026-01-01T04:02:00", "2026-01-01T04:03:00"),
])
def test_next_start(schedule: str, after: str, expected: str) -> None:
    assert cron.next_after(cron.parse(schedule), at(after), UTC) == at(expected)


def test_time_zone_moves_the_start() -> None:
    tokyo = cron.zone("Asia/Tokyo")
    found = cron.next_after(cron.parse("0 9 * * *"), at("2026-01-01T00:30:00"), tokyo)
    assert found == at("2026-01-02T00:00:00")  # 09:00 in Tokyo is 00:00 UTC


def test_a_wall_time_skipped_by_daylight_saving_is_not_a_start() -> None:
    berlin = cron.zone("Europe/Berlin")
    found = cron.next_after(cron.parse("30 2 * * *"), at("2026-03-28T12:00:00"), berlin)
    assert found == at("2026-03-30T00:30:00")  # 02:30 does not exist on 29 March


@pytest.mark.parametrize(("schedule", "message"), [
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("* * * * 7", "end of range (7) above maximum (6): 7"),
    ("5-2 * * * *", "beginning of range (5) beyond end of range (2): 5-2"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("*/2/3 * * * *", "too many slashes: */2/3"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("@often", "unrecognized descriptor: @often"),
])
def test_parse_errors(schedule: str, message: str) -> None:
    with pytest.raises(cron.CronError) as e:
        cron.parse(schedule)
    assert str(e.value) == message


def test_unknown_time_zone() -> None:
    with pytest.raises(cron.CronError, match="unknown time zone Mars/Olympus"):
        cron.zone("Mars/Olympus")
