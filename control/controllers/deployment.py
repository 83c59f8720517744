"""The Deployment controller: rolls a pod template out through ReplicaSets.

reconcile(key) claims the ReplicaSets the deployment's selector matches,
finds (or creates) the one whose template is the deployment's (named
`<deployment>-<pod-template-hash>`), and moves one step: scale the new one up
within maxSurge, the old ones down within maxUnavailable (RollingUpdate), or
old ones to zero and, once their pods are gone, the new one up (Recreate).
Scaling a deployment mid-rollout is spread proportionally over its active
ReplicaSets. Status and the Available/Progressing conditions follow.
The arithmetic lives in deployment_rollout.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client import controllerref
from control.client.controller import Controller, ControllerContext, option
from control.client.controllerref import controller_ref, new_controller_ref, resolve_controller_ref
from control.client.events import NORMAL, WARNING
from control.client.informer import copy_of, key_of
from control.client.kinds import KINDS
from control.client.selectors import from_label_selector
from control.client.wellknown import (
    ANNOTATION_DESIRED_REPLICAS,
    ANNOTATION_REVISION,
    CONDITION_FALSE,
    CONDITION_TRUE,
    CONDITION_UNKNOWN,
    DEPLOYMENT_PROGRESSING,
    LABEL_POD_TEMPLATE_HASH,
    REPLICA_FAILURE,
    get_condition,
    is_being_deleted,
    is_terminal,
    remove_condition,
)
from control.controllers import deployment_rollout as r
from skiff.v1 import apps_pb2, meta_pb2

log = logging.getLogger(__name__)

_RS = KINDS["ReplicaSet"]


@dataclass(frozen=True)
class DeploymentOptions:
    concurrent_deployment_syncs: int = option(5, "Deployments synced at once")


class DeploymentController(Controller):
    name = "deployment"
    Options = DeploymentOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_deployment_syncs)
        self.deployments = ctx.informers.get("Deployment")
        self.replicasets = ctx.informers.get("ReplicaSet")
        self.pods = ctx.informers.get("Pod")
        self.deployments.add_handler(**self.enqueue_handlers())
        self.replicasets.add_handler(**self.enqueue_owner("Deployment",
                                                          orphan=self.enqueue_selecting(self.deployments)))
        self.pods.add_handler(on_delete=self._pod_deleted)

    def _pod_deleted(self, pod: Message) -> None:
        """Recreate waits for old pods to be gone; their deletion is the signal to go on."""
        rs = resolve_controller_ref(pod, "ReplicaSet", self.replicasets.store)
        d = resolve_controller_ref(rs, "Deployment", self.deployments.store) if rs is not None else None
        if d is not None and not r.is_rolling(d):
            self.enqueue(d)

    # --- reconcile ----------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        cached = self.deployments.store.get(key)
        if cached is None:
            return
        d = copy_of(cached)
        if not d.spec.selector.match_labels and not d.spec.selector.match_expressions:
            self.recorder.event(d, WARNING, "SelectingAll",
                                "This deployment is selecting all pods. A non-empty selector is required.")
            return
        rss = await self._claim_replicasets(d)
        if is_being_deleted(d):
            await self._sync_status(d, rss)
            return
        d = await self._check_paused_conditions(d)
        if d.spec.paused or self._is_scaling_event(d, rss):
            await self._sync(d, rss)
        elif r.is_rolling(d):
            await self._rollout_rolling(d, rss)
        else:
            await self._rollout_recreate(d, rss)

    async def _claim_replicasets(self, d: Message) -> list[Message]:
        candidates = self.replicasets.store.by_index("namespace", d.metadata.namespace)
        return await controllerref.claim(self.client, d, from_label_selector(d.spec.selector), candidates)

    def _is_scaling_event(self, d: Message, rss: list[Message]) -> bool:
        for rs in rss:
            desired = rs.metadata.annotations.get(ANNOTATION_DESIRED_REPLICAS)
            if r.replicas_of(rs) > 0 and desired is not None and desired != str(r.replicas_of(d)):
                return True
        return False

    # --- strategies ---------------------------------------------------------

    async def _rollout_rolling(self, d: Message, rss: list[Message]) -> None:
        d, new, old = await self._new_and_old(d, rss, create=True)
        all_rss = [new, *old]
        if r.replicas_of(new) != r.replicas_of(d):
            target = r.replicas_of(d) if r.replicas_of(new) > r.replicas_of(d) else \
                r.new_rs_replicas(d, all_rss, new)
            new, scaled = await self._scale(d, new, target)
            if scaled:
                await self._sync_rollout_status(d, [new, *old], new)
                return
        old, scaled_down = await self._reconcile_old(d, new, old)
        if scaled_down:
            await self._sync_rollout_status(d, [new, *old], new)
            return
        if r.deployment_complete(d, d.status):
            await self._cleanup(d, old)
        await self._sync_rollout_status(d, [new, *old], new)

    async def _reconcile_old(self, d: Message, new: Message, old: list[Message]) -> tuple[list[Message], bool]:
        if r.total_replicas(old) == 0:
            return old, False
        min_available = r.replicas_of(d) - r.max_unavailable(d)
        new_unavailable = r.replicas_of(new) - new.status.available_replicas
        max_scaled_down = r.total_replicas([new, *old]) - min_available - new_unavailable
        if max_scaled_down <= 0:
            return old, False
        old, cleaned = await self._cleanup_unhealthy(d, old, max_scaled_down)
        old, scaled = await self._scale_down_old(d, new, old, min_available)
        return old, cleaned + scaled > 0

    async def _cleanup_unhealthy(self, d: Message, old: list[Message], limit: int) -> tuple[list[Message], int]:
        """Old replicas that are not available go first: removing them costs no availability."""
        total = 0
        result = []
        for rs in r.by_creation(old):
            unhealthy = r.replicas_of(rs) - rs.status.available_replicas
            if total < limit and r.replicas_of(rs) > 0 and unhealthy > 0:
                count = min(limit - total, unhealthy)
                rs, _ = await self._scale(d, rs, r.replicas_of(rs) - count)
                total += count
            result.append(rs)
        return result, total

    async def _scale_down_old(self, d: Message, new: Message, old: list[Message],
                              min_available: int) -> tuple[list[Message], int]:
        # A ReplicaSet just scaled down may still report its old availability; counting more
        # than its spec would let a second scale-down take away pods that are really needed.
        available = sum(min(rs.status.available_replicas, r.replicas_of(rs)) for rs in [new, *old])
        if available <= min_available:
            return old, 0
        goal = available - min_available
        total = 0
        result = []
        for rs in r.by_creation(old):
            if total < goal and r.replicas_of(rs) > 0:
                count = min(r.replicas_of(rs), goal - total)
                rs, _ = await self._scale(d, rs, r.replicas_of(rs) - count)
                total += count
            result.append(rs)
        return result, total

    async def _rollout_recreate(self, d: Message, rss: list[Message]) -> None:
        d, new, old = await self._new_and_old(d, rss, create=False)
        scaled = False
        for i, rs in enumerate(old):
            if r.replicas_of(rs) > 0:
                old[i], did = await self._scale(d, rs, 0)
                scaled |= did
        all_rss = [rs for rs in [new, *old] if rs is not None]
        if scaled or self._old_pods_running(old):
            await self._sync_rollout_status(d, all_rss, new)
            return
        if new is None:
            d, new, old = await self._new_and_old(d, rss, create=True)
        if r.replicas_of(new) != r.replicas_of(d):
            new, _ = await self._scale(d, new, r.replicas_of(d))
        if r.deployment_complete(d, d.status):
            await self._cleanup(d, old)
        await self._sync_rollout_status(d, [new, *old], new)

    def _old_pods_running(self, old: list[Message]) -> bool:
        if sum(rs.status.replicas for rs in old) > 0:
            return True
        uids = {rs.metadata.uid for rs in old}
        for pod in self.pods.store.by_index("namespace", old[0].metadata.namespace if old else ""):
            ref = controller_ref(pod)
            if ref is not None and ref.uid in uids and not is_terminal(pod):
                return True
        return False

    async def _sync(self, d: Message, rss: list[Message]) -> None:
        """Scaling (and paused deployments): resize without rolling anything out."""
        d, new, old = await self._new_and_old(d, rss, create=False)
        new, old = await self._scale_proportionally(d, new, old)
        if d.spec.paused:
            await self._cleanup(d, old)
        await self._sync_status(d, [rs for rs in [new, *old] if rs is not None], new)

    async def _scale_proportionally(self, d: Message, new: Message | None,
                                    old: list[Message]) -> tuple[Message | None, list[Message]]:
        target = r.find_active_or_latest(new, old)
        if target is not None:
            if r.replicas_of(target) != r.replicas_of(d) or r.replicas_annotations_need_update(
                    target, r.replicas_of(d), r.replicas_of(d) + r.max_surge(d)):
                scaled, _ = await self._scale(d, target, r.replicas_of(d))
                return _replace(new, old, scaled)
            return new, old
        if r.is_saturated(d, new):
            for rs in [rs for rs in old if r.replicas_of(rs) > 0]:
                scaled, _ = await self._scale(d, rs, 0)
                new, old = _replace(new, old, scaled)
            return new, old
        if not r.is_rolling(d):
            return new, old
        active = [rs for rs in [new, *old] if rs is not None and r.replicas_of(rs) > 0]
        allowed = r.replicas_of(d) + r.max_surge(d) if r.replicas_of(d) > 0 else 0
        to_add = allowed - r.total_replicas(active)
        # Bigger first; on ties newer first when growing, older first when shrinking.
        sign = 1 if to_add > 0 else -1
        active.sort(key=lambda rs: (-r.replicas_of(rs), -sign * rs.metadata.creation_timestamp.ToNanoseconds()))
        sizes, added = [], 0
        for rs in active:
            share = r.proportion(rs, d, to_add, added)
            sizes.append(r.replicas_of(rs) + share)
            added += share
        if active and to_add != 0:
            sizes[0] = max(0, sizes[0] + to_add - added)
        for rs, size in zip(active, sizes, strict=True):
            scaled, _ = await self._scale(d, rs, size)
            new, old = _replace(new, old, scaled)
        return new, old

    # --- ReplicaSets --------------------------------------------------------

    async def _new_and_old(self, d: Message, rss: list[Message],
                           create: bool) -> tuple[Message, Message | None, list[Message]]:
        """(deployment, new ReplicaSet or None, old ones), with revisions brought up to date."""
        new = r.find_new_rs(d, rss)
        old = [rs for rs in rss if rs is not new]
        new_revision = r.max_revision(old) + 1
        if new is not None:
            new = await self._sync_new_rs(d, new, new_revision)
            reason, message = r.FOUND_NEW_RS, f'Found new replica set "{new.metadata.name}"'
            record = get_condition(d.status, DEPLOYMENT_PROGRESSING) is None
        elif create:
            new = await self._create_new_rs(d, rss, new_revision)
            reason, message = r.NEW_RS_CREATED, f'Created new replica set "{new.metadata.name}"'
            record = True
        else:
            return d, None, old
        d = await self._set_deployment_revision(d, new.metadata.annotations.get(ANNOTATION_REVISION, ""))
        if record and r.has_progress_deadline(d):
            r.set_progressing(d.status, CONDITION_TRUE, reason, message)
            d = await self.client.update_status(d)
        return d, new, old

    async def _sync_new_rs(self, d: Message, rs: Message, new_revision: int) -> Message:
        updated = copy_of(rs)
        changed = r.set_new_rs_annotations(d, updated, new_revision, exists=True)
        if updated.spec.min_ready_seconds != d.spec.min_ready_seconds:
            updated.spec.min_ready_seconds = d.spec.min_ready_seconds
            changed = True
        return await self.client.update(updated) if changed else rs

    async def _create_new_rs(self, d: Message, rss: list[Message], new_revision: int) -> Message:
        collisions = d.status.collision_count if d.status.HasField("collision_count") else None
        pod_hash = r.template_hash(d.spec.template, collisions)
        rs = _RS.new(metadata=meta_pb2.ObjectMeta(name=f"{d.metadata.name}-{pod_hash}",
                                                  namespace=d.metadata.namespace))
        rs.spec.template.CopyFrom(d.spec.template)
        rs.spec.template.metadata.labels[LABEL_POD_TEMPLATE_HASH] = pod_hash
        rs.spec.selector.CopyFrom(d.spec.selector)
        rs.spec.selector.match_labels[LABEL_POD_TEMPLATE_HASH] = pod_hash
        rs.spec.min_ready_seconds = d.spec.min_ready_seconds
        rs.metadata.labels.update(rs.spec.template.metadata.labels)
        rs.metadata.owner_references.append(new_controller_ref(d))
        rs.spec.replicas = 0
        rs.spec.replicas = r.new_rs_replicas(d, [*rss, rs], rs)
        r.set_new_rs_annotations(d, rs, new_revision, exists=False)
        try:
            created = await self.client.create(rs)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
            return await self._resolve_collision(d, rs)
        if created.spec.replicas > 0:
            self.recorder.event(d, NORMAL, "ScalingReplicaSet",
                                f"Scaled up replica set {created.metadata.name} to {created.spec.replicas}")
        return created

    async def _resolve_collision(self, d: Message, rs: Message) -> Message:
        """The name is taken: ours with the same template is fine; anything else bumps collisionCount."""
        existing = await self.client.get(_RS, rs.metadata.name, rs.metadata.namespace)
        ref = controller_ref(existing)
        if ref is not None and ref.uid == d.metadata.uid and \
                r.equal_ignore_hash(existing.spec.template, d.spec.template):
            return existing
        d.status.collision_count = (d.status.collision_count if d.status.HasField("collision_count") else 0) + 1
        await self.client.update_status(d)
        raise RuntimeError(f"hash collision for ReplicaSet {rs.metadata.name}; collisionCount now "
                           f"{d.status.collision_count}")

    async def _set_deployment_revision(self, d: Message, revision: str) -> Message:
        if not revision or d.metadata.annotations.get(ANNOTATION_REVISION) == revision:
            return d
        updated = copy_of(d)
        updated.metadata.annotations[ANNOTATION_REVISION] = revision
        return await self.client.update(updated)

    async def _scale(self, d: Message, rs: Message, size: int) -> tuple[Message, bool]:
        """Resizes rs (and refreshes its replica annotations); True if the size changed."""
        old_size = r.replicas_of(rs)
        desired, max_replicas = r.replicas_of(d), r.replicas_of(d) + r.max_surge(d)
        if old_size == size and not r.replicas_annotations_need_update(rs, desired, max_replicas):
            return rs, False
        updated = copy_of(rs)
        updated.spec.replicas = size
        r.set_replicas_annotations(updated, desired, max_replicas)
        result = await self.client.update(updated)
        if old_size != size:
            direction = "up" if size > old_size else "down"
            self.recorder.event(d, NORMAL, "ScalingReplicaSet",
                                f"Scaled {direction} replica set {rs.metadata.name} to {size} from {old_size}")
        return result, old_size != size

    async def _cleanup(self, d: Message, old: list[Message]) -> None:
        """Deletes the oldest unused ReplicaSets beyond revisionHistoryLimit."""
        if not d.spec.HasField("revision_history_limit"):
            return
        alive = [rs for rs in old if not is_being_deleted(rs)]
        excess = len(alive) - d.spec.revision_history_limit
        for rs in sorted(alive, key=lambda x: (r.revision(x), x.metadata.creation_timestamp.ToNanoseconds()))[
                :max(excess, 0)]:
            if rs.status.replicas != 0 or r.replicas_of(rs) != 0 or \
                    rs.metadata.generation > rs.status.observed_generation:
                continue
            try:
                await self.client.delete(_RS, rs.metadata.name, rs.metadata.namespace, uid=rs.metadata.uid)
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise

    # --- status -------------------------------------------------------------

    async def _check_paused_conditions(self, d: Message) -> Message:
        if not r.has_progress_deadline(d):
            return d
        cond = get_condition(d.status, DEPLOYMENT_PROGRESSING)
        if cond is not None and cond.reason == r.TIMED_OUT:
            return d
        paused_recorded = cond is not None and cond.reason == r.PAUSED
        if d.spec.paused and not paused_recorded:
            r.set_progressing(d.status, CONDITION_UNKNOWN, r.PAUSED, "Deployment is paused")
        elif not d.spec.paused and paused_recorded:
            r.set_progressing(d.status, CONDITION_UNKNOWN, r.RESUMED,
                                                      "Deployment is resumed")
        else:
            return d
        return await self.client.update_status(d)

    async def _sync_status(self, d: Message, all_rss: list[Message], new: Message | None = None) -> None:
        if new is None:
            new = r.find_new_rs(d, all_rss)
        status = r.calculate_status(all_rss, new, d)
        if status != d.status:
            await self._write_status(d, status)

    async def _sync_rollout_status(self, d: Message, all_rss: list[Message], new: Message | None) -> None:
        status = r.calculate_status(all_rss, new, d)
        if not r.has_progress_deadline(d):
            remove_condition(status, DEPLOYMENT_PROGRESSING)
        current = get_condition(d.status, DEPLOYMENT_PROGRESSING)
        complete = status.replicas == status.updated_replicas and current is not None and \
            current.reason == r.NEW_RS_AVAILABLE
        if r.has_progress_deadline(d) and not complete:
            self._set_progressing(d, status, new, current)
        failure = r.replica_failure(new, all_rss)
        if failure is not None:
            r.set_deployment_condition(status, failure)
        else:
            remove_condition(status, REPLICA_FAILURE)
        if status == d.status:
            self._requeue_stuck(d, status)
            return
        await self._write_status(d, status)

    def _set_progressing(self, d: Message, status: Message, new: Message | None,
                         current: apps_pb2.DeploymentCondition | None) -> None:
        what = f'ReplicaSet "{new.metadata.name}"' if new is not None else f'Deployment "{d.metadata.name}"'
        if r.deployment_complete(d, status):
            r.set_progressing(status, CONDITION_TRUE, r.NEW_RS_AVAILABLE,
                                                    f"{what} has successfully progressed.")
        elif r.deployment_progressing(d, status):
            cond = r.new_condition(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, r.RS_UPDATED, f"{what} is progressing.")
            if current is not None and current.status == CONDITION_TRUE:
                cond.last_transition_time.CopyFrom(current.last_transition_time)
            remove_condition(status, DEPLOYMENT_PROGRESSING)
            r.set_deployment_condition(status, cond)
        elif r.deployment_timed_out(d, status):
            r.set_progressing(status, CONDITION_FALSE, r.TIMED_OUT,
                                                    f"{what} has timed out progressing.")

    def _requeue_stuck(self, d: Message, status: Message) -> None:
        remaining = r.progress_deadline_remaining(d, status)
        if remaining is None:
            return
        if remaining < 1:
            self.queue.add_rate_limited(key_of(d))
        else:
            self.queue.add_after(key_of(d), remaining + 1)

    async def _write_status(self, d: Message, status: apps_pb2.DeploymentStatus) -> None:
        await self.write_status(d, status)


def _replace(new: Message | None, old: list[Message], rs: Message) -> tuple[Message | None, list[Message]]:
    """Swaps the updated copy of rs into (new, old)."""
    uid = rs.metadata.uid
    if new is not None and new.metadata.uid == uid:
        return rs, old
    return new, [rs if o.metadata.uid == uid else o for o in old]
