"""The API objects a pod's containers and volumes refer to (the kubelet's configMap, secret and
service managers), read from the apiserver when needed."""

from __future__ import annotations

import grpc

from control.client.client import Client
from skiff.v1 import pod_pb2


async def get_objects(client: Client, kind: str, namespace: str, names: list[str]) -> dict:
    """name -> object for those of names that exist (a missing one is the caller's to report)."""
    found = {}
    for name in dict.fromkeys(names):
        try:
            found[name] = await client.get(kind, name, namespace)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
    return found


async def service_link_services(client: Client, pod: pod_pb2.Pod) -> list:
    """Services whose variables the pod gets: its namespace's (enableServiceLinks, on by default)
    and always the apiserver's own `kubernetes` Service in default."""
    spec = pod.spec
    links = not spec.HasField("enable_service_links") or spec.enable_service_links
    found = {}
    namespaces = ["default", pod.metadata.namespace] if links else ["default"]
    for namespace in dict.fromkeys(namespaces):
        items, _ = await client.list_all("Service", namespace)
        for svc in items:
            if (namespace == pod.metadata.namespace and links) or svc.metadata.name == "kubernetes":
                found[svc.metadata.name] = svc
    return list(found.values())
