"""kube-apiserver's metrics: requests by verb, resource and HTTP code, their latency, long-running
requests, registered watchers, objects stored, and etcd request latency.

A gRPC call is reported as the REST request it stands for: Create is POST (201 when it succeeds),
Get GET, List LIST, Watch WATCH, Update PUT, Delete DELETE, exec CONNECT; a gRPC status becomes
the HTTP code Kubernetes answers with (NOT_FOUND 404, ALREADY_EXISTS and ABORTED 409,
INVALID_ARGUMENT 422, PERMISSION_DENIED 403, UNAUTHENTICATED 401, RESOURCE_EXHAUSTED 429, ...).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc
from prometheus_client import Counter, Gauge, Histogram

from control.apiserver.auth.audit import HTTP_CODES
from control.client.kinds import Kind
from control.client.metrics import SampledGauge

COMPONENT = "apiserver"
_LATENCY_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30,
                    45, 60)
_LABELS = ("verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component")
_LONGRUNNING_LABELS = ("verb", "group", "version", "resource", "subresource", "scope", "component")

REQUESTS = Counter(
    "apiserver_request_total",
    "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, "
    "component, and HTTP response code.", [*_LABELS, "code"])
REQUEST_DURATION = Histogram(
    "apiserver_request_duration_seconds",
    "Response latency distribution in seconds for each verb, dry run value, group, version, resource, "
    "subresource, scope and component.", _LABELS, buckets=_LATENCY_BUCKETS)
LONGRUNNING = Gauge(
    "apiserver_longrunning_requests",
    "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope "
    "and component. Not all requests are tracked this way.", _LONGRUNNING_LABELS)
REGISTERED_WATCHERS = SampledGauge(
    "apiserver_registered_watchers", "Number of currently registered watchers for a given resources",
    ("group", "version", "kind"))
STORAGE_OBJECTS = SampledGauge(
    "apiserver_storage_objects", "Number of stored objects at the time of last check split by kind.",
    ("resource",))
ETCD_REQUEST_DURATION = Histogram(
    "etcd_request_duration_seconds", "Etcd request latency in seconds for each operation and object type.",
    ["operation", "type"], buckets=_LATENCY_BUCKETS)

# Authorization verbs (and subresources that connect to a stream) as the REST verb Kubernetes reports.
_REPORTED_VERBS = {"create": "POST", "get": "GET", "list": "LIST", "watch": "WATCH", "update": "PUT",
                   "patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETECOLLECTION"}
_CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})


def resource_type(kind: Kind) -> str:
    """The group-qualified resource, as Kubernetes names it in storage metrics: pods, deployments.apps."""
    return f"{kind.plural}.{kind.group}" if kind.group else kind.plural


@dataclass(frozen=True)
class RequestInfo:
    """One request's labels, fixed when it arrives."""
    verb: str
    dry_run: str
    group: str
    version: str
    resource: str
    subresource: str
    scope: str

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.verb, self.dry_run, self.group, self.version, self.resource, self.subresource, self.scope,
                COMPONENT)

    @property
    def longrunning_labels(self) -> tuple[str, ...]:
        return (self.verb, self.group, self.version, self.resource, self.subresource, self.scope, COMPONENT)


def request_info(kind: Kind, verb: str, subresource: str, namespace: str, name: str, dry_run: bool) -> RequestInfo:
    reported = "CONNECT" if subresource in _CONNECT_SUBRESOURCES else _REPORTED_VERBS.get(verb, verb.upper())
    return RequestInfo(reported, "All" if dry_run else "", kind.group, kind.version, kind.plural, subresource,
                       _scope(kind, verb, namespace, name))


def _scope(kind: Kind, verb: str, namespace: str, name: str) -> str:
    """Kubernetes' CleanScope: a named object or a create is "resource", else its namespace or the cluster."""
    if name or verb == "create":
        return "resource"
    return "namespace" if namespace and kind.namespaced else "cluster"


def http_code(info: RequestInfo, code: grpc.StatusCode) -> str:
    if code is grpc.StatusCode.OK:
        return "201" if info.verb == "POST" else "200"
    return str(HTTP_CODES.get(code, 500))


def observe(info: RequestInfo, code: grpc.StatusCode, started: float) -> None:
    total, duration = _series(info, code)
    total.inc()
    duration.observe(time.monotonic() - started)


@functools.lru_cache(maxsize=4096)
def _series(info: RequestInfo, code: grpc.StatusCode) -> tuple:
    """The request's counter and histogram children, looked up once per label set (the hot path)."""
    return REQUESTS.labels(*info.labels, http_code(info, code)), REQUEST_DURATION.labels(*info.labels)


def longrunning(info: RequestInfo) -> Gauge:
    return LONGRUNNING.labels(*info.longrunning_labels)


def etcd_timed(operation: str) -> Callable:
    """Times a Storage method whose first argument is the Kind, as etcd_request_duration_seconds."""
    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        async def timed(self, kind: Kind, *args, **kwargs):
            started = time.monotonic()
            try:
                return await fn(self, kind, *args, **kwargs)
            finally:
                _etcd_series(operation, kind).observe(time.monotonic() - started)
        return timed
    return wrap


@functools.lru_cache(maxsize=1024)
def _etcd_series(operation: str, kind: Kind):
    return ETCD_REQUEST_DURATION.labels(operation, resource_type(kind))


def track_watch_cache(cache) -> None:
    """Watchers and stored objects per kind, read from the watch cache at scrape time."""
    REGISTERED_WATCHERS.track(cache, _watchers)
    STORAGE_OBJECTS.track(cache, _objects)


def _watchers(cache) -> Iterable[tuple[tuple[str, ...], float]]:
    for c in list(cache.caches.values()):
        yield (c.kind.group, c.kind.version, c.kind.kind), len(c.watchers)


def _objects(cache) -> Iterable[tuple[tuple[str, ...], float]]:
    for c in list(cache.caches.values()):
        yield (resource_type(c.kind),), len(c.objects)
