"""metrics.k8s.io/v1beta1 over REST, so kubectl's `top` works: discovery entries for the group and
GET of `nodes[/NAME]`, `pods` and `namespaces/NS/pods[/NAME]`, answered from the same store and with
the same authorization as the gRPC metrics services (control/apiserver/metricsapi.py)."""

from __future__ import annotations

import grpc
from google.protobuf import json_format

from control.apiserver import errors
from control.apiserver.metricsapi import API_VERSION, GROUP, VERSION, MetricsApi
from control.apiserver.rest.http import Request
from skiff.v1 import requests_pb2

GROUP_VERSION = (GROUP, VERSION)
_VERBS = ["get", "list"]
_RESOURCES = (("nodes", "NodeMetrics", False), ("pods", "PodMetrics", True))


def served(api) -> bool:
    return api.resource_metrics is not None


def group_doc() -> dict:
    entry = {"groupVersion": API_VERSION, "version": VERSION}
    return {"name": GROUP, "versions": [entry], "preferredVersion": entry}


def resource_list() -> dict:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": API_VERSION,
            "resources": [{"name": plural, "singularName": "", "namespaced": namespaced, "kind": kind,
                           "verbs": _VERBS} for plural, kind, namespaced in _RESOURCES]}


def aggregated_item() -> dict:
    resources = [{"resource": plural, "responseKind": {"group": GROUP, "version": VERSION, "kind": kind},
                  "scope": "Namespaced" if namespaced else "Cluster", "verbs": _VERBS}
                 for plural, kind, namespaced in _RESOURCES]
    return {"metadata": {"name": GROUP},
            "versions": [{"version": VERSION, "freshness": "Current", "resources": resources}]}


def _doc(message) -> dict:
    return json_format.MessageToDict(message)


async def serve(api, req: Request, parts: list[str], caller) -> tuple[int, dict]:
    """The answer to a GET under /apis/metrics.k8s.io/v1beta1/ (parts: the path after it)."""
    if req.method != "GET":
        raise errors.ApiError(grpc.StatusCode.UNIMPLEMENTED,
                              f"the server does not allow this method on the requested resource ({req.method})")
    m = MetricsApi(api, api.resource_metrics)
    selector = req.arg("labelSelector")
    if parts[:1] == ["nodes"] and len(parts) <= 2:
        if len(parts) == 2:
            return 200, _doc(await m.get_node(requests_pb2.GetRequest(name=parts[1]), caller))
        return 200, _doc(await m.list_nodes(requests_pb2.ListRequest(label_selector=selector), caller))
    namespace = ""
    if parts[:1] == ["namespaces"] and len(parts) >= 3:
        namespace, parts = parts[1], parts[2:]
    if parts[:1] == ["pods"] and len(parts) <= 2:
        if len(parts) == 2:
            return 200, _doc(await m.get_pod(requests_pb2.GetRequest(namespace=namespace, name=parts[1]), caller))
        return 200, _doc(await m.list_pods(requests_pb2.ListRequest(namespace=namespace, label_selector=selector),
                                           caller))
    raise errors.ApiError(grpc.StatusCode.NOT_FOUND, "the server could not find the requested resource")
