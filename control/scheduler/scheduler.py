"""The scheduler: informers feed the cache and the queue; one loop places pods, bindings run async.

The scheduling cycle (filter, score, assume) never awaits, so it always sees
one consistent cache; the binding cycle (Bind RPC, event) runs as a task so
the next pod is scheduled while earlier bindings are still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time

import grpc

from control.client.client import Client
from control.client.events import NORMAL, WARNING, EventRecorder
from control.client.informer import Informer, strip_managed_fields
from control.client.volumeutil import claims_of
from control.client.wellknown import (
    CONDITION_DISRUPTION_TARGET,
    CONDITION_FALSE,
    CONDITION_TRUE,
    NODE_READY,
    POD_SCHEDULED,
    get_condition,
    is_terminal,
    set_condition,
)
from control.scheduler import metrics, preemption
from control.scheduler.algorithm import Algorithm, FitError, NoNodesAvailableError
from control.scheduler.cache import Cache
from control.scheduler.filters import default_filters
from control.scheduler.framework import Profile
from control.scheduler.podinfo import PodInfo
from control.scheduler.queue import QueueClosed, QueuedPod, SchedulingQueue
from control.scheduler.scores import default_scores
from control.scheduler.spreadselector import StoreWorkloads
from control.scheduler.volumebinding import VolumeBinding
from control.scheduler.volumerestrictions import VolumeRestrictions
from skiff.v1 import core_pb2, pod_pb2

log = logging.getLogger(__name__)

DEFAULT_SCHEDULER_NAME = "default-scheduler"
BIND_TIMEOUT = 600.0  # kube-scheduler's VolumeBinding bindTimeoutSeconds
# Bind errors meaning the pod changed under us (bound elsewhere, deleted): the informer has the truth.
_STALE_CODES = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED, grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.ALREADY_EXISTS}


def _informer(client: Client, kind: str) -> Informer:
    # As kube-scheduler: cached objects without managedFields, which scheduling never reads.
    return Informer(client, kind, transform=strip_managed_fields)


def pod_key(pod: pod_pb2.Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


class Scheduler:
    def __init__(self, client: Client, scheduler_name: str = DEFAULT_SCHEDULER_NAME,
                 percentage_of_nodes_to_score: int = 0, parallel_binds: int = 64,
                 queue: SchedulingQueue | None = None, bind_timeout: float = BIND_TIMEOUT) -> None:
        self.client = client
        self.scheduler_name = scheduler_name
        self.cache = Cache()
        self.queue = queue or SchedulingQueue()
        metrics.track_queue(self.queue)
        self.claims = _informer(client, "PersistentVolumeClaim")
        self.volumes = _informer(client, "PersistentVolume")
        self.classes = _informer(client, "StorageClass")
        self.volume_binding = VolumeBinding(self.claims.store, self.volumes.store, self.classes.store)
        self.bind_timeout = bind_timeout
        self.volumes_changed = asyncio.Event()
        storage_filters = [VolumeRestrictions(self.claims.store).plugin(), self.volume_binding.plugin()]
        self.profile = Profile(scheduler_name, default_filters() + storage_filters, default_scores())
        self.algorithm = Algorithm(self.cache, self.profile, percentage_of_nodes_to_score)
        self.recorder = EventRecorder(client, scheduler_name)
        self.parallel_binds = parallel_binds
        self.pods = _informer(client, "Pod")
        self.nodes = _informer(client, "Node")
        self.namespaces = _informer(client, "Namespace")
        self.budgets = _informer(client, "PodDisruptionBudget")  # read by preemption
        # Read by PodTopologySpread's default constraints (the pods a Service or controller selects).
        self.services = _informer(client, "Service")
        self.workload_controllers = {kind: _informer(client, kind) for kind in ("ReplicaSet", "StatefulSet")}
        self.cache.snapshot.workloads = StoreWorkloads(
            self.services.store, {kind: i.store for kind, i in self.workload_controllers.items()})
        self._tasks: set[asyncio.Task] = set()
        self._bind_slots: asyncio.Semaphore | None = None
        self.scheduled = 0
        self.pods.add_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)
        self.nodes.add_handler(self._on_node_add, self._on_node_update, self._on_node_delete)
        self.namespaces.add_handler(self.cache.set_namespace, self._on_namespace_update,
                                    lambda ns: self.cache.remove_namespace(ns.metadata.name))
        for informer in (self.claims, self.volumes, self.classes):
            informer.add_handler(self._on_storage_change, lambda _old, new: self._on_storage_change(new),
                                 self._on_storage_change)

    @property
    def informers(self) -> tuple[Informer, ...]:
        return (self.namespaces, self.nodes, self.classes, self.volumes, self.claims, self.services,
                *self.workload_controllers.values(), self.pods, self.budgets)

    # Informer handlers: keep the cache and the queue current.

    def responsible_for(self, pod: pod_pb2.Pod) -> bool:
        return (pod.spec.scheduler_name or DEFAULT_SCHEDULER_NAME) == self.scheduler_name

    def _wants_scheduling(self, pod: pod_pb2.Pod) -> bool:
        return (not pod.spec.node_name and self.responsible_for(pod) and not is_terminal(pod)
                and not pod.metadata.HasField("deletion_timestamp"))

    def _on_pod_add(self, pod: pod_pb2.Pod) -> None:
        if pod.spec.node_name:
            self._add_assigned(pod)
        elif self._wants_scheduling(pod):
            self.queue.add(PodInfo(pod))

    def _add_assigned(self, pod: pod_pb2.Pod) -> None:
        self.queue.delete(pod_key(pod))
        if is_terminal(pod):
            return
        self.cache.add_pod(pod)
        # A pod landing somewhere may satisfy a waiting pod's required affinity.
        self.queue.move_all_to_active_or_backoff(lambda q: bool(q.info.required_affinity))

    def _on_pod_update(self, old: pod_pb2.Pod, new: pod_pb2.Pod) -> None:
        key = pod_key(new)
        if new.spec.node_name:
            if is_terminal(new):
                self.queue.delete(key)
                if self.cache.pod_node(key) is not None:
                    self.cache.remove_pod(key)  # a finished pod frees its node's resources
                    self.queue.move_all_to_active_or_backoff()
                return
            self._add_assigned(new)
            return
        if not self._wants_scheduling(new):
            self.queue.delete(key)
        elif old.spec != new.spec or old.metadata.labels != new.metadata.labels:
            self.queue.add(PodInfo(new))  # our own status updates don't count as a change

    def _on_pod_delete(self, pod: pod_pb2.Pod) -> None:
        key = pod_key(pod)
        self.queue.delete(key)
        if self.cache.pod_node(key) is not None:
            self.cache.remove_pod(key)
            self.queue.move_all_to_active_or_backoff()

    def _on_namespace_update(self, old: core_pb2.Namespace, new: core_pb2.Namespace) -> None:
        self.cache.set_namespace(new)
        if old.metadata.labels != new.metadata.labels:  # namespaceSelectors may match now
            self.queue.move_all_to_active_or_backoff(lambda q: bool(q.info.required_affinity))

    def _on_node_add(self, node: core_pb2.Node) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff()

    def _on_node_update(self, old: core_pb2.Node, new: core_pb2.Node) -> None:
        self.cache.update_node(new)
        if scheduling_properties_changed(old, new):
            self.queue.move_all_to_active_or_backoff()

    def _on_node_delete(self, node: core_pb2.Node) -> None:
        self.cache.remove_node(node.metadata.name)

    def _on_storage_change(self, _obj) -> None:
        """A claim, volume or class changed: pods waiting on volumes may fit, or be bound, now."""
        self.volumes_changed.set()
        self.queue.move_all_to_active_or_backoff(lambda q: bool(claims_of(q.info.pod)))

    # The loop.

    async def run(self) -> None:
        """Runs informers and the scheduling loop until cancelled."""
        informers = [asyncio.create_task(i.run()) for i in self.informers]
        try:
            await self.wait_synced()
            await self.schedule_forever()
        finally:
            for task in informers:
                task.cancel()
            await asyncio.gather(*informers, return_exceptions=True)

    async def wait_synced(self) -> None:
        for informer in self.informers:
            await informer.wait_synced()

    async def schedule_forever(self) -> None:
        self._bind_slots = asyncio.Semaphore(self.parallel_binds)
        self._spawn(self._expire_assumed_pods())
        try:
            while True:
                try:
                    queued = await self.queue.pop()
                except QueueClosed:
                    return
                self.schedule_one(queued)
                await asyncio.sleep(0)  # let informer events and bindings run
        finally:
            await self._cancel_tasks()

    async def _expire_assumed_pods(self, period: float = 1.0) -> None:
        while True:
            await asyncio.sleep(period)
            for key in self.cache.cleanup_expired():
                log.warning("assumed pod %s expired: its binding was never observed", key)

    def schedule_one(self, queued: QueuedPod) -> None:
        current = self.pods.store.get(queued.key)
        if current is None or not self._wants_scheduling(current) or current.metadata.uid != queued.info.uid:
            self.queue.delete(queued.key)
            return
        if self.cache.is_assumed(queued.key):
            return  # its binding is in flight; the informer will settle it
        info, started = queued.info, time.monotonic()
        try:
            result = self.algorithm.schedule(info)
        except FitError as e:
            metrics.attempt(metrics.UNSCHEDULABLE_RESULT, self.scheduler_name, started)
            self._preempt_for(info, current, e)
            self._unschedulable(queued, current, str(e), e.plugins)
            return
        except NoNodesAvailableError as e:
            # kube-scheduler counts "no nodes available" as unschedulable, not as its own error.
            metrics.attempt(metrics.UNSCHEDULABLE_RESULT, self.scheduler_name, started)
            self._failed(queued, current, "SchedulerError", str(e))
            return
        self.cache.assume_pod(info, result.node_name)
        self._spawn(self._bind(queued, current, result.node_name, started))

    async def _bind(self, queued: QueuedPod, pod: pod_pb2.Pod, node_name: str, started: float | None = None) -> None:
        key, meta = queued.key, pod.metadata
        started = time.monotonic() if started is None else started
        async with self._bind_slots:
            try:
                await self._bind_volumes(queued.info, node_name)
                await self.client.bind(meta.namespace, meta.name, node_name, uid=meta.uid)
            except grpc.aio.AioRpcError as e:
                metrics.attempt(metrics.ERROR, self.scheduler_name, started)
                self.cache.forget_pod(key)
                if e.code() in _STALE_CODES:
                    log.info("binding %s to %s: %s (%s); retrying later", key, node_name, e.code().name,
                             e.details())
                    self.queue.add_backoff(queued)
                    return
                self._failed(queued, pod, "SchedulerError", f"Binding rejected: {e.details()}")
                return
            except TimeoutError:
                metrics.attempt(metrics.ERROR, self.scheduler_name, started)
                self.cache.forget_pod(key)
                self._failed(queued, pod, "SchedulerError", "binding volumes: context deadline exceeded")
                return
        metrics.attempt(metrics.SCHEDULED, self.scheduler_name, started)
        self.cache.finish_binding(key)
        self.queue.done(key)
        self.scheduled += 1
        self.recorder.event(pod, NORMAL, "Scheduled", f"Successfully assigned {key} to {node_name}")

    async def _bind_volumes(self, info: PodInfo, node_name: str) -> None:
        """VolumeBinding's PreBind: writes the claims' bindings for the node, then waits until every
        claim of the pod is bound (by the persistent-volume binder, after its provisioner)."""
        node = self.cache.snapshot.nodes.get(node_name)
        if node is None or not claims_of(info.pod):
            return
        for obj in self.volume_binding.bindings(info, node):
            await self.client.update(obj)
        async with asyncio.timeout(self.bind_timeout):
            while not self.volume_binding.all_bound(info):
                self.volumes_changed.clear()
                await self.volumes_changed.wait()

    def _preempt_for(self, info: PodInfo, pod: pod_pb2.Pod, error: FitError) -> None:
        if not preemption.eligible(info, self.cache.snapshot):
            return
        candidate = preemption.select_candidate(info, self.cache.snapshot, error.statuses,
                                                self.algorithm.fitter(info), self.budgets.store.list())
        if candidate is not None:
            self._spawn(self._preempt(pod, candidate))

    async def _preempt(self, pod: pod_pb2.Pod, candidate: preemption.Candidate) -> None:
        """Nominates the node for the pod, then evicts the victims (DisruptionTarget, then delete)."""
        node = candidate.node_name
        log.info("preempting %d pod(s) on %s for %s", len(candidate.victims), node, pod_key(pod))
        await self._update_pod_status(pod, lambda st: setattr(st, "nominated_node_name", node))
        for victim in candidate.victims:
            message = f"{self.scheduler_name}: preempting to accommodate a higher priority pod"
            await self._update_pod_status(victim.pod, lambda st, m=message: set_condition(
                st, CONDITION_DISRUPTION_TARGET, CONDITION_TRUE, "PreemptionByScheduler", m))
            try:
                await self.client.delete("Pod", victim.name, victim.namespace)
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    log.warning("preempting %s: %s", victim.key, e.details())
                continue
            self.recorder.event(victim.pod, NORMAL, "Preempted",
                                f"Preempted by pod {pod.metadata.uid} on node {node}")

    async def _update_pod_status(self, pod: pod_pb2.Pod, change, unless_bound: bool = False) -> None:
        """UpdateStatus with `change` applied, re-reading the pod on a conflict; gone pods are skipped,
        and with `unless_bound` pods bound meanwhile."""
        for _ in range(3):
            updated = pod_pb2.Pod()
            updated.CopyFrom(pod)
            change(updated.status)
            try:
                await self.client.update_status(updated)
                return
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.ABORTED:
                    return
            try:
                pod = await self.client.get("Pod", pod.metadata.name, pod.metadata.namespace)
            except grpc.aio.AioRpcError:
                return
            if unless_bound and pod.spec.node_name:
                return

    def _unschedulable(self, queued: QueuedPod, pod: pod_pb2.Pod, message: str, plugins: set[str]) -> None:
        log.info("unable to schedule pod %s: %s", queued.key, message)
        self.queue.add_unschedulable(queued, plugins)
        self._report_failure(pod, "Unschedulable", message)

    def _failed(self, queued: QueuedPod, pod: pod_pb2.Pod, reason: str, message: str) -> None:
        log.warning("error scheduling pod %s: %s", queued.key, message)
        self.queue.add_backoff(queued)
        self._report_failure(pod, reason, message)

    def _report_failure(self, pod: pod_pb2.Pod, reason: str, message: str) -> None:
        self.recorder.event(pod, WARNING, "FailedScheduling", message)
        if not _has_condition(pod, CONDITION_FALSE, reason, message):
            self._spawn(self._set_pod_scheduled_false(pod, reason, message))

    async def _set_pod_scheduled_false(self, pod: pod_pb2.Pod, reason: str, message: str) -> None:
        await self._update_pod_status(
            pod, lambda st: set_condition(st, POD_SCHEDULED, CONDITION_FALSE, reason, message), unless_bound=True)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("scheduler task failed", exc_info=task.exception())

    async def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.recorder.close()


def _has_condition(pod: pod_pb2.Pod, status: str, reason: str, message: str) -> bool:
    c = get_condition(pod.status, POD_SCHEDULED)
    return c is not None and (c.status, c.reason, c.message) == (status, reason, message)


def scheduling_properties_changed(old: core_pb2.Node, new: core_pb2.Node) -> bool:
    """Node changes that may let a waiting pod fit (heartbeats alone don't)."""
    def ready(n: core_pb2.Node) -> str:
        c = get_condition(n.status, NODE_READY)
        return c.status if c is not None else ""

    return (old.spec.unschedulable != new.spec.unschedulable
            or dict(old.status.allocatable) != dict(new.status.allocatable)
            or dict(old.metadata.labels) != dict(new.metadata.labels)
            or list(old.spec.taints) != list(new.spec.taints)
            or ready(old) != ready(new))
