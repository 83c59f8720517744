"""Kubernetes' slowStartBatch (controller_utils.go): calls that may fail the same way, in
doubling batches, so a quota or admission error costs one call rather than hundreds. Shared by
the controllers that create pods."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def slow_start_batch(count: int, fn: Callable[[], Awaitable[None]], initial: int = 1,
                           errors: list[BaseException] | None = None) -> tuple[int, int]:
    """Calls fn count times in doubling batches, stopping after a batch with errors.

    Returns (successes, failures); the rest were skipped. Failures go to `errors`.
    """
    done = failed = 0
    batch = min(initial, count)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)), return_exceptions=True)
        batch_errors = [r for r in results if isinstance(r, BaseException)]
        if errors is not None:
            errors.extend(batch_errors)
        failures = len(batch_errors)
        done += batch - failures
        failed += failures
        if failures:
            break
        remaining = count - done
        batch = min(2 * batch, remaining)
    return done, failed
