"""Pods' extra verbs: Bind (pods/binding), and Logs, Exec, Stats proxied to the node's agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.context import ApiContext
from control.apiserver.storage import ConflictError, NotFoundError
from control.apiserver.strategy import now
from control.client import podutil
from control.client.kinds import KINDS
from skiff.v1 import meta_pb2, node_agent_pb2, node_agent_pb2_grpc, pod_pb2


def qos_class(p: Message) -> str:
    return podutil.qos_class(p)


POD = KINDS["Pod"]
NODE = KINDS["Node"]


async def bind(api: ApiContext, binding: pod_pb2.Binding) -> pod_pb2.Pod:
    namespace = binding.metadata.namespace or "default"
    name = binding.metadata.name
    node = binding.target.name
    if not name:
        raise errors.bad_request("metadata.name: Required value", "metadata.name")
    if not node:
        raise errors.bad_request("target.name: Required value", "target.name")
    if binding.target.kind and binding.target.kind != "Node":
        raise errors.bad_request(f'target.kind: Unsupported value: "{binding.target.kind}": '
                                 'supported values: "Node"', "target.kind")
    while True:
        try:
            pod = await api.storage.get(POD, namespace, name)
        except NotFoundError:
            raise errors.not_found("pods", name) from None
        _check_bindable(pod, binding)
        revision = int(pod.metadata.resource_version)
        pod.spec.node_name = node
        _set_scheduled(pod)
        try:
            bound = await api.storage.update(POD, pod, revision)
        except ConflictError:
            continue
        api.cache[POD].note_write(int(bound.metadata.resource_version))
        return bound


def _check_bindable(pod: pod_pb2.Pod, binding: pod_pb2.Binding) -> None:
    name = pod.metadata.name
    if binding.metadata.uid and binding.metadata.uid != pod.metadata.uid:
        raise errors.conflict("pods", name, f"Precondition failed: UID in precondition: "
                              f"{binding.metadata.uid}, UID in object meta: {pod.metadata.uid}")
    if pod.spec.node_name:
        raise errors.conflict("pods/binding", name,
                              f'pod {name} is already assigned to node "{pod.spec.node_name}"')
    if pod.metadata.HasField("deletion_timestamp"):
        raise errors.conflict("pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host")


def _set_scheduled(pod: pod_pb2.Pod) -> None:
    for cond in pod.status.conditions:
        if cond.type == "PodScheduled":
            cond.status, cond.reason, cond.message = "True", "", ""
            cond.last_transition_time.CopyFrom(now())
            return
    pod.status.conditions.add(type="PodScheduled", status="True").last_transition_time.CopyFrom(now())


@dataclass(frozen=True)
class KubeletClientTLS:
    """kube-apiserver's --kubelet-certificate-authority (empty: the system's roots), --kubelet-client-certificate
    and --kubelet-client-key."""
    ca: str
    cert: str
    key: str

    def credentials(self) -> grpc.ChannelCredentials:
        def read(path: str) -> bytes:
            with open(path, "rb") as f:
                return f.read()
        return grpc.ssl_channel_credentials(read(self.ca) if self.ca else None, read(self.key), read(self.cert))


class AgentProxy:
    """Channels to node agents, found through Node status (InternalIP + kubelet port).

    With tls, each agent must present a certificate from the CA naming its node (SAN DNS:<node>), whatever
    address it is reached at; we present the kubelet-client certificate."""

    def __init__(self, api: ApiContext, tls: KubeletClientTLS | None = None) -> None:
        self.api = api
        self.credentials = tls.credentials() if tls else None
        self.channels: dict[tuple[str, str], grpc.aio.Channel] = {}

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()

    def _stub(self, node: Message) -> node_agent_pb2_grpc.NodeAgentStub:
        port = node.status.daemon_endpoints.kubelet_endpoint.port
        address = next((a.address for a in node.status.addresses if a.type == "InternalIP"), "")
        if not port or not address:
            raise errors.unavailable(f'node "{node.metadata.name}" does not publish its agent endpoint')
        target = f"{address}:{port}"
        key = (target, node.metadata.name)
        if key not in self.channels:
            self.channels[key] = self._channel(target, node.metadata.name)
        return node_agent_pb2_grpc.NodeAgentStub(self.channels[key])

    def _channel(self, target: str, node_name: str) -> grpc.aio.Channel:
        if self.credentials is None:
            return grpc.aio.insecure_channel(target)
        return grpc.aio.secure_channel(target, self.credentials,
                                       options=[("grpc.ssl_target_name_override", node_name)])

    async def _node(self, name: str) -> Message:
        cache = self.api.cache[NODE]
        await cache.wait_fresh()
        node = cache.get("", name)
        if node is None:
            raise errors.not_found("nodes", name)
        return node

    async def _pod_agent(self, namespace: str, name: str) -> node_agent_pb2_grpc.NodeAgentStub:
        cache = self.api.cache[POD]
        await cache.wait_fresh()
        pod = cache.get(namespace or "default", name)
        if pod is None:
            raise errors.not_found("pods", name)
        if not pod.spec.node_name:
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        return self._stub(await self._node(pod.spec.node_name))

    async def logs(self, request: node_agent_pb2.LogsRequest) -> AsyncIterator[node_agent_pb2.LogChunk]:
        request.namespace = request.namespace or "default"
        stub = await self._pod_agent(request.namespace, request.name)
        async for chunk in _relay(stub.Logs(request)):
            yield chunk

    async def exec(self, request: node_agent_pb2.ExecRequest) -> node_agent_pb2.ExecResponse:
        request.namespace = request.namespace or "default"
        stub = await self._pod_agent(request.namespace, request.name)
        try:
            return await stub.Exec(request)
        except grpc.aio.AioRpcError as e:
            raise errors.ApiError(e.code(), e.details() or "exec failed") from None

    async def exec_stream(self, requests: AsyncIterator[node_agent_pb2.ExecInput]
                          ) -> AsyncIterator[node_agent_pb2.ExecOutput]:
        async for out in self._stream("ExecStream", requests):
            yield out

    async def attach(self, requests: AsyncIterator[node_agent_pb2.ExecInput]
                     ) -> AsyncIterator[node_agent_pb2.ExecOutput]:
        async for out in self._stream("Attach", requests):
            yield out

    async def port_forward(self, requests: AsyncIterator[node_agent_pb2.PortForwardInput]
                           ) -> AsyncIterator[node_agent_pb2.PortForwardOutput]:
        async for out in self._stream("PortForward", requests):
            yield out

    async def _stream(self, method: str, requests: AsyncIterator[Message]) -> AsyncIterator[Message]:
        """A bidirectional call relayed to the pod's agent; the first message's `start` names the pod."""
        first = await anext(aiter(requests), None)
        if first is None or not first.HasField("start"):
            raise errors.bad_request(f"the first {type(first).__name__} must carry start", "start")
        first.start.namespace = first.start.namespace or "default"
        stub = await self._pod_agent(first.start.namespace, first.start.name)

        async def forward() -> AsyncIterator[Message]:
            yield first
            async for item in requests:
                yield item

        async for out in _relay(getattr(stub, method)(forward())):
            yield out

    async def stats(self, request: node_agent_pb2.StatsRequest) -> node_agent_pb2.StatsSummary:
        stub = self._stub(await self._node(request.name))
        try:
            return await stub.Stats(request)
        except grpc.aio.AioRpcError as e:
            raise errors.ApiError(e.code(), e.details() or "stats failed") from None


async def _relay(call) -> AsyncIterator[Message]:
    try:
        async for item in call:
            yield item
    except grpc.aio.AioRpcError as e:
        raise errors.ApiError(e.code(), e.details() or "agent call failed") from None
    finally:
        call.cancel()


__all__ = ["bind", "AgentProxy", "KubeletClientTLS", "meta_pb2"]
