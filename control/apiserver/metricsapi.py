"""metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics: get and list, read-only, from the collector's
store (control/apiserver/resourcemetrics.py). Authorized as Kubernetes authorizes them: `get` or
`list` on `nodes` / `pods` in the API group metrics.k8s.io. Only objects the watch cache still holds
are served, labelled with their object's labels (the label selector matches those)."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import grpc
from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_status import rpc_status

from control.apiserver import errors, metrics
from control.apiserver.auth.attributes import Attributes, Decision
from control.apiserver.auth.gate import ANONYMOUS, Gate, forbidden
from control.apiserver.context import ApiContext
from control.apiserver.resourcemetrics import MetricsStore, Point
from control.client.kinds import KINDS
from control.client.quantity import format_quantity
from control.client.selectors import SelectorError, parse_selector
from skiff.v1 import metrics_pb2, requests_pb2

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
NODE_SERVICE = metrics_pb2.DESCRIPTOR.services_by_name["NodeMetricsService"].full_name
POD_SERVICE = metrics_pb2.DESCRIPTOR.services_by_name["PodMetricsService"].full_name
SERVICE_NAMES = (NODE_SERVICE, POD_SERVICE)


def cpu_text(nano_cores: int) -> str:
    return format_quantity(Decimal(nano_cores).scaleb(-9))


def memory_text(num_bytes: int) -> str:
    return format_quantity(Decimal(num_bytes), "BinarySI")


def duration_text(seconds: float) -> str:
    """Go's time.Duration spelling, as metav1.Duration prints: 300ms, 15s, 15.2s, 1m0.5s."""
    if 0 < seconds < 1:
        return f"{seconds * 1000:.6f}".rstrip("0").rstrip(".") + "ms"
    minutes, rest = divmod(round(seconds, 9), 60)
    text = f"{rest:.9f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text


def _usage(point: Point, into) -> None:
    into["cpu"] = cpu_text(point.cpu_nano_cores)
    into["memory"] = memory_text(point.memory_bytes)


