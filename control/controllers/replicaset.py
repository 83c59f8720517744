"""The ReplicaSet controller: keeps spec.replicas pods matching the selector running.

reconcile(key) claims pods (adopting matching orphans, releasing owned pods
that stopped matching), creates or deletes pods to close the gap in slow-start
batches, and writes status. Expectations keep a stale pod cache from causing a
second round of creations or deletions before the first is observed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client import controllerref
from control.client.batch import slow_start_batch
from control.client.controller import Controller, ControllerContext, option
from control.client.controllerref import controller_ref, new_controller_ref, resolve_controller_ref
from control.client.events import NORMAL, WARNING
from control.client.expectations import Expectations
from control.client.informer import key_of
from control.client.kinds import KINDS
from control.client.podutil import is_pod_active, is_pod_available, is_pod_ready
from control.client.selectors import from_label_selector
from control.client.wellknown import (
    CONDITION_TRUE,
    POD_PENDING,
    POD_READY,
    POD_RUNNING,
    POD_UNKNOWN,
    REPLICA_FAILURE,
    get_condition,
    is_being_deleted,
)
from skiff.v1 import apps_pb2, meta_pb2, pod_pb2

log = logging.getLogger(__name__)

BURST_REPLICAS = 500  # Kubernetes' limit of creations/deletions per sync
_POD = KINDS["Pod"]
_PHASE_RANK = {POD_PENDING: 0, POD_UNKNOWN: 1, POD_RUNNING: 2}


class ManageError(Exception):
    """Creating or deleting pods failed; becomes the ReplicaFailure condition."""

    def __init__(self, reason: str, cause: BaseException) -> None:
        self.reason = reason
        self.cause = cause
        self.message = cause.details() if isinstance(cause, grpc.aio.AioRpcError) else str(cause)
        super().__init__(f"{reason}: {self.message}")


@dataclass(frozen=True)
class ReplicaSetOptions:
    concurrent_replicaset_syncs: int = option(5, "ReplicaSets synced at once")


class ReplicaSetController(Controller):
    name = "replicaset"
    Options = ReplicaSetOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_replicaset_syncs)
        self.replicasets = ctx.informers.get("ReplicaSet")
        self.pods = ctx.informers.get("Pod")
        self.expectations = Expectations()
        self.replicasets.add_handler(**self.enqueue_handlers())
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self._enqueue_matching = self.enqueue_selecting(self.replicasets)  # orphans: who may adopt

    # --- event handlers: only enqueue keys; pods also count towards expectations --------

    def _owner_key(self, pod: Message) -> str | None:
        rs = resolve_controller_ref(pod, "ReplicaSet", self.replicasets.store)
        return key_of(rs) if rs is not None else None

    def _pod_added(self, pod: Message) -> None:
        if is_being_deleted(pod):
            self._pod_deleted(pod)
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif controller_ref(pod) is None:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: Message, new: Message) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if is_being_deleted(new) and not is_being_deleted(old):
            self._pod_deleted(new)  # a graceful delete counts as observed at once
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref is not None and (new_ref is None or old_ref.uid != new_ref.uid):
            key = self._owner_key(old)
            if key is not None:
                self.queue.add(key)
        key = self._owner_key(new)
        if key is not None:
            self.queue.add(key)
            rs = self.replicasets.store.get(key)
            became_ready = is_pod_ready(new) and not is_pod_ready(old)
            if rs is not None and rs.spec.min_ready_seconds > 0 and became_ready:
                self.queue.add_after(key, rs.spec.min_ready_seconds + 0.1)  # when it becomes available
        elif new_ref is None and (old.metadata.labels != new.metadata.labels or old_ref is not None):
            self._enqueue_matching(new)

    def _pod_deleted(self, pod: Message) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod.metadata.uid)
            self.queue.add(key)

    # --- reconcile ----------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        rs = self.replicasets.store.get(key)
        if rs is None:
            self.expectations.forget(key)
            return
        needs_sync = self.expectations.satisfied(key)
        pods = await self._claim_pods(rs)
        active = [p for p in pods if is_pod_active(p)]
        manage_error: ManageError | None = None
        if needs_sync and not is_being_deleted(rs):
            try:
                await self._manage_replicas(key, rs, active)
            except ManageError as e:  # still write status, then retry with back-off
                manage_error = e
        await self._update_status(rs, pods, manage_error)
        if manage_error is not None:
            raise manage_error.cause
        replicas = rs.spec.replicas if rs.spec.HasField("replicas") else 1
        if rs.spec.min_ready_seconds > 0 and _available(active, rs) < min(replicas, len(active)):
            self.queue.add_after(key, rs.spec.min_ready_seconds)

    async def _claim_pods(self, rs: Message) -> list[Message]:
        """The pods this ReplicaSet controls after adopting orphans and releasing strays."""
        candidates = self.pods.store.by_index("namespace", rs.metadata.namespace)
        return await controllerref.claim(self.client, rs, from_label_selector(rs.spec.selector), candidates)

    async def _manage_replicas(self, key: str, rs: Message, active: list[Message]) -> None:
        replicas = rs.spec.replicas if rs.spec.HasField("replicas") else 1
        diff = len(active) - replicas
        if diff < 0:
            await self._create_pods(key, rs, min(-diff, BURST_REPLICAS))
        elif diff > 0:
            await self._delete_pods(key, rs, pods_to_delete(active, min(diff, BURST_REPLICAS)))

    async def _create_pods(self, key: str, rs: Message, count: int) -> None:
        self.expectations.expect_creations(key, count)

        async def create_one() -> None:
            try:
                pod = await self.client.create(pod_from_template(rs))
            except grpc.aio.AioRpcError as e:
                self.expectations.creation_observed(key)  # no watch event will come for it
                self.recorder.event(rs, WARNING, "FailedCreate", f"Error creating: {e.details()}")
                raise
            self.recorder.event(rs, NORMAL, "SuccessfulCreate", f"Created pod: {pod.metadata.name}")

        errors: list[BaseException] = []
        created = await slow_start_batch(count, create_one, errors=errors)
        for _ in range(count - created[0] - created[1]):
            self.expectations.creation_observed(key)  # skipped after a failed batch
        if errors:
            raise ManageError("FailedCreate", errors[0])

    async def _delete_pods(self, key: str, rs: Message, victims: list[Message]) -> None:
        self.expectations.expect_deletions(key, [p.metadata.uid for p in victims])

        async def delete_one(pod: Message) -> None:
            try:
                await self.client.delete(_POD, pod.metadata.name, pod.metadata.namespace,
                                         uid=pod.metadata.uid)
            except grpc.aio.AioRpcError as e:
                self.expectations.deletion_observed(key, pod.metadata.uid)
                if e.code() == grpc.StatusCode.NOT_FOUND:
                    return
                self.recorder.event(rs, WARNING, "FailedDelete", f"Error deleting: {e.details()}")
                raise
            self.recorder.event(rs, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}")

        results = await asyncio.gather(*(delete_one(p) for p in victims), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise ManageError("FailedDelete", errors[0])

    async def _update_status(self, rs: Message, pods: list[Message], error: ManageError | None) -> None:
        status = calculate_status(rs, [p for p in pods if is_pod_active(p)], error)
        if status != rs.status:
            await self.write_status(rs, status)


# --- pure helpers -----------------------------------------------------------

def pod_from_template(rs: Message) -> pod_pb2.Pod:
    template = rs.spec.template
    meta = meta_pb2.ObjectMeta(generate_name=f"{rs.metadata.name}-", namespace=rs.metadata.namespace,
                               labels=dict(template.metadata.labels),
                               annotations=dict(template.metadata.annotations),
                               finalizers=list(template.metadata.finalizers))
    meta.owner_references.append(new_controller_ref(rs))
    pod = _POD.new(metadata=meta)
    pod.spec.CopyFrom(template.spec)
    return pod


def pods_to_delete(pods: list[Message], count: int) -> list[Message]:
    """Kubernetes' preference: unscheduled < pending < not ready < doubled up < ready
    for less time < more restarts < newer; the first `count` go."""
    per_node = Counter(p.spec.node_name for p in pods if p.spec.node_name)
    return sorted(pods, key=lambda p: _deletion_rank(p, per_node))[:count]


def _deletion_rank(pod: Message, per_node: Counter) -> tuple:
    ready = is_pod_ready(pod)
    cond = get_condition(pod.status, POD_READY)
    ready_since = cond.last_transition_time.ToNanoseconds() if ready and cond is not None else 0
    restarts = sum(c.restart_count for c in pod.status.container_statuses)
    created = pod.metadata.creation_timestamp.ToNanoseconds() if pod.metadata.HasField(
        "creation_timestamp") else 0
    return (bool(pod.spec.node_name), _PHASE_RANK.get(pod.status.phase, 0), ready,
            -per_node.get(pod.spec.node_name, 0), -ready_since, -restarts, -created)


def _available(active: list[Message], rs: Message) -> int:
    return sum(is_pod_available(p, rs.spec.min_ready_seconds) for p in active)


def calculate_status(rs: Message, active: list[Message],
                     error: ManageError | None) -> apps_pb2.ReplicaSetStatus:
    template_labels = rs.spec.template.metadata.labels
    status = apps_pb2.ReplicaSetStatus(
        replicas=len(active),
        fully_labeled_replicas=sum(all(p.metadata.labels.get(k) == v for k, v in template_labels.items())
                                   for p in active),
        ready_replicas=sum(is_pod_ready(p) for p in active),
        available_replicas=_available(active, rs),
        observed_generation=rs.metadata.generation)
    failure = get_condition(rs.status, REPLICA_FAILURE)
    if error is not None:
        cond = status.conditions.add(type=REPLICA_FAILURE, status=CONDITION_TRUE, reason=error.reason,
                                     message=error.message)
        if failure is not None and failure.status == CONDITION_TRUE:
            cond.last_transition_time.CopyFrom(failure.last_transition_time)
        else:
            cond.last_transition_time.GetCurrentTime()
    return status
