"""Just enough CRI for teardown: stop and remove every pod sandbox of one containerd."""

from __future__ import annotations

import json

import grpc

from cri.runtime.v1 import api_pb2, api_pb2_grpc


def _netns_path(status: api_pb2.PodSandboxStatusResponse) -> str:
    try:
        spec = json.loads(status.info.get("info", "{}")).get("runtimeSpec", {})
    except ValueError:
        return ""
    for namespace in spec.get("linux", {}).get("namespaces", []):
        if namespace.get("type") == "network":
            return namespace.get("path", "")
    return ""


def remove_all_sandboxes(socket_path: str) -> list[str]:
    """Stops and removes all sandboxes (CNI DEL included); returns their network namespace paths."""
    paths = []
    with grpc.insecure_channel(f"unix://{socket_path}") as channel:
        runtime = api_pb2_grpc.RuntimeServiceStub(channel)
        for sandbox in runtime.ListPodSandbox(api_pb2.ListPodSandboxRequest(), timeout=10).items:
            status = runtime.PodSandboxStatus(
                api_pb2.PodSandboxStatusRequest(pod_sandbox_id=sandbox.id, verbose=True), timeout=10)
            if path := _netns_path(status):
                paths.append(path)
            runtime.StopPodSandbox(api_pb2.StopPodSandboxRequest(pod_sandbox_id=sandbox.id), timeout=30)
            runtime.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=sandbox.id), timeout=30)
    return paths
