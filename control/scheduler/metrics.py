"""kube-scheduler's metrics: scheduling attempts and their latency by result and profile, pending pods
by queue."""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Histogram

from control.client.metrics import SampledGauge, exponential_buckets
from control.scheduler.queue import ACTIVE, BACKOFF, UNSCHEDULABLE, SchedulingQueue

SCHEDULED, UNSCHEDULABLE_RESULT, ERROR = "scheduled", "unschedulable", "error"

SCHEDULE_ATTEMPTS = Counter(
    "scheduler_schedule_attempts_total",
    "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, "
    "while 'error' means an internal scheduler problem.", ["result", "profile"])
ATTEMPT_DURATION = Histogram(
    "scheduler_scheduling_attempt_duration_seconds",
    "Scheduling attempt latency in seconds (scheduling algorithm + binding)", ["result", "profile"],
    buckets=exponential_buckets(0.001, 2, 15))
PENDING_PODS = SampledGauge(
    "scheduler_pending_pods",
    "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means "
    "number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler "
    "attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never "
    "attempted to schedule because they are gated.", ("queue",))


def attempt(result: str, profile: str, started: float) -> None:
    """One scheduling attempt ended (a binding written, or the pod sent back to a queue)."""
    SCHEDULE_ATTEMPTS.labels(result, profile).inc()
    ATTEMPT_DURATION.labels(result, profile).observe(time.monotonic() - started)


def track_queue(queue: SchedulingQueue) -> None:
    PENDING_PODS.track(queue, _pending)


def _pending(queue: SchedulingQueue) -> Iterable[tuple[tuple[str, ...], float]]:
    # A pod being scheduled (in flight) is in none of the queues, as in kube-scheduler.
    counts = Tally(queue.states())
    for name in (ACTIVE, BACKOFF, UNSCHEDULABLE):
        yield (name,), counts[name]
    yield ("gated",), 0