def _meta(out: Message, obj: Message, timestamp_ns: int, window: float) -> None:
    out.api_version, out.kind = API_VERSION, type(out).__name__
    out.metadata.name = obj.metadata.name
    out.metadata.namespace = obj.metadata.namespace
    out.metadata.labels.update(obj.metadata.labels)
    out.metadata.creation_timestamp.GetCurrentTime()
    out.timestamp.CopyFrom(Timestamp(seconds=timestamp_ns // 10**9, nanos=timestamp_ns % 10**9))
    out.window = duration_text(window)


def node_metrics(node: Message, point: Point) -> metrics_pb2.NodeMetrics:
    out = metrics_pb2.NodeMetrics()
    _meta(out, node, point.timestamp_ns, point.window_s)
    _usage(point, out.usage)
    return out


def pod_metrics(pod: Message, store: MetricsStore) -> metrics_pb2.PodMetrics | None:
    point = store.pods.get((pod.metadata.namespace, pod.metadata.name))
    if point is None:
        return None
    out = metrics_pb2.PodMetrics()
    _meta(out, pod, point.timestamp_ns, point.window_s)
    for name, usage in sorted(point.containers.items()):
        _usage(usage, out.containers.add(name=name).usage)
    return out


class MetricsApi:
    def __init__(self, api: ApiContext, store: MetricsStore) -> None:
        self.api = api
        self.store = store
        self.gate = Gate(api)

    def _authorize(self, context: grpc.aio.ServicerContext, verb: str, resource: str, namespace: str,
                   name: str) -> None:
        user = self.gate.authenticate(context)
        if user is None:  # --insecure-dev
            return
        attrs = Attributes(user or ANONYMOUS, verb, GROUP, resource, "", namespace, name)
        verdict = self.api.authorizer.authorize(attrs)
        if verdict.decision is not Decision.ALLOW:
            raise forbidden(attrs, verdict.reason)

    def _objects(self, kind: str, namespace: str, selector_text: str) -> list[Message]:
        try:
            selector = parse_selector(selector_text)
        except SelectorError as e:
            raise errors.bad_request(str(e), "labelSelector") from None
        items = self.api.cache[KINDS[kind]].snapshot()[0]
        return [o for o in items if (not namespace or o.metadata.namespace == namespace)
                and selector.matches(o.metadata.labels)]

    async def get_node(self, r: requests_pb2.GetRequest, context) -> metrics_pb2.NodeMetrics:
        self._authorize(context, "get", "nodes", "", r.name)
        node = self.api.cache[KINDS["Node"]].get("", r.name)
        point = self.store.nodes.get(r.name)
        if node is None or point is None:
            raise errors.not_found(f"nodemetrics.{GROUP}", r.name)
        return node_metrics(node, point)

    async def list_nodes(self, r: requests_pb2.ListRequest, context) -> metrics_pb2.NodeMetricsList:
        self._authorize(context, "list", "nodes", "", "")
        out = metrics_pb2.NodeMetricsList(api_version=API_VERSION, kind="NodeMetricsList")
        for node in sorted(self._objects("Node", "", r.label_selector), key=lambda n: n.metadata.name):
            point = self.store.nodes.get(node.metadata.name)
            if point is not None:
                out.items.append(node_metrics(node, point))
        return out

    async def get_pod(self, r: requests_pb2.GetRequest, context) -> metrics_pb2.PodMetrics:
        namespace = r.namespace or "default"
        self._authorize(context, "get", "pods", namespace, r.name)
        pod = self.api.cache[KINDS["Pod"]].get(namespace, r.name)
        found = pod_metrics(pod, self.store) if pod is not None else None
        if found is None:
            raise errors.not_found(f"podmetrics.{GROUP}", f"{namespace}/{r.name}")
        return found

    async def list_pods(self, r: requests_pb2.ListRequest, context) -> metrics_pb2.PodMetricsList:
        self._authorize(context, "list", "pods", r.namespace, "")
        out = metrics_pb2.PodMetricsList(api_version=API_VERSION, kind="PodMetricsList")
        pods = self._objects("Pod", r.namespace, r.label_selector)
        for pod in sorted(pods, key=lambda p: (p.metadata.namespace, p.metadata.name)):
            found = pod_metrics(pod, self.store)
            if found is not None:
                out.items.append(found)
        return out


def _unary(handler: Callable, request_type, info: metrics.RequestInfo) -> grpc.RpcMethodHandler:
    async def call(data: bytes, context: grpc.aio.ServicerContext):
        started = time.monotonic()
        try:
            try:
                request = request_type.FromString(data)
            except DecodeError as e:
                raise errors.bad_request(f"malformed {request_type.DESCRIPTOR.full_name}: {e}") from None
            result = await handler(request, context)
        except errors.ApiError as e:
            metrics.observe(info, e.code, started)
            await context.abort_with_status(rpc_status.to_status(e.to_status()))
        metrics.observe(info, grpc.StatusCode.OK, started)
        return result.SerializeToString()
    return grpc.unary_unary_rpc_method_handler(call, lambda b: b, lambda b: b)


def _info(verb: str, resource: str, scope: str) -> metrics.RequestInfo:
    return metrics.RequestInfo(verb, "", GROUP, VERSION, resource, "", scope)


def metrics_services(api: ApiContext, store: MetricsStore) -> list[grpc.GenericRpcHandler]:
    m = MetricsApi(api, store)
    get, lst = requests_pb2.GetRequest, requests_pb2.ListRequest
    return [
        grpc.method_handlers_generic_handler(NODE_SERVICE, {
            "Get": _unary(m.get_node, get, _info("GET", "nodes", "resource")),
            "List": _unary(m.list_nodes, lst, _info("LIST", "nodes", "cluster"))}),
        grpc.method_handlers_generic_handler(POD_SERVICE, {
            "Get": _unary(m.get_pod, get, _info("GET", "pods", "resource")),
            "List": _unary(m.list_pods, lst, _info("LIST", "pods", "namespace"))}),
    ]
