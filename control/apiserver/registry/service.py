"""Services (v1): ClusterIP, NodePort, LoadBalancer, ExternalName and headless. The allocated
clusterIP and nodePorts are kept when an update omits them; allocation itself is the
ServiceAllocations' (control/apiserver/services.py)."""

from __future__ import annotations

import argparse

from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.allocators import ClusterIPAllocator, NodePortAllocator, parse_port_range
from control.apiserver.context import ApiContext, KindHooks
from control.apiserver.registry.base import Strategy
from control.apiserver.services import NODE_PORT_TYPES, ServiceAllocations, needs_health_check_port
from control.apiserver.validation import service
from control.apiserver.validation.names import dns1035_label_errors


def keep_allocations(new: Message, old: Message) -> None:
    """An update that omits the allocated clusterIP or nodePorts keeps them (they are immutable)."""
    if old.spec.cluster_ip and not new.spec.cluster_ip:
        new.spec.cluster_ip = old.spec.cluster_ip
        new.spec.cluster_ips[:] = old.spec.cluster_ips
    if (needs_health_check_port(new) and needs_health_check_port(old)
            and not new.spec.health_check_node_port):
        new.spec.health_check_node_port = old.spec.health_check_node_port
    if new.spec.type not in NODE_PORT_TYPES:
        return
    old_ports = {(p.port, p.protocol or "TCP"): p.node_port for p in old.spec.ports}
    for port in new.spec.ports:
        if not port.node_port:
            port.node_port = old_ports.get((port.port, port.protocol or "TCP"), 0)


def drop_type_dependent_fields(new: Message, old: Message) -> None:
    """Fields of a type the Service leaves go with it, unless the update sets them anew."""
    dropped: list[str] = []
    if old.spec.type in NODE_PORT_TYPES and new.spec.type not in NODE_PORT_TYPES:
        dropped += ["external_traffic_policy", "health_check_node_port"]
    if old.spec.type == "LoadBalancer" and new.spec.type != "LoadBalancer":
        dropped += ["allocate_load_balancer_node_ports", "load_balancer_class"]
    if needs_health_check_port(old) and not needs_health_check_port(new):
        dropped.append("health_check_node_port")
    for name in dropped:
        if new.spec.HasField(name) and getattr(new.spec, name) == getattr(old.spec, name):
            new.spec.ClearField(name)


class ServiceStrategy(Strategy):
    def prepare_for_update(self, new: Message, old: Message) -> None:
        keep_allocations(new, old)
        drop_type_dependent_fields(new, old)

    def hooks(self, api: ApiContext, options: argparse.Namespace) -> KindHooks:
        return ServiceAllocations(api.storage, ClusterIPAllocator(options.service_cluster_ip_range),
                                  NodePortAllocator(parse_port_range(options.service_node_port_range)))


# Service names become DNS labels and environment variables: DNS-1035 labels.
strategy = ServiceStrategy(default=defaults.default_service, validate=service.validate_service,
                           validate_update=service.validate_service_update, name_check=dns1035_label_errors)
