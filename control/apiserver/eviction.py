"""The Eviction subresource of pods (pods/eviction): a deletion that honours PodDisruptionBudgets.

As kube-apiserver's eviction REST: a pod that is terminal, pending or already terminating is deleted
at once; otherwise the one budget selecting it must allow a disruption, which is charged in the
budget's status (disruptionsAllowed - 1, the pod in disruptedPods) in a compare-and-swap before the
pod gets the DisruptionTarget condition and is deleted. An unhealthy pod may go without a charge
when the budget is met (IfHealthyBudget) or always (AlwaysAllow). A budget that cannot allow it
answers 429 (RESOURCE_EXHAUSTED) with Kubernetes' message.
"""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.context import ApiContext
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.storage import ConflictError, NotFoundError
from control.apiserver.strategy import now
from control.client.kinds import KINDS
from control.client.selectors import from_label_selector
from control.client.wellknown import (
    ALWAYS_ALLOW,
    CONDITION_DISRUPTION_TARGET,
    CONDITION_TRUE,
    POD_FAILED,
    POD_PENDING,
    POD_READY,
    POD_SUCCEEDED,
    condition_is_true,
    set_condition,
)
from skiff.v1 import policy_pb2, requests_pb2

POD, PDB = KINDS["Pod"], KINDS["PodDisruptionBudget"]
VIOLATES = "Cannot evict pod as it would violate the pod's disruption budget."
MAX_DISRUPTED_PODS = 2000
ATTEMPTS = 10


def _too_many_requests(cause: str) -> errors.ApiError:
    return errors.ApiError(grpc.StatusCode.RESOURCE_EXHAUSTED, VIOLATES,
                           [errors.FieldViolation(field="DisruptionBudget", description=cause)])


def budgets_for(api: ApiContext, pod: Message) -> list[Message]:
    budgets = [b for b in api.cache[PDB].snapshot()[0] if b.metadata.namespace == pod.metadata.namespace]
    return [b for b in budgets if from_label_selector(b.spec.selector).matches(pod.metadata.labels)]


def _ignores_budgets(pod: Message) -> bool:
    return (pod.status.phase in (POD_SUCCEEDED, POD_FAILED, POD_PENDING)
            or pod.metadata.HasField("deletion_timestamp"))


def _may_go_uncharged(pod: Message, pdb: Message) -> bool:
    if condition_is_true(pod.status, POD_READY):
        return False
    if pdb.spec.unhealthy_pod_eviction_policy == ALWAYS_ALLOW:
        return True
    return pdb.status.current_healthy >= pdb.status.desired_healthy > 0


def _check_budget(pdb: Message) -> None:
    name = pdb.metadata.name
    if pdb.status.observed_generation < pdb.metadata.generation:
        raise _too_many_requests(f"The disruption budget {name} is still being processed by the server.")
    if pdb.status.disruptions_allowed < 0:
        raise errors.forbidden("pdb disruptions allowed is negative")
    if len(pdb.status.disrupted_pods) > MAX_DISRUPTED_PODS:
        raise errors.forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller")
    if pdb.status.disruptions_allowed == 0:
        raise _too_many_requests(f"The disruption budget {name} needs {pdb.status.desired_healthy} healthy pods "
                                 f"and has {pdb.status.current_healthy} currently")


async def _charge(api: ApiContext, pdb: Message, pod_name: str) -> None:
    revision = int(pdb.metadata.resource_version)
    pdb.status.disruptions_allowed -= 1
    pdb.status.disrupted_pods[pod_name].CopyFrom(now())
    written = await api.storage.update(PDB, pdb, revision)
    api.cache[PDB].note_write(int(written.metadata.resource_version))


async def _mark_disruption_target(api: ApiContext, pod: Message) -> None:
    revision = int(pod.metadata.resource_version)
    set_condition(pod.status, CONDITION_DISRUPTION_TARGET, CONDITION_TRUE, "EvictionByEvictionAPI",
                  "Eviction API: evicting")
    written = await api.storage.update(POD, pod, revision)
    api.cache[POD].note_write(int(written.metadata.resource_version))


async def _delete(api: ApiContext, pod: Message, eviction: policy_pb2.Eviction) -> None:
    request = requests_pb2.DeleteRequest(namespace=pod.metadata.namespace, name=pod.metadata.name)
    options = eviction.delete_options
    if options.HasField("grace_period_seconds"):
        request.grace_period_seconds = options.grace_period_seconds
    if options.HasField("preconditions"):
        request.preconditions.CopyFrom(options.preconditions)
    if options.dry_run:
        request.dry_run = True
    await ResourceHandlers(POD, api).delete(request)


async def evict(api: ApiContext, eviction: policy_pb2.Eviction) -> policy_pb2.Eviction:
    namespace, name = eviction.metadata.namespace or "default", eviction.metadata.name
    if not name:
        raise errors.bad_request("metadata.name: Required value", "metadata.name")
    for _ in range(ATTEMPTS):
        try:
            pod = await api.storage.get(POD, namespace, name)
        except NotFoundError:
            raise errors.not_found("pods", name) from None
        try:
            await _evict_once(api, pod, eviction)
        except ConflictError:
            continue
        return eviction
    raise errors.conflict("pods/eviction", name)


async def _evict_once(api: ApiContext, pod: Message, eviction: policy_pb2.Eviction) -> None:
    if _ignores_budgets(pod):
        await _delete(api, pod, eviction)
        return
    budgets = budgets_for(api, pod)
    if len(budgets) > 1:
        raise errors.ApiError(grpc.StatusCode.INTERNAL, "This pod has more than one PodDisruptionBudget, which the "
                                                        "eviction subresource does not support.")
    if budgets and not _may_go_uncharged(pod, budgets[0]):
        pdb = await api.storage.get(PDB, pod.metadata.namespace, budgets[0].metadata.name)
        _check_budget(pdb)
        if not eviction.delete_options.dry_run:
            await _charge(api, pdb, pod.metadata.name)
    if not eviction.delete_options.dry_run:
        await _mark_disruption_target(api, pod)
    await _delete(api, pod, eviction)
