"""kube-proxy's metrics: how long applying the Service rules takes, in all and per kind of sync."""

from __future__ import annotations

import time

from prometheus_client import Gauge, Histogram

from control.client.metrics import exponential_buckets

_BUCKETS = exponential_buckets(0.001, 2, 15)

SYNC_DURATION = Histogram("kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds",
                          buckets=_BUCKETS)
FULL_SYNC_DURATION = Histogram("kubeproxy_sync_full_proxy_rules_duration_seconds",
                               "SyncProxyRules latency in seconds for full resyncs", buckets=_BUCKETS)
PARTIAL_SYNC_DURATION = Histogram("kubeproxy_sync_partial_proxy_rules_duration_seconds",
                                  "SyncProxyRules latency in seconds for partial resyncs", buckets=_BUCKETS)
LAST_SYNC = Gauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                  "The last time proxy rules were successfully synced")


def synced(started: float, full: bool) -> None:
    """One successful sync of the rules, started at time.monotonic() `started`."""
    elapsed = time.monotonic() - started
    SYNC_DURATION.observe(elapsed)
    (FULL_SYNC_DURATION if full else PARTIAL_SYNC_DURATION).observe(elapsed)
    LAST_SYNC.set(time.time())
