"""Indexed Jobs' sets of indexes in their text form ("1,3-5,7"), as in status.completedIndexes,
status.failedIndexes and successPolicy's succeededIndexes."""

from __future__ import annotations

from collections.abc import Iterable


class IndexesError(ValueError):
    pass


def parse_indexes(text: str, completions: int) -> set[int]:
    """The indexes of `text`; each must be below completions, intervals ordered and not overlapping."""
    return {i for first, end in parse_intervals(text, completions) for i in range(first, end + 1)}


def parse_intervals(text: str, completions: int) -> list[tuple[int, int]]:
    """The (first, last) intervals of `text`, checked as parse_indexes checks them."""
    result: list[tuple[int, int]] = []
    last = -1
    for part in text.split(",") if text else []:
        bounds = part.split("-")
        if len(bounds) > 2 or not all(b.isdigit() for b in bounds):
            raise IndexesError(f'cannot convert string to integer for index: "{part}"')
        first, end = int(bounds[0]), int(bounds[-1])
        if end >= completions:
            raise IndexesError(f"too large index: {end}")
        if first > end:
            raise IndexesError(f"non-increasing order, previous: {first}, current: {end}")
        if first <= last:
            raise IndexesError(f"overlapping intervals, previous: {last}, current: {first}")
        result.append((first, end))
        last = end
    return result


def format_indexes(indexes: Iterable[int]) -> str:
    """Ordered intervals: {0, 1, 2, 5} -> "0-2,5"."""
    parts: list[str] = []
    ordered = sorted(set(indexes))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)
