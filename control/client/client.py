"""A typed asyncio client for skiff-apiserver: Kubernetes' verbs on any kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client.kinds import Kind, kind_of, lookup
from control.client.kubeconfig import CHANNEL_OPTIONS, ClientConfig, load_client_config, make_channel
from skiff.v1 import (
    authz_pb2,
    meta_pb2,
    metrics_pb2,
    metrics_pb2_grpc,
    node_agent_pb2,
    pod_pb2,
    policy_pb2,
    requests_pb2,
    services_pb2_grpc,
    version_pb2,
)


@dataclass
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    object: Message


def _kind(kind: Kind | str) -> Kind:
    return kind if isinstance(kind, Kind) else lookup(kind)


class Client:
    """One channel to the apiserver; methods mirror the API's RPCs."""

    def __init__(self, target: str, channel: grpc.aio.Channel | None = None, *,
                 config: ClientConfig | None = None) -> None:
        """Without a channel, one from config (default: the client config file, $SKIFFCONFIG)."""
        self.target = target
        self.channel = channel or make_channel(target, config or load_client_config())
        self._stubs: dict[str, object] = {}

    def stub(self, kind: Kind | str):
        k = _kind(kind)
        if k.kind not in self._stubs:
            self._stubs[k.kind] = k.stub(self.channel)
        return self._stubs[k.kind]

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def create(self, obj: Message, dry_run: bool = False) -> Message:
        k = kind_of(obj)
        return await self.stub(k).Create(k.request_message(object=obj, dry_run=dry_run))

    async def update(self, obj: Message, dry_run: bool = False) -> Message:
        k = kind_of(obj)
        return await self.stub(k).Update(k.request_message(object=obj, dry_run=dry_run))

    async def apply(self, kind: Kind | str, config: dict, field_manager: str, force: bool = False,
                    dry_run: bool = False) -> Message:
        """Server-side apply of a configuration (an object's JSON) as field_manager."""
        meta = config.get("metadata") or {}
        request = requests_pb2.ApplyRequest(namespace=meta.get("namespace", ""), name=meta.get("name", ""),
                                            configuration=json.dumps(config).encode(), field_manager=field_manager,
                                            force=force, dry_run=dry_run)
        return await self.stub(kind).Apply(request)

    async def update_status(self, obj: Message) -> Message:
        k = kind_of(obj)
        return await self.stub(k).UpdateStatus(k.request_message(object=obj))

    async def get(self, kind: Kind | str, name: str, namespace: str = "") -> Message:
        return await self.stub(kind).Get(requests_pb2.GetRequest(namespace=namespace, name=name))

    async def list(self, kind: Kind | str, namespace: str = "", label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "") -> Message:
        """One page; see list_all for every item."""
        req = requests_pb2.ListRequest(namespace=namespace, label_selector=label_selector,
                                   field_selector=field_selector, limit=limit,
                                   continue_token=continue_token)
        return await self.stub(kind).List(req)

    async def list_all(self, kind: Kind | str, namespace: str = "", label_selector: str = "",
                       field_selector: str = "", page_size: int = 500) -> tuple[list[Message], str]:
        """All items across pages and the list's resourceVersion."""
        items: list[Message] = []
        token = ""
        while True:
            page = await self.list(kind, namespace, label_selector, field_selector, page_size, token)
            items.extend(page.items)
            token = page.metadata.continue_
            if not token:
                return items, page.metadata.resource_version

    async def delete(self, kind: Kind | str, name: str, namespace: str = "",
                     propagation_policy: str = "", grace_period_seconds: int | None = None,
                     dry_run: bool = False, uid: str = "", resource_version: str = "") -> Message:
        req = requests_pb2.DeleteRequest(namespace=namespace, name=name,
                                     propagation_policy=propagation_policy, dry_run=dry_run,
                                     preconditions=meta_pb2.Preconditions(
                                         uid=uid, resource_version=resource_version))
        if grace_period_seconds is not None:
            req.grace_period_seconds = grace_period_seconds
        return await self.stub(kind).Delete(req)

    async def watch(self, kind: Kind | str, namespace: str = "", label_selector: str = "",
                    field_selector: str = "", resource_version: str = "",
                    allow_bookmarks: bool = True) -> AsyncIterator[WatchEvent]:
        req = requests_pb2.WatchRequest(namespace=namespace, label_selector=label_selector,
                                    field_selector=field_selector, resource_version=resource_version,
                                    allow_watch_bookmarks=allow_bookmarks)
        call = self.stub(kind).Watch(req)
        try:
            async for event in call:
                yield WatchEvent(event.type, event.object)
        finally:
            call.cancel()

    async def bind(self, namespace: str, name: str, node_name: str, uid: str = "") -> Message:
        binding = pod_pb2.Binding(api_version="v1", kind="Binding",
                                  metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace, uid=uid),
                                  target=meta_pb2.ObjectReference(kind="Node", name=node_name))
        return await self.stub("Pod").Bind(binding)

    async def create_token(self, namespace: str, name: str, audiences: list[str] | None = None,
                           expiration_seconds: int | None = None, bound: Message | None = None) -> Message:
        """The serviceaccounts/token subresource: a TokenRequest for ServiceAccount name, optionally bound
        to a Pod or Secret (`bound`: the object or a BoundObjectReference); the token is in status.token."""
        request = authz_pb2.TokenRequest(api_version="authentication.k8s.io/v1", kind="TokenRequest",
                                         metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace))
        request.spec.audiences.extend(audiences or [])
        if expiration_seconds is not None:
            request.spec.expiration_seconds = expiration_seconds
        ref = request.spec.bound_object_ref
        if isinstance(bound, authz_pb2.BoundObjectReference):
            ref.CopyFrom(bound)
        elif bound is not None:
            ref.api_version, ref.kind = "v1", bound.kind or bound.DESCRIPTOR.name
            ref.name, ref.uid = bound.metadata.name, bound.metadata.uid
        return await self.stub("ServiceAccount").CreateToken(request)

    async def evict(self, namespace: str, name: str, grace_period_seconds: int | None = None) -> Message:
        """The pods/eviction subresource: a deletion that PodDisruptionBudgets may refuse (429)."""
        eviction = policy_pb2.Eviction(api_version="policy/v1", kind="Eviction",
                                       metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace))
        if grace_period_seconds is not None:
            eviction.delete_options.grace_period_seconds = grace_period_seconds
        return await self.stub("Pod").Evict(eviction)

    def logs(self, namespace: str, name: str, container: str = "", follow: bool = False,
             tail_lines: int | None = None, previous: bool = False):
        req = node_agent_pb2.LogsRequest(namespace=namespace, name=name, container=container,
                                         follow=follow, previous=previous)
        if tail_lines is not None:
            req.tail_lines = tail_lines
        return self.stub("Pod").Logs(req)

    async def exec(self, namespace: str, name: str, command: list[str], container: str = "",
                   timeout_seconds: int = 0) -> node_agent_pb2.ExecResponse:
        req = node_agent_pb2.ExecRequest(namespace=namespace, name=name, container=container,
                                         command=command, timeout_seconds=timeout_seconds)
        return await self.stub("Pod").Exec(req)

    async def server_version(self) -> version_pb2.VersionInfo:
        """The apiserver's version.Info (Kubernetes' GET /version)."""
        call = self.channel.unary_unary("/skiff.v1.Version/Get",
                                        request_serializer=version_pb2.GetVersionRequest.SerializeToString,
                                        response_deserializer=version_pb2.VersionInfo.FromString)
        return await call(version_pb2.GetVersionRequest())

    async def node_stats(self, node_name: str) -> node_agent_pb2.StatsSummary:
        return await self.stub("Node").Stats(node_agent_pb2.StatsRequest(name=node_name))

    async def get_scale(self, kind: Kind | str, name: str, namespace: str = "") -> Message:
        """The scale subresource (autoscaling/v1 Scale) of a kind with `scale`."""
        return await self.stub(kind).GetScale(requests_pb2.GetRequest(namespace=namespace, name=name))

    async def update_scale(self, kind: Kind | str, scale: Message) -> Message:
        return await self.stub(kind).UpdateScale(scale)

    # --- metrics.k8s.io/v1beta1 ----------------------------------------------------------------

    def _metrics_stubs(self):
        if "metrics" not in self._stubs:
            self._stubs["metrics"] = (metrics_pb2_grpc.NodeMetricsServiceStub(self.channel),
                                      metrics_pb2_grpc.PodMetricsServiceStub(self.channel))
        return self._stubs["metrics"]

    async def get_node_metrics(self, name: str) -> metrics_pb2.NodeMetrics:
        return await self._metrics_stubs()[0].Get(requests_pb2.GetRequest(name=name))

    async def list_node_metrics(self, label_selector: str = "") -> list[metrics_pb2.NodeMetrics]:
        page = await self._metrics_stubs()[0].List(requests_pb2.ListRequest(label_selector=label_selector))
        return list(page.items)

    async def get_pod_metrics(self, namespace: str, name: str) -> metrics_pb2.PodMetrics:
        return await self._metrics_stubs()[1].Get(requests_pb2.GetRequest(namespace=namespace, name=name))

    async def list_pod_metrics(self, namespace: str = "", label_selector: str = "") -> list[metrics_pb2.PodMetrics]:
        request = requests_pb2.ListRequest(namespace=namespace, label_selector=label_selector)
        return list((await self._metrics_stubs()[1].List(request)).items)


__all__ = ["Client", "WatchEvent", "CHANNEL_OPTIONS", "services_pb2_grpc"]
