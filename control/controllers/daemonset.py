"""The DaemonSet controller: one daemon pod on every node that should run it.

reconcile(key) records the template as a ControllerRevision (its hash labels the pods), claims
the pods its selector matches and groups them by node, creates a pod (pinned by node affinity on
`metadata.name`, bound by the default scheduler) on each eligible node without one, deletes pods
where the node no longer fits (labels, affinity, taints), failed pods and extras, then rolls the
template out (RollingUpdate within maxUnavailable / maxSurge; OnDelete waits for deletions),
trims the revision history and writes status. The decisions are in daemonset_util.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client import controllerref
from control.client.batch import slow_start_batch
from control.client.controller import Controller, ControllerContext, option
from control.client.controllerref import controller_ref, resolve_controller_ref
from control.client.events import NORMAL, WARNING
from control.client.expectations import Expectations
from control.client.informer import copy_of, key_of
from control.client.kinds import KINDS
from control.client.selectors import from_label_selector
from control.client.wellknown import LABEL_CONTROLLER_REVISION_HASH, POD_FAILED, is_being_deleted
from control.controllers import daemonset_util as u
from control.controllers import history

log = logging.getLogger(__name__)

_POD = KINDS["Pod"]


@dataclass(frozen=True)
class DaemonSetOptions:
    concurrent_daemonset_syncs: int = option(2, "DaemonSets synced at once")


class DaemonSetController(Controller):
    name = "daemonset"
    Options = DaemonSetOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_daemonset_syncs)
        self.daemonsets = ctx.informers.get("DaemonSet")
        self.pods = ctx.informers.get("Pod")
        self.nodes = ctx.informers.get("Node")
        self.revisions = ctx.informers.get("ControllerRevision")
        self.expectations = Expectations()
        self.failed_backoff = u.FailedPodBackoff()
        self.daemonsets.add_handler(**self.enqueue_handlers())
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.nodes.add_handler(self._enqueue_all, self._node_updated, self._enqueue_all)
        self.revisions.add_handler(**self.enqueue_owner("DaemonSet"))
        self._enqueue_matching = self.enqueue_selecting(self.daemonsets)

    # --- event handlers ----------------------------------------------------------------------

    def _owner_key(self, pod: Message) -> str | None:
        ds = resolve_controller_ref(pod, "DaemonSet", self.daemonsets.store)
        return key_of(ds) if ds is not None else None

    def _pod_added(self, pod: Message) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif controller_ref(pod) is None:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: Message, new: Message) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        for pod in (old, new):
            key = self._owner_key(pod)
            if key is not None:
                self.queue.add(key)
        ds = resolve_controller_ref(new, "DaemonSet", self.daemonsets.store)
        if ds is not None and ds.spec.min_ready_seconds > 0:
            self.queue.add_after(key_of(ds), ds.spec.min_ready_seconds + 0.1)
        if controller_ref(new) is None and old.metadata.labels != new.metadata.labels:
            self._enqueue_matching(new)

    def _pod_deleted(self, pod: Message) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod.metadata.uid)
            self.queue.add(key)

    def _enqueue_all(self, _node: Message) -> None:
        for ds in self.daemonsets.store.list():
            self.enqueue(ds)

    def _node_updated(self, old: Message, new: Message) -> None:
        if (old.metadata.labels != new.metadata.labels or old.spec.taints != new.spec.taints
                or old.spec.unschedulable != new.spec.unschedulable):
            self._enqueue_all(new)

    # --- reconcile ---------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        cached = self.daemonsets.store.get(key)
        if cached is None:
            self.expectations.forget(key)
            return
        ds = copy_of(cached)
        if not ds.spec.selector.match_labels and not ds.spec.selector.match_expressions:
            self.recorder.event(ds, WARNING, "SelectingAll",
                                "This daemon set is selecting all pods. A non-empty selector is required.")
            return
        nodes = self.nodes.store.list()
        revisions = await self._claim(ds, self.revisions)
        current = await self._current_revision(ds, revisions)
        hash_ = current.metadata.labels.get(LABEL_CONTROLLER_REVISION_HASH, "")
        pods = await self._claim(ds, self.pods)
        by_node = _group_by_node(pods)
        if not is_being_deleted(ds) and self.expectations.satisfied(key):
            now = time.time()
            plan = u.NodePlan()
            node_names = {n.metadata.name for n in nodes}
            for node in nodes:
                u.plan_node(ds, node, by_node.get(node.metadata.name, []), hash_, now, plan)
            plan.delete += [p for name, ps in by_node.items() if name not in node_names
                            for p in ps if not p.spec.node_name and not is_being_deleted(p)]
            plan.delete += self._failed_to_delete(ds, plan.failed, now)
            await self._sync_nodes(key, ds, plan, hash_)
            if self.expectations.satisfied(key) and ds.spec.update_strategy.type == "RollingUpdate":
                await self._sync_nodes(key, ds, u.rolling_plan(ds, nodes, by_node, hash_, now), hash_)
            await self._cleanup_history(ds, revisions, current, pods)
        await self._update_status(ds, nodes, by_node, hash_)

    async def _claim(self, ds: Message, informer) -> list[Message]:
        candidates = informer.store.by_index("namespace", ds.metadata.namespace)
        return await controllerref.claim(self.client, ds, from_label_selector(ds.spec.selector), candidates)

    async def _current_revision(self, ds: Message, revisions: list[Message]) -> Message:
        try:
            return await history.ensure_revision(self.client, ds, revisions, ds.spec.template,
                                                 history.collision_count(ds))
        except history.CollisionError:
            ds.status.collision_count = history.collision_count(ds) + 1
            await self.write_status(ds, ds.status)
            raise

    def _failed_to_delete(self, ds: Message, failed: list[Message], now: float) -> list[Message]:
        """Failed pods to delete now: one per node per back-off period (1 s doubling to 15 min), so a
        pod failing at once on a node is not recreated in a hot loop."""
        chosen = []
        for pod in failed:
            backoff_key = f"{ds.metadata.uid}/{u.target_node(pod)}"
            wait = self.failed_backoff.remaining(backoff_key, now)
            if wait > 0:
                self.queue.add_after(key_of(ds), wait)
                continue
            self.failed_backoff.next(backoff_key, now)
            self.recorder.event(ds, WARNING, "FailedDaemonPod",
                                f"Found failed daemon pod {pod.metadata.namespace}/{pod.metadata.name} on node "
                                f"{u.target_node(pod)}, will try to kill it")
            chosen.append(pod)
        return chosen

    async def _sync_nodes(self, key: str, ds: Message, plan: u.NodePlan, hash_: str) -> None:
        if not plan.create_on and not plan.delete:
            return
        self.expectations.expect(key, len(plan.create_on), [p.metadata.uid for p in plan.delete])
        errors: list[BaseException] = []
        if plan.create_on:
            await self._create(key, ds, plan.create_on, hash_, errors)
        if plan.delete:
            await self._delete(key, ds, plan.delete, errors)
        if errors:
            raise errors[0]

    async def _create(self, key: str, ds: Message, node_names: list[str], hash_: str,
                      errors: list[BaseException]) -> None:
        pending = list(node_names)

        async def create_one() -> None:
            node_name = pending.pop(0)
            try:
                pod = await self.client.create(u.new_pod(ds, node_name, hash_))
            except grpc.aio.AioRpcError as e:
                self.expectations.creation_observed(key)
                self.recorder.event(ds, WARNING, "FailedCreate", f"Error creating: {e.details()}")
                raise
            self.recorder.event(ds, NORMAL, "SuccessfulCreate", f"Created pod: {pod.metadata.name}")

        done = await slow_start_batch(len(node_names), create_one, errors=errors)
        for _ in range(len(node_names) - done[0] - done[1]):
            self.expectations.creation_observed(key)

    async def _delete(self, key: str, ds: Message, pods: list[Message], errors: list[BaseException]) -> None:
        async def delete_one(pod: Message) -> None:
            try:
                await self.client.delete(_POD, pod.metadata.name, pod.metadata.namespace, uid=pod.metadata.uid)
            except grpc.aio.AioRpcError as e:
                self.expectations.deletion_observed(key, pod.metadata.uid)
                if e.code() == grpc.StatusCode.NOT_FOUND:
                    return
                self.recorder.event(ds, WARNING, "FailedDelete", f"Error deleting: {e.details()}")
                raise
            self.recorder.event(ds, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}")

        results = await asyncio.gather(*(delete_one(p) for p in pods), return_exceptions=True)
        errors.extend(r for r in results if isinstance(r, BaseException))

    async def _cleanup_history(self, ds: Message, revisions: list[Message], current: Message,
                               pods: list[Message]) -> None:
        live_hashes = {p.metadata.labels.get(LABEL_CONTROLLER_REVISION_HASH) for p in pods}
        old = [r for r in revisions if r.metadata.name != current.metadata.name]
        live = {r.metadata.name for r in old if r.metadata.labels.get(LABEL_CONTROLLER_REVISION_HASH) in live_hashes}
        await history.truncate(self.client, old, live, ds.spec.revision_history_limit, count_live=True)

    async def _update_status(self, ds: Message, nodes: list[Message], by_node: dict[str, list[Message]],
                             hash_: str) -> None:
        status = u.calculate_status(ds, nodes, by_node, hash_, time.time())
        if status != ds.status:
            await self.write_status(ds, status)
        if ds.spec.min_ready_seconds > 0 and status.number_ready != status.number_available:
            self.queue.add_after(key_of(ds), ds.spec.min_ready_seconds)


def _group_by_node(pods: list[Message]) -> dict[str, list[Message]]:
    by_node: dict[str, list[Message]] = {}
    for pod in pods:
        if pod.status.phase == "Succeeded" or (is_being_deleted(pod) and pod.status.phase == POD_FAILED):
            continue
        by_node.setdefault(u.target_node(pod), []).append(pod)
    return by_node
