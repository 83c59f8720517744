"""Nodes (v1): registered by their agents with status included; `Stats` is proxied to the node's
agent (what `skiffctl top` shows)."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.auth.gate import Action
from control.apiserver.context import ApiContext
from control.apiserver.registry.base import Strategy
from control.apiserver.rpc import Guarded, parser
from control.apiserver.validation import core
from control.client.kinds import KINDS
from skiff.v1 import node_agent_pb2

_STATS = next(r for r in KINDS["Node"].rpcs if r.name == "Stats")


def _node_target(request: Message) -> tuple[str, str]:
    return "", request.name


class NodeStrategy(Strategy):
    def prepare_for_create(self, obj: Message) -> None:
        """Nodes may set their status on create (the agent registers with its capacity), but not the
        retired dynamic kubelet config: spec.configSource and status.config are dropped, as
        Kubernetes drops them."""
        obj.spec.ClearField("config_source")
        obj.status.ClearField("config")

    def prepare_for_update(self, new: Message, old: Message) -> None:
        """spec.configSource is kept only on a node that already had one."""
        if not old.spec.HasField("config_source"):
            new.spec.ClearField("config_source")

    def rpc_methods(self, api: ApiContext, guard: Guarded) -> dict[str, grpc.RpcMethodHandler]:
        action = Action(_STATS.verb, _node_target, _STATS.subresource)
        return {"Stats": grpc.unary_unary_rpc_method_handler(
            guard.unary(api.agents.stats, action), parser(node_agent_pb2.StatsRequest),
            node_agent_pb2.StatsSummary.SerializeToString)}


strategy = NodeStrategy(default=defaults.default_node, validate=core.validate_node,
                        validate_update=core.validate_node_update)
