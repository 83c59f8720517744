"""Node IPAM: gives each Node a spec.podCIDR carved from the cluster CIDR.

The allocation map is rebuilt from the Nodes themselves, so a CIDR is free
again as soon as its node is gone, and a restarted controller hands out
nothing twice. CIDRs assigned but not yet seen back through the informer are
held in memory so two nodes never get the same one.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

import grpc

from control.client.component import parse_bool
from control.client.controller import Controller, ControllerContext, option
from control.client.events import WARNING
from control.client.informer import copy_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeIpamOptions:
    cluster_cidr: str = option("10.244.0.0/16", "the CIDR range of pods in the cluster")
    node_cidr_mask_size: int = option(24, "the mask size of each node's pod CIDR")
    allocate_node_cidrs: bool = option(True, "whether pod CIDRs are allocated to nodes", parse_bool)


class NodeIpamController(Controller):
    name = "nodeipam"
    Options = NodeIpamOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)  # one worker: allocation must be serial
        options: NodeIpamOptions = ctx.options
        self.cluster_cidr = ipaddress.ip_network(options.cluster_cidr)
        self.mask = options.node_cidr_mask_size
        if self.mask < self.cluster_cidr.prefixlen:
            raise ValueError(f"--node-cidr-mask-size {self.mask} is larger than the cluster CIDR {self.cluster_cidr}")
        self.enabled = options.allocate_node_cidrs
        self.nodes = ctx.informers.get("Node")
        self.nodes.add_handler(**self.enqueue_handlers())
        self.pending: dict[str, str] = {}  # node name -> CIDR written but not yet observed

    def _in_use(self) -> set[str]:
        used = {n.spec.pod_cidr for n in self.nodes.store.list() if n.spec.pod_cidr}
        names = {n.metadata.name for n in self.nodes.store.list()}
        self.pending = {name: cidr for name, cidr in self.pending.items() if name in names and cidr not in used}
        return used | set(self.pending.values())

    def _next_free(self) -> str | None:
        used = self._in_use()
        for subnet in self.cluster_cidr.subnets(new_prefix=self.mask):
            if str(subnet) not in used:
                return str(subnet)
        return None

    async def reconcile(self, key: str) -> None:
        node = self.nodes.store.get(key)
        if not self.enabled or node is None or node.spec.pod_cidr or key in self.pending:
            return
        cidr = self._next_free()
        if cidr is None:
            self.recorder.event(node, WARNING, "CIDRNotAvailable",
                                f"Node {key} status is now: CIDRNotAvailable")
            raise RuntimeError(f"no pod CIDR left in {self.cluster_cidr} for node {key}")
        updated = copy_of(node)
        updated.spec.pod_cidr = cidr
        del updated.spec.pod_cidrs[:]
        updated.spec.pod_cidrs.append(cidr)
        try:
            await self.client.update(updated)
        except grpc.aio.AioRpcError as e:
            if e.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED):
                if e.code() == grpc.StatusCode.ABORTED:
                    self.queue.add_rate_limited(key)
                return
            raise
        self.pending[key] = cidr
        log.info("node %s: podCIDR %s", key, cidr)
