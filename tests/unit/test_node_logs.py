"""The agent's log reading (node/server.py): CRI log lines, tail, and `since` as the kubelet applies it,
line by line against the runtime's own timestamps; and the REST query that asks for it."""

from __future__ import annotations

import datetime

import pytest

from control.apiserver import errors
from control.apiserver.rest.http import Request
from control.apiserver.rest.routes import Route
from control.apiserver.rest.streams import log_request
from control.client.kinds import KINDS
from node.logs import LogReader, parse_log_line, tail_offset, timestamp_ns
from node.runtime.termination import log_tail
from skiff.v1 import node_agent_pb2 as na_pb

UTC = datetime.UTC
LINES = [b"2026-11-23T10:00:09.999999999Z stdout F before",
         b"2026-11-23T10:00:10Z stdout F at",
         b"2026-11-23T10:00:10.000000001Z stderr F after",
         b"2026-11-23T10:00:30Z stdout F late"]


def test_parse_log_lines() -> None:
    r = parse_log_line(b"2026-11-23T18:40:00.123456789Z stdout F hello world")
    assert (r.stream, r.partial, r.content) == ("stdout", False, b"hello world")
    assert parse_log_line(b"2026-11-23T18:40:00.1Z stderr P part").partial
    assert parse_log_line(b"2026-11-23T18:40:00.1Z stdout F").content == b""
    assert parse_log_line(b"garbage") is None
    at = datetime.datetime(2026, 11, 23, 17, 40, 0, tzinfo=datetime.UTC).timestamp()
    assert timestamp_ns("2026-11-23T18:40:00.123456789+01:00") == int(at) * 10**9 + 123456789
    assert timestamp_ns("2026-11-23T17:40:00Z") == int(at) * 10**9
    assert timestamp_ns("2026-11-23T17:40:00.5Z") == int(at) * 10**9 + 500_000_000


def test_log_reader_tail_partial_and_since() -> None:
    data = (b"2026-11-23T10:00:00.000000001Z stdout F old\n"
            b"2026-11-23T10:00:10.000000000Z stdout P par\n"
            b"2026-11-23T10:00:10.000000001Z stdout F tial\n"
            b"2026-11-23T10:00:11Z stderr F last\n"
            b"2026-11-23T10:00:12Z stdout F unterminat")
    rendered, rest = LogReader(na_pb.LogsRequest()).initial(data)
    assert (rendered, rest) == (b"old\npartial\nlast\n", b"2026-11-23T10:00:12Z stdout F unterminat")
    assert LogReader(na_pb.LogsRequest(tail_lines=1)).initial(data)[0] == b"last\n"
    assert LogReader(na_pb.LogsRequest(tail_lines=0)).initial(data)[0] == b""
    stamped = LogReader(na_pb.LogsRequest(tail_lines=1, timestamps=True)).initial(data)[0]
    assert stamped == b"2026-11-23T10:00:11Z last\n"
    now = datetime.datetime(2026, 11, 23, 10, 0, 15, tzinfo=datetime.UTC)
    assert LogReader(na_pb.LogsRequest(since_seconds=6), now=lambda: now).initial(data)[0] == b"partial\nlast\n"


def test_tail_offset_reads_backwards(tmp_path) -> None:
    lines = [b"2026-11-23T10:00:00Z stdout F line%d\n" % i for i in range(300)]
    path = tmp_path / "log"
    path.write_bytes(b"".join(lines) + b"2026-11-23T10:00:01Z stdout F unterminated")
    with open(path, "rb") as f:
        for n in (0, 1, 7, 299, 300, 1000):
            f.seek(tail_offset(f, n, block=50))
            rendered, _ = LogReader(na_pb.LogsRequest(tail_lines=n)).initial(f.read())
            assert rendered == b"".join(b"line%d\n" % i for i in range(max(0, 300 - n), 300)), n


