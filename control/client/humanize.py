"""kubectl's human-readable durations ('5m12s', '3d') and quantities."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def human_duration(seconds: float) -> str:
    """The way kubectl prints an age: more precision for young things, less for old ones."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return _pair(minutes, "m", s % 60, "s")
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return _pair(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return _pair(days, "d", hours % 24, "h")
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:
        return _pair(days // 365, "y", days % 365, "d")
    return f"{days // 365}y"


def _pair(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big}{big_unit}" if small == 0 else f"{big}{big_unit}{small}{small_unit}"


def is_set(ts: Timestamp) -> bool:
    return bool(ts.seconds or ts.nanos)


def age(ts: Timestamp, now: float | None = None) -> str:
    if not is_set(ts):
        return "<unknown>"
    now = time.time() if now is None else now
    return human_duration(now - ts.seconds - ts.nanos / 1e9)


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
            "P": 1e15, "E": 1e18}


def parse_quantity(text: str) -> float:
    """A Kubernetes quantity ('500m', '1.5', '128Mi', '1e3') as a number."""
    text = text.strip()
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    if text and text[-1] in _DECIMAL and not text[-1].isdigit():
        return float(text[:-1]) * _DECIMAL[text[-1]]
    return float(text)


def cpu_millicores(nano_cores: int) -> str:
    return f"{nano_cores // 1_000_000}m"


def memory_mebibytes(num_bytes: int) -> str:
    return f"{num_bytes // (1024 * 1024)}Mi"


def timestamp_text(ts: Timestamp) -> str:
    """kubectl's RFC 1123 time: 'Mon, 23 Nov 2026 18:29:27 +0000'."""
    if not is_set(ts):
        return "<unset>"
    return datetime.fromtimestamp(ts.seconds, UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
