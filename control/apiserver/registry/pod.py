"""Pods (v1): Pending with their QoS class on create; LimitRanger's defaults and the default
not-ready/unreachable tolerations (admission); graceful deletion of pods on a node (the
agent stops them and deletes them with grace 0); Bind (pods/binding) and Logs / Exec / ExecStream
proxied to the node's agent."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from control.apiserver import (
    admission,
    defaults,
    ephemeral,
    errors,
    eviction,
    limitranger,
    pods,
    priority,
    resize,
    saadmission,
)
from control.apiserver.auth.gate import Action
from control.apiserver.context import ApiContext
from control.apiserver.deletion import DeletionPlan, mark
from control.apiserver.registry.base import Strategy
from control.apiserver.rpc import Guarded, object_target, parser, request_target
from control.apiserver.validation import pod
from control.apiserver.validation.podlogs import check_pod_log_options
from control.client.kinds import KINDS
from control.client.podutil import deletion_grace
from control.client.wellknown import POD_PENDING
from skiff.v1 import node_agent_pb2, pod_pb2, policy_pb2, requests_pb2, services_pb2

_RPCS = {r.name: r for r in KINDS["Pod"].rpcs}


def _binding_target(binding: Message) -> tuple[str, str]:
    return binding.metadata.namespace, binding.metadata.name


def _action(name: str, target=request_target, carries_object: bool = False) -> Action:
    rpc = _RPCS[name]
    return Action(rpc.verb, target, rpc.subresource, mutating=rpc.verb != "get", carries_object=carries_object)


class PodStrategy(Strategy):
    def prepare_for_create(self, obj: Message) -> None:
        obj.ClearField("status")
        obj.status.phase = POD_PENDING
        obj.status.qos_class = pods.qos_class(obj)

    async def admit(self, obj: Message, api: ApiContext) -> None:
        if obj.spec.ephemeral_containers:  # only pods/ephemeralcontainers adds them, to a pod that exists
            raise errors.invalid("Pod", obj.metadata.name or obj.metadata.generate_name, [errors.FieldViolation(
                field="spec.ephemeralContainers", description="Forbidden: cannot be set on create")])
        enabled = api.admission.enabled
        if enabled("LimitRanger"):
            await limitranger.admit_pod(obj, api)
        if enabled("DefaultTolerationSeconds"):
            admission.add_default_tolerations(obj, api.admission)
        if enabled("ServiceAccount"):
            await saadmission.admit_pod(obj, api)
        if enabled("Priority"):
            priority.admit_pod(obj, api)

    def plan_deletion(self, obj: Message, marked: bool, grace: int | None) -> DeletionPlan:
        pod_grace = deletion_grace(obj, grace)
        if pod_grace > 0 or obj.metadata.finalizers:
            return mark(obj, marked, pod_grace)
        return DeletionPlan(remove_now=True)

    def deletion_finished(self, obj: Message) -> bool:
        return not obj.metadata.finalizers and obj.metadata.deletion_grace_period_seconds <= 0

    def rpc_methods(self, api: ApiContext, guard: Guarded) -> dict[str, grpc.RpcMethodHandler]:
        proxy = api.agents

        async def bind(r):
            return await pods.bind(api, r)

        async def evict(r):
            return await eviction.evict(api, r)

        async def logs(r, _context):
            check_pod_log_options(r)
            async for chunk in proxy.logs(r):
                yield chunk

        async def get_ephemeral(r):
            return await ephemeral.get(api, r)

        async def update_ephemeral(r):
            return await ephemeral.update(api, r)

        async def get_resize(r):
            return await resize.get(api, r)

        async def update_resize(r):
            return await resize.update(api, r)

        return {
            "Bind": grpc.unary_unary_rpc_method_handler(
                guard.unary(bind, _action("Bind", _binding_target)), parser(pod_pb2.Binding),
                pod_pb2.Pod.SerializeToString),
            "Evict": grpc.unary_unary_rpc_method_handler(
                guard.unary(evict, _action("Evict", _binding_target)), parser(policy_pb2.Eviction),
                policy_pb2.Eviction.SerializeToString),
            "Logs": grpc.unary_stream_rpc_method_handler(
                guard.streaming(logs, _action("Logs")), parser(node_agent_pb2.LogsRequest),
                node_agent_pb2.LogChunk.SerializeToString),
            "Exec": grpc.unary_unary_rpc_method_handler(
                guard.unary(proxy.exec, _action("Exec")), parser(node_agent_pb2.ExecRequest),
                node_agent_pb2.ExecResponse.SerializeToString),
            "ExecStream": grpc.stream_stream_rpc_method_handler(
                guard.exec_stream(proxy.exec_stream, _action("ExecStream")), parser(node_agent_pb2.ExecInput),
                node_agent_pb2.ExecOutput.SerializeToString),
            "Attach": grpc.stream_stream_rpc_method_handler(
                guard.exec_stream(proxy.attach, _action("Attach")), parser(node_agent_pb2.ExecInput),
                node_agent_pb2.ExecOutput.SerializeToString),
            "PortForward": grpc.stream_stream_rpc_method_handler(
                guard.exec_stream(proxy.port_forward, _action("PortForward"), "PortForwardInput"),
                parser(node_agent_pb2.PortForwardInput), node_agent_pb2.PortForwardOutput.SerializeToString),
            "GetEphemeralContainers": grpc.unary_unary_rpc_method_handler(
                guard.unary(get_ephemeral, _action("GetEphemeralContainers")), parser(requests_pb2.GetRequest),
                pod_pb2.Pod.SerializeToString),
            "UpdateEphemeralContainers": grpc.unary_unary_rpc_method_handler(
                guard.unary(update_ephemeral, _action("UpdateEphemeralContainers", object_target, True)),
                parser(services_pb2.PodRequest), pod_pb2.Pod.SerializeToString),
            "GetResize": grpc.unary_unary_rpc_method_handler(
                guard.unary(get_resize, _action("GetResize")), parser(requests_pb2.GetRequest),
                pod_pb2.Pod.SerializeToString),
            "UpdateResize": grpc.unary_unary_rpc_method_handler(
                guard.unary(update_resize, _action("UpdateResize", object_target, True)),
                parser(services_pb2.PodRequest), pod_pb2.Pod.SerializeToString),
        }


strategy = PodStrategy(default=defaults.default_pod, validate=pod.validate_pod,
                       validate_update=pod.validate_pod_update)
