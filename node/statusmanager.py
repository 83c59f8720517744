"""The status manager (the kubelet's status_manager.go): writes a pod's status to the apiserver.

Only a status that changed in more than the timestamps the agent stamps itself is written;
a conflict re-reads the pod and writes the same status onto the fresh object.
"""

from __future__ import annotations

import grpc

from control.client.client import Client
from node import podstatus
from node.podworkers import PodWorker
from skiff.v1 import pod_pb2

CONFLICT_RETRIES = 3


class StatusManager:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def set_pod_status(self, w: PodWorker, status: pod_pb2.PodStatus) -> None:
        """Writes status if it changed; the worker then holds the pod as written."""
        if not podstatus.status_changed(w.pod.status, status):
            return
        pod = pod_pb2.Pod()
        pod.CopyFrom(w.pod)
        pod.status.CopyFrom(status)
        for _ in range(CONFLICT_RETRIES):
            try:
                w.pod = await self.client.update_status(pod)
                return
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.NOT_FOUND:
                    return
                if e.code() != grpc.StatusCode.ABORTED:
                    raise
                fresh = await self.client.get("Pod", pod.metadata.name, pod.metadata.namespace)
                if fresh.metadata.uid != w.uid:
                    return
                pod.CopyFrom(fresh)
                pod.status.CopyFrom(status)
