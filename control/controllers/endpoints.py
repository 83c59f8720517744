"""The Endpoints controller: each Service's selector -> the addresses and ports of its pods.

Ready pods go to `addresses`, others to `notReadyAddresses` (all to
`addresses` with publishNotReadyAddresses); terminating and finished pods are
left out. A named targetPort is resolved per pod from its containers' ports,
and pods that expose the same ports share one subset, as Kubernetes packs them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, option
from control.client.convert import int_or_string
from control.client.informer import key_of, split_key
from control.client.kinds import KINDS
from control.client.podutil import is_pod_ready
from control.client.selectors import parse_selector
from control.client.wellknown import is_being_deleted, is_terminal
from skiff.v1 import core_pb2, meta_pb2

log = logging.getLogger(__name__)

PortKey = tuple[tuple[str, int, str], ...]  # (name, port, protocol) per service port


@dataclass(frozen=True)
class EndpointsOptions:
    concurrent_endpoint_syncs: int = option(5, "Services whose endpoints are synced at once")


class EndpointsController(Controller):
    name = "endpoints"
    event_source = "endpoint-controller"
    Options = EndpointsOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_endpoint_syncs)
        self.services = ctx.informers.get("Service")
        self.pods = ctx.informers.get("Pod")
        self.endpoints = ctx.informers.get("Endpoints")
        self.services.add_handler(**self.enqueue_handlers())
        self.pods.add_handler(on_add=self._pod_changed, on_update=self._pod_updated, on_delete=self._pod_changed)
        self.endpoints.add_handler(on_delete=self.enqueue)

    def _services_selecting(self, pod: Message) -> list[Message]:
        return [svc for svc in self.services.store.by_index("namespace", pod.metadata.namespace)
                if svc.spec.selector and _selects(svc, pod)]

    def _pod_changed(self, pod: Message) -> None:
        for svc in self._services_selecting(pod):
            self.enqueue(svc)

    def _pod_updated(self, old: Message, new: Message) -> None:
        for svc in {key_of(s): s for s in self._services_selecting(old) + self._services_selecting(new)}.values():
            self.enqueue(svc)

    async def reconcile(self, key: str) -> None:
        namespace, name = split_key(key)
        svc = self.services.store.get(key)
        current = self.endpoints.store.get(key)
        if svc is None:
            if current is not None:
                await self._ignore_not_found(self.client.delete("Endpoints", name, namespace))
            return
        if not svc.spec.selector:
            return  # endpoints of selector-less services are managed by their users
        desired = self._desired(svc)
        if current is None:
            await self.client.create(desired)
        elif _differs(current, desired):
            updated = type(current)()
            updated.CopyFrom(current)
            del updated.subsets[:]
            updated.subsets.extend(desired.subsets)
            updated.metadata.labels.clear()
            updated.metadata.labels.update(desired.metadata.labels)
            await self.client.update(updated)

    def _desired(self, svc: Message) -> core_pb2.Endpoints:
        ep = KINDS["Endpoints"].new()
        ep.metadata.name, ep.metadata.namespace = svc.metadata.name, svc.metadata.namespace
        ep.metadata.labels.update(svc.metadata.labels)
        groups: dict[PortKey, tuple[list, list]] = defaultdict(lambda: ([], []))
        pods = sorted((p for p in self.pods.store.by_index("namespace", svc.metadata.namespace)
                       if _selects(svc, p)), key=lambda p: p.status.pod_ip)
        for pod in pods:
            if not pod.status.pod_ip or is_being_deleted(pod) or is_terminal(pod):
                continue
            ports = _pod_ports(svc, pod)
            if svc.spec.ports and not ports:
                continue
            ready, not_ready = groups[ports]
            address = _address(svc, pod)
            (ready if svc.spec.publish_not_ready_addresses or is_pod_ready(pod) else not_ready).append(address)
        for ports, (ready, not_ready) in sorted(groups.items()):
            subset = ep.subsets.add()
            subset.addresses.extend(ready)
            subset.not_ready_addresses.extend(not_ready)
            for port_name, port, protocol in ports:
                subset.ports.add(name=port_name, port=port, protocol=protocol)
        return ep

    @staticmethod
    async def _ignore_not_found(call) -> None:
        try:
            await call
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise


def _selects(svc: Message, pod: Message) -> bool:
    selector = ",".join(f"{k}={v}" for k, v in sorted(svc.spec.selector.items()))
    return bool(selector) and parse_selector(selector).matches(pod.metadata.labels)


def _address(svc: Message, pod: Message) -> core_pb2.EndpointAddress:
    address = core_pb2.EndpointAddress(
        ip=pod.status.pod_ip, node_name=pod.spec.node_name,
        target_ref=meta_pb2.ObjectReference(kind="Pod", namespace=pod.metadata.namespace,
                                            name=pod.metadata.name, uid=pod.metadata.uid))
    if pod.spec.hostname and pod.spec.subdomain == svc.metadata.name:
        address.hostname = pod.spec.hostname
    return address


def _pod_ports(svc: Message, pod: Message) -> PortKey:
    """The service's ports as this pod serves them; a named targetPort the pod lacks drops that port."""
    resolved = []
    for sp in svc.spec.ports:
        target = int_or_string(sp.target_port) if sp.HasField("target_port") else None
        protocol = sp.protocol or "TCP"
        if target is None or target == 0:
            port = sp.port
        elif isinstance(target, int):
            port = target
        else:
            port = _named_port(pod, target, protocol)
            if port is None:
                continue
        resolved.append((sp.name, port, protocol))
    return tuple(resolved)


def _named_port(pod: Message, name: str, protocol: str) -> int | None:
    for container in pod.spec.containers:
        for port in container.ports:
            if port.name == name and (port.protocol or "TCP") == protocol:
                return port.container_port
    return None


def _differs(current: Message, desired: Message) -> bool:
    def canon(ep: Message) -> bytes:
        return b"".join(s.SerializeToString(deterministic=True) for s in ep.subsets)
    return canon(current) != canon(desired) or dict(current.metadata.labels) != dict(desired.metadata.labels)