def test_a_termination_message_from_the_log_is_its_tail_as_plain_text(tmp_path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(b"".join(b"2026-11-23T10:00:00Z stdout F line%d\n" % i for i in range(100))
                     + b"2026-11-23T10:00:01Z stderr P last \n2026-11-23T10:00:01Z stderr F words\n")
    assert log_tail(str(path), lines=3, limit=2048) == "line99\nlast words\n"
    assert log_tail(str(path), lines=80, limit=14) == "99\nlast words\n"
    assert log_tail(str(tmp_path / "gone.log"), lines=3, limit=2048) == ""


def _at(second: float) -> datetime.datetime:
    return datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC) + datetime.timedelta(seconds=second)


def _reader(request: na_pb.LogsRequest, now: datetime.datetime) -> LogReader:
    return LogReader(request, now=lambda: now)


def test_since_seconds_counts_back_from_the_agents_clock_line_by_line() -> None:
    request = na_pb.LogsRequest(since_seconds=20)
    assert _reader(request, _at(30)).render(LINES) == b"at\nafter\nlate\n"
    assert _reader(request, _at(49)).render(LINES) == b"late\n"
    stamped = na_pb.LogsRequest(since_seconds=1, timestamps=True)
    now = _at(31)
    assert _reader(stamped, now).render(LINES) == b"2026-11-23T10:00:30Z late\n"


def _since_time(text: str) -> na_pb.LogsRequest:
    request = na_pb.LogsRequest()
    request.since_time.FromJsonString(text)
    return request


@pytest.mark.parametrize("delay", [0, 0.4, 3, 30])
def test_since_time_is_the_instant_it_names_however_late_the_agent_reads(delay: float) -> None:
    """The agent's clock at reading (a loaded node, a slow relay, another host's clock) must not move it."""
    now = _at(40 + delay)
    assert _reader(_since_time("2026-11-23T10:00:10Z"), now).render(LINES) == b"at\nafter\nlate\n"


def test_since_time_still_to_come_shows_only_what_is_written_after_it() -> None:
    now = _at(5)
    reader = _reader(_since_time("2026-11-23T10:00:10.000000001Z"), now)
    assert reader.render(LINES[:2]) == b""
    assert reader.render(LINES[2:]) == b"after\nlate\n"  # as a follow reads them


def test_both_since_fields_take_the_later_instant_as_the_kubelet_does() -> None:
    now = _at(31)
    request = _since_time("2026-11-23T10:00:10Z")
    request.since_seconds = 1
    assert _reader(request, now).render(LINES) == b"late\n"
    request.since_seconds = 3600
    assert _reader(request, now).render(LINES) == b"at\nafter\nlate\n"


def _query(**args: str) -> na_pb.LogsRequest:
    req = Request("GET", "/api/v1/namespaces/ns/pods/p/log", {}, query={k: [v] for k, v in args.items()})
    return log_request(req, Route(KINDS["Pod"], "ns", "p", "log"))


def test_the_rest_query_passes_since_time_on_as_an_instant() -> None:
    request = _query(sinceTime="2026-11-23T11:00:10+01:00", tailLines="5", timestamps="true")
    assert not request.HasField("since_seconds")
    assert request.since_time.ToJsonString() == "2026-11-23T10:00:10Z"
    assert (request.namespace, request.name, request.tail_lines, request.timestamps) == ("ns", "p", 5, True)
    both = _query(sinceSeconds="7", sinceTime="2026-11-23T10:00:10Z")  # both kept: validation refuses them
    assert both.since_seconds == 7 and both.HasField("since_time")
    # what the apiserver hands on, read by an agent half a minute later, still starts at that instant
    late = _at(40)
    assert _reader(_query(sinceTime="2026-11-23T10:00:10Z"), late).render(LINES) == b"at\nafter\nlate\n"


@pytest.mark.parametrize("text", ["yesterday", "2026-11-23T10:00:10", "2026-11-23"])
def test_a_since_time_that_is_not_rfc3339_is_refused(text: str) -> None:
    with pytest.raises(errors.ApiError) as refused:
        _query(sinceTime=text)
    assert refused.value.message == f'sinceTime: Invalid value: "{text}": must be an RFC3339 time'
