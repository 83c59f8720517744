"""PodLogOptions refused as Kubernetes refuses them, and skiffctl's --since/--since-time."""

from __future__ import annotations

import argparse

import pytest

from control.apiserver import errors
from control.apiserver.validation.podlogs import check_pod_log_options, validate_pod_log_options
from control.cli.commands import pods
from control.cli.errors import CommandError
from control.cli.gotime import parse_duration, parse_rfc3339
from skiff.v1 import node_agent_pb2

BOTH = "at most one of `sinceTime` or `sinceSeconds` may be specified"


def request(**fields) -> node_agent_pb2.LogsRequest:
    since_time = fields.pop("since_time", None)
    r = node_agent_pb2.LogsRequest(namespace="default", name="web", **fields)
    if since_time:
        r.since_time.FromJsonString(since_time)
    return r


@pytest.mark.parametrize(("fields", "limit", "expected"), [
    ({}, None, []),
    ({"since_seconds": 1, "tail_lines": 0}, 1, []),
    ({"since_time": "2026-01-02T03:04:05Z"}, None, []),
    ({"since_seconds": 10, "since_time": "2026-01-02T03:04:05Z"}, None, [("", f"Forbidden: {BOTH}")]),
    ({"since_seconds": 0, "since_time": "2026-01-02T03:04:05Z"}, None, [("", f"Forbidden: {BOTH}")]),
    ({"since_seconds": 0}, None, [("sinceSeconds", "Invalid value: 0: must be greater than 0")]),
    ({"tail_lines": -1}, None, [("tailLines", "Invalid value: -1: must be greater than or equal to 0")]),
    ({}, 0, [("limitBytes", "Invalid value: 0: must be greater than 0")]),
])
def test_validation(fields, limit, expected):
    errs = validate_pod_log_options(request(**fields), limit)
    assert [(e.field, e.description) for e in errs] == expected


def test_refusal_is_422_shaped_with_the_empty_field_path():
    r = request(since_seconds=10, since_time="2026-01-02T03:04:05Z")
    with pytest.raises(errors.ApiError) as refused:
        check_pod_log_options(r)
    assert refused.value.message == f'PodLogOptions "web" is invalid: : Forbidden: {BOTH}'
    check_pod_log_options(request(since_seconds=5))


def since(*flags: str) -> node_agent_pb2.LogsRequest:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    pods.register(sub, [])
    args = parser.parse_args(["logs", "web", *flags])
    r = request()
    then = parse_rfc3339(args.since_time) if args.since_time else None
    pods._set_since(r, pods._since_flag(args.since), then)
    return r


@pytest.mark.parametrize(("flag", "seconds"), [("--since=5m", 300), ("--since=2h", 7200), ("--since=1m30s", 90),
                                               ("--since=500ms", 1), ("--since=1499ms", 1), ("--since=0.5s", 1)])
def test_since_is_whole_seconds_rounded_as_kubectl_rounds(flag, seconds):
    assert since(flag).since_seconds == seconds


def test_no_since_sends_neither_field():
    r = since("--since=0s")
    assert not r.HasField("since_seconds") and not r.HasField("since_time")


def test_since_time_is_the_instant_it_names():
    assert since("--since-time=2026-01-02T04:04:05+01:00").since_time.ToJsonString() == "2026-01-02T03:04:05Z"
    assert since("--since-time=2026-01-02T03:04:05.25Z").since_time.ToJsonString() == "2026-01-02T03:04:05.250Z"
    assert since("--since-time=2026-01-02T3:04:05,5Z").since_time.ToJsonString() == "2026-01-02T03:04:05.500Z"


@pytest.mark.parametrize(("flags", "message"), [
    (["--since=1m", "--since-time=2026-01-02T03:04:05Z"], BOTH),
    (["--since=-5s"], "--since must be greater than 0"),
    (["--since=5"], 'invalid argument "5" for "--since" flag: time: missing unit in duration "5"'),
    (["--since=5x"], 'invalid argument "5x" for "--since" flag: time: unknown unit "x" in duration "5x"'),
])
def test_refused_flags(flags, message):
    with pytest.raises(CommandError) as refused:
        since(*flags)
    assert str(refused.value) == message


# What kubectl 1.32 (Go's time.Parse with time.RFC3339) answers for each.
GO_TIME_ERRORS = [
    ("yesterday", 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'),
    ("2026-01-02", 'parsing time "2026-01-02" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"'),
    ("2026-13-02T03:04:05Z", 'parsing time "2026-13-02T03:04:05Z": month out of range'),
    ("2026-02-30T03:04:05Z", 'parsing time "2026-02-30T03:04:05Z": day out of range'),
    ("2026-01-02T03:04:05", 'parsing time "2026-01-02T03:04:05" as "2006-01-02T15:04:05Z07:00": '
                            'cannot parse "" as "Z07:00"'),
    ("2026-01-02T03:04:05Zjunk", 'parsing time "2026-01-02T03:04:05Zjunk": extra text: "junk"'),
    ("2026-01-02 03:04:05Z", 'parsing time "2026-01-02 03:04:05Z" as "2006-01-02T15:04:05Z07:00": '
                             'cannot parse " 03:04:05Z" as "T"'),
    ("2026-01-02T03:4:05Z", 'parsing time "2026-01-02T03:4:05Z" as "2006-01-02T15:04:05Z07:00": '
                            'cannot parse "4:05Z" as "04"'),
    ("2026-01-02T03:04:05+0100", 'parsing time "2026-01-02T03:04:05+0100" as "2006-01-02T15:04:05Z07:00": '
                                 'cannot parse "+0100" as "Z07:00"'),
    ("2026-01-02T03:04:05+25:00", 'parsing time "2026-01-02T03:04:05+25:00": time zone offset hour out of range'),
]


@pytest.mark.parametrize(("text", "message"), GO_TIME_ERRORS)
def test_rfc3339_refused_in_gos_words(text, message):
    with pytest.raises(CommandError) as refused:
        parse_rfc3339(text)
    assert str(refused.value) == message


@pytest.mark.parametrize(("text", "seconds"), [("5m", 300), ("1h30m", 5400), ("1.5h", 5400), ("-5s", -5),
                                               ("+3s", 3), ("0", 0), (".5s", 0.5), ("5.s", 5), ("250us", 0.00025)])
def test_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "message"), [
    ("", 'time: invalid duration ""'), ("s", 'time: invalid duration "s"'), ("-", 'time: invalid duration "-"'),
    ("5", 'time: missing unit in duration "5"'), ("1.5.5s", 'time: missing unit in duration "1.5.5s"'),
    ("1h2", 'time: missing unit in duration "1h2"'), ("5x", 'time: unknown unit "x" in duration "5x"'),
])
def test_go_duration_refusals(text, message):
    with pytest.raises(CommandError) as refused:
        parse_duration(text)
    assert str(refused.value) == message
