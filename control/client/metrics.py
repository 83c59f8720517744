"""What every component's Prometheus metrics share: the `--metrics-bind-address` flag, the HTTP
exposition (prometheus_client's own, in a daemon thread, never on the event loop), gauges sampled
at scrape time, and client-go's workqueue metrics.

Every component registers its series in prometheus_client's default registry (one process, one
registry, as Kubernetes' legacy registry), beside the client's own process_* and python_* series.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import prometheus_client
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

log = logging.getLogger(__name__)

# Kubernetes' series carry no *_created samples.
prometheus_client.disable_created_metrics()

# prometheus' DefBuckets, which Kubernetes' metrics use unless they say otherwise.
DEF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    return tuple(start * factor ** i for i in range(count))


# -- serving ---------------------------------------------------------------------------------------

def add_metrics_flag(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--metrics-bind-address", type=_metrics_address, default=default,
                   help=f"HOST:PORT to serve Prometheus metrics on at /metrics, plain HTTP (default {default}; "
                        "0 disables)")


def _metrics_address(text: str) -> str:
    if text not in ("", "0"):
        try:
            split_address(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return text


def split_address(address: str) -> tuple[str, int]:
    """HOST:PORT, [V6]:PORT or :PORT (every address) -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"invalid address {address!r}: want HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


class MetricsServer:
    def __init__(self, server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def serve_metrics(address: str, registry: CollectorRegistry = REGISTRY) -> MetricsServer | None:
    """Serves the registry at http://ADDRESS/metrics from a daemon thread; None when disabled ("0", "")
    or when the address cannot be bound: metrics never stop a component, as in kube-proxy."""
    if address in ("", "0"):
        return None
    host, port = split_address(address)
    try:
        server, thread = prometheus_client.start_http_server(port, host, registry)
    except OSError as e:
        log.error("cannot serve metrics on %s: %s", address, e)
        return None
    metrics = MetricsServer(server, thread)
    log.info("serving metrics on http://%s:%d/metrics", host, metrics.port)
    return metrics


# -- gauges read at scrape time ----------------------------------------------------------------------

Sample = Callable[[Any], Iterable[tuple[tuple[str, ...], float]]]


class SampledGauge(Collector):
    """A gauge whose values are read from live objects when scraped, e.g. a queue's length.

    Each tracked owner contributes `sample(owner)` -> ((label values), value) pairs; values of
    the same labels add up (or take the maximum). Owners are held weakly, so `sample` must reach
    the owner only through its argument. It runs on the scrape thread: it should only copy
    (list(d.values()), len(d)), which the GIL makes atomic, never iterate a live container.
    """

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = (),
                 aggregate: Callable[[Iterable[float]], float] = sum,
                 registry: CollectorRegistry = REGISTRY) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, labelnames
        self.aggregate = aggregate
        self._owners: weakref.WeakKeyDictionary[object, Sample] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        registry.register(self)

    def track(self, owner: object, sample: Sample) -> None:
        with self._lock:
            self._owners[owner] = sample

    def collect(self) -> Iterable[GaugeMetricFamily]:
        with self._lock:
            owners = list(self._owners.items())
        values: dict[tuple[str, ...], list[float]] = {}
        for owner, sample in owners:
            for labels, value in sample(owner):
                values.setdefault(tuple(labels), []).append(value)
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, found in sorted(values.items()):
            family.add_metric(labels, self.aggregate(found))
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        yield GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)


# -- client-go's workqueue metrics ---------------------------------------------------------------------

_QUEUE_BUCKETS = exponential_buckets(10e-9, 10, 10)

WORKQUEUE_DEPTH = Gauge("workqueue_depth", "Current depth of workqueue", ["name"])
WORKQUEUE_ADDS = Counter("workqueue_adds_total", "Total number of adds handled by workqueue", ["name"])
WORKQUEUE_QUEUE_DURATION = Histogram(
    "workqueue_queue_duration_seconds", "How long in seconds an item stays in workqueue before being requested.",
    ["name"], buckets=_QUEUE_BUCKETS)
WORKQUEUE_WORK_DURATION = Histogram(
    "workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.",
    ["name"], buckets=_QUEUE_BUCKETS)
WORKQUEUE_RETRIES = Counter("workqueue_retries_total", "Total number of retries handled by workqueue", ["name"])
WORKQUEUE_UNFINISHED = SampledGauge(
    "workqueue_unfinished_work_seconds",
    "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. "
    "Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate "
    "at which this increases.", ("name",))
WORKQUEUE_LONGEST = SampledGauge(
    "workqueue_longest_running_processor_seconds",
    "How many seconds has the longest running processor for workqueue been running.", ("name",), aggregate=max)


class QueueMetrics:
    """One named queue's series. As in client-go: an add counts once per time the key becomes dirty,
    queue duration runs from that first add to get, work duration from get to done."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._depth = WORKQUEUE_DEPTH.labels(name)
        self._adds = WORKQUEUE_ADDS.labels(name)
        self._queue_duration = WORKQUEUE_QUEUE_DURATION.labels(name)
        self._work_duration = WORKQUEUE_WORK_DURATION.labels(name)
        self._retries = WORKQUEUE_RETRIES.labels(name)
        self._added: dict[str, float] = {}
        self._started: dict[str, float] = {}
        WORKQUEUE_UNFINISHED.track(self, QueueMetrics._unfinished)
        WORKQUEUE_LONGEST.track(self, QueueMetrics._longest)

    def add(self, key: str) -> None:
        self._adds.inc()
        self._depth.inc()
        self._added.setdefault(key, time.monotonic())

    def get(self, key: str) -> None:
        now = time.monotonic()
        self._depth.dec()
        added = self._added.pop(key, None)
        if added is not None:
            self._queue_duration.observe(now - added)
        self._started[key] = now

    def done(self, key: str) -> None:
        started = self._started.pop(key, None)
        if started is not None:
            self._work_duration.observe(time.monotonic() - started)

    def retry(self) -> None:
        self._retries.inc()

    def _unfinished(self) -> Iterable[tuple[tuple[str, ...], float]]:
        now = time.monotonic()
        yield (self.name,), sum(now - t for t in list(self._started.values()))

    def _longest(self) -> Iterable[tuple[tuple[str, ...], float]]:
        now = time.monotonic()
        yield (self.name,), max((now - t for t in list(self._started.values())), default=0.0)


class NoQueueMetrics:
    """An unnamed queue reports nothing (client-go's noop metrics)."""

    def add(self, key: str) -> None: ...

    def get(self, key: str) -> None: ...

    def done(self, key: str) -> None: ...

    def retry(self) -> None: ...


def queue_metrics(name: str) -> QueueMetrics | NoQueueMetrics:
    return QueueMetrics(name) if name else NoQueueMetrics()
