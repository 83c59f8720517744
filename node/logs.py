"""Container logs as the kubelet reads them: CRI log files (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`
lines, written by the runtime), tail, `since` applied line by line against the runtime's own
timestamps, timestamps shown or not, and follow until the container stops."""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import BinaryIO

from skiff.v1 import node_agent_pb2 as na_pb

FOLLOW_POLL = 0.1  # seconds between looks at a followed log file
RUNNING_CHECK = 1.0  # seconds between checks whether a followed container still runs
READ_CHUNK = 64 * 1024
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class LogRecord:
    timestamp: str
    stream: str
    partial: bool
    content: bytes


def parse_log_line(line: bytes) -> LogRecord | None:
    """One CRI log line (without its newline); None when it is not in the CRI format."""
    parts = line.split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr"):
        return None
    if len(parts) == 3:  # an empty full line: the tag is the last field
        parts.append(b"")
    tag = parts[2].split(b":")[0]
    return LogRecord(parts[0].decode(), parts[1].decode(), tag == b"P", parts[3])


def timestamp_ns(text: str) -> int:
    """RFC3339Nano to Unix nanoseconds with every digit kept, so `since` is compared as the kubelet does."""
    date, sep, rest = text.partition(".")
    digits = len(rest) - len(rest.lstrip("0123456789")) if sep else 0
    fraction, zone = rest[:digits], rest[digits:]
    whole = datetime.datetime.fromisoformat((date + zone if sep else date).replace("Z", "+00:00"))
    return (whole - EPOCH) // datetime.timedelta(seconds=1) * 10**9 + int((fraction + "000000000")[:9])


def since_ns(request: na_pb.LogsRequest, now: datetime.datetime) -> int | None:
    """The instant before which lines are left out, as the kubelet takes it: sinceSeconds back from the
    agent's own clock (the one the runtime stamps lines with), or sinceTime when that is later."""
    since = None
    if request.HasField("since_seconds"):
        since = (now - EPOCH) // datetime.timedelta(microseconds=1) * 1000 - request.since_seconds * 10**9
    if request.HasField("since_time"):
        at = request.since_time.ToNanoseconds()
        since = at if since is None else max(since, at)
    return since


def format_record(record: LogRecord, timestamps: bool) -> bytes:
    out = record.content if record.partial else record.content + b"\n"
    return (record.timestamp.encode() + b" " + out) if timestamps else out


def _complete_lines(data: bytes) -> tuple[list[bytes], bytes]:
    *lines, rest = data.split(b"\n")
    return lines, rest


def tail_offset(f: BinaryIO, lines: int, block: int = READ_CHUNK) -> int:
    """Where the last `lines` complete lines of f start, found reading backwards from the end."""
    pos = f.seek(0, os.SEEK_END)
    wanted = lines + 1  # the newline that ends the line before the first one wanted
    while pos > 0:
        size = min(block, pos)
        pos -= size
        f.seek(pos)
        chunk = f.read(size)
        index = len(chunk)
        while wanted and (index := chunk.rfind(b"\n", 0, index)) >= 0:
            wanted -= 1
            if wanted == 0:
                return pos + index + 1
    return 0


class LogReader:
    """Reads one CRI log file as kubectl logs shows it (tail, since, timestamps, follow)."""

    def __init__(self, request: na_pb.LogsRequest, now: Callable[[], datetime.datetime] | None = None) -> None:
        self.request = request
        self.since = since_ns(request, (now or (lambda: datetime.datetime.now(datetime.UTC)))())

    def render(self, lines: list[bytes]) -> bytes:
        out = []
        for line in lines:
            record = parse_log_line(line)
            if record is None:
                continue
            if self.since is not None and timestamp_ns(record.timestamp) < self.since:
                continue
            out.append(format_record(record, self.request.timestamps))
        return b"".join(out)

    def initial(self, data: bytes) -> tuple[bytes, bytes]:
        """The rendered existing content (tail applied) and the unterminated remainder."""
        lines, rest = _complete_lines(data)
        if self.request.HasField("tail_lines"):
            lines = lines[-self.request.tail_lines:] if self.request.tail_lines > 0 else []
        return self.render(lines), rest

    async def stream(self, path: str, running: Callable[[], Awaitable[bool]]) -> AsyncIterator[bytes]:
        with open(path, "rb") as f:  # noqa: ASYNC230 - a local log file; reads are short
            if self.request.HasField("tail_lines"):
                f.seek(tail_offset(f, self.request.tail_lines))
            chunk, rest = self.initial(f.read())
            if chunk:
                yield chunk
            if not self.request.follow:
                return
            async for chunk in self._follow(f, rest, running):
                yield chunk

    async def _follow(self, f, rest: bytes, running: Callable[[], Awaitable[bool]]) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        next_check = loop.time() + RUNNING_CHECK
        while True:
            data = f.read(READ_CHUNK)
            if data:
                lines, rest = _complete_lines(rest + data)
                chunk = self.render(lines)
                if chunk:
                    yield chunk
                continue
            if loop.time() >= next_check:
                if not await running():
                    if not f.read(1):  # nothing written since the container stopped
                        return
                    f.seek(-1, os.SEEK_CUR)
                next_check = loop.time() + RUNNING_CHECK
            await asyncio.sleep(FOLLOW_POLL)
