"""The StatefulSet controller: pods with stable names, started and stopped in order.

reconcile(key) records the template as a ControllerRevision (current and update revisions),
claims the set's pods, and moves one step as Kubernetes' StatefulSet control does: recreate failed
pods, create missing ordinals (OrderedReady: only once every lower ordinal is Running and Ready
and available; Parallel: all at once), delete ordinals beyond replicas from the highest (OrderedReady:
one at a time, once the others are healthy), then roll the update revision out from the highest
ordinal down to the partition, within maxUnavailable (OnDelete: only deleted pods are replaced).
Claims from volumeClaimTemplates are created before their pod. Status and history follow.
The per-pod decisions are in statefulset_util.py.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client import controllerref
from control.client.controller import Controller, ControllerContext, option
from control.client.controllerref import controller_ref, resolve_controller_ref
from control.client.events import NORMAL, WARNING
from control.client.informer import copy_of, key_of
from control.client.kinds import KINDS
from control.client.selectors import from_label_selector
from control.client.wellknown import is_being_deleted
from control.controllers import history
from control.controllers import statefulset_util as u

log = logging.getLogger(__name__)

_POD = KINDS["Pod"]
_CLAIMS = KINDS.get("PersistentVolumeClaim")  # claims are made only where the kind is served
_COLLISION_RETRIES = 5


@dataclass(frozen=True)
class StatefulSetOptions:
    concurrent_statefulset_syncs: int = option(5, "StatefulSets synced at once")


class _Wait(Exception):
    """OrderedReady: this step has to wait for a pod to change."""


class StatefulSetController(Controller):
    name = "statefulset"
    Options = StatefulSetOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_statefulset_syncs)
        self.sets = ctx.informers.get("StatefulSet")
        self.pods = ctx.informers.get("Pod")
        self.revisions = ctx.informers.get("ControllerRevision")
        self.claims = ctx.informers.get(_CLAIMS) if _CLAIMS is not None else None
        self.sets.add_handler(**self.enqueue_handlers())
        self.pods.add_handler(**self.enqueue_owner("StatefulSet", orphan=self.enqueue_selecting(self.sets)))
        self.pods.add_handler(on_update=self._pod_updated)
        self.revisions.add_handler(**self.enqueue_owner("StatefulSet"))

    def _pod_updated(self, old: Message, new: Message) -> None:
        """A pod that just became ready becomes available after minReadySeconds."""
        sts = resolve_controller_ref(new, "StatefulSet", self.sets.store)
        if sts is not None and sts.spec.min_ready_seconds > 0 and u.running_and_ready(new) \
                and not u.running_and_ready(old):
            self.queue.add_after(key_of(sts), sts.spec.min_ready_seconds + 0.1)

    # --- reconcile ---------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        cached = self.sets.store.get(key)
        if cached is None:
            return
        sts = copy_of(cached)
        selector = from_label_selector(sts.spec.selector)
        revisions = await controllerref.claim(self.client, sts, selector,
                                              self.revisions.store.by_index("namespace", sts.metadata.namespace))
        current, update, collisions = await self._revisions(sts, revisions)
        pods = await self._claim_pods(sts)
        now = time.time()
        status = u.count_status(sts, pods, current.metadata.name, update.metadata.name, now)
        if not is_being_deleted(sts):
            try:
                await self._step(sts, pods, current, update, now)
            except _Wait:
                pass
        status.collision_count = collisions
        u.complete_rolling_update(sts, status)
        status.conditions.extend(sts.status.conditions)
        if status != sts.status:
            await self.write_status(sts, status)
        live = {current.metadata.name, update.metadata.name, *(u.revision_of(p) for p in pods)}
        await history.truncate(self.client, revisions, live, sts.spec.revision_history_limit)
        if sts.spec.min_ready_seconds > 0 and status.available_replicas < status.ready_replicas:
            self.queue.add_after(key, sts.spec.min_ready_seconds)

    async def _claim_pods(self, sts: Message) -> list[Message]:
        candidates = [p for p in self.pods.store.by_index("namespace", sts.metadata.namespace)
                      if controller_ref(p) is not None or u.ordinal_of(p, sts) >= 0]
        return await controllerref.claim(self.client, sts, from_label_selector(sts.spec.selector), candidates)

    async def _revisions(self, sts: Message, revisions: list[Message]) -> tuple[Message, Message, int]:
        """(current revision, update revision, collisionCount)."""
        collisions = history.collision_count(sts)
        for _ in range(_COLLISION_RETRIES):
            try:
                update = await history.ensure_revision(self.client, sts, revisions, sts.spec.template, collisions)
                break
            except history.CollisionError:
                collisions += 1
        else:
            raise RuntimeError(f"too many hash collisions for the revisions of {key_of(sts)}")
        current = next((r for r in revisions if r.metadata.name == sts.status.current_revision), update)
        return current, update, collisions

    # --- one step ----------------------------------------------------------------------------

    async def _step(self, sts: Message, pods: list[Message], current: Message, update: Message, now: float) -> None:
        monotonic = sts.spec.pod_management_policy != "Parallel"
        slots = {o: None for o in range(u.start_ordinal(sts), u.start_ordinal(sts) + u.replicas_of(sts))}
        condemned = []
        for pod in pods:
            ordinal = u.ordinal_of(pod, sts)
            if ordinal in slots:
                slots[ordinal] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        condemned.sort(key=lambda p: -u.ordinal_of(p, sts))
        ordered = [p for p in slots.values() if p is not None] + condemned
        first_unhealthy = next((p for p in ordered if not u.is_healthy(p)), None)
        templates = {current.metadata.name: history.template_of(current), update.metadata.name: sts.spec.template}
        for ordinal, pod in slots.items():
            await self._keep_replica(sts, ordinal, pod, current, update, templates, monotonic, now)
        for pod in condemned:
            await self._condemn(sts, pod, pod is first_unhealthy, monotonic, now)
        if sts.spec.update_strategy.type == "RollingUpdate":
            await self._roll(sts, [p for p in slots.values() if p is not None], update)

    def _revision_for(self, sts: Message, ordinal: int, current: Message, update: Message) -> Message:
        partition = sts.spec.update_strategy.rolling_update.partition
        if sts.spec.update_strategy.type == "RollingUpdate" and ordinal < u.start_ordinal(sts) + partition:
            return current
        return update

    async def _keep_replica(self, sts: Message, ordinal: int, pod: Message | None, current: Message,
                            update: Message, templates: dict, monotonic: bool, now: float) -> None:
        if pod is not None and u.is_terminated(pod) and not is_being_deleted(pod):
            reason = "failed" if u.is_failed(pod) else "terminated"
            self.recorder.event(sts, WARNING, f"Recreating{reason.capitalize()}Pod",
                                f"StatefulSet {key_of(sts)} is recreating {reason} Pod {pod.metadata.name}")
            await self._delete_pod(sts, pod)
            pod = None
        if pod is None:
            revision = self._revision_for(sts, ordinal, current, update)
            new = u.new_pod(sts, templates[revision.metadata.name], ordinal, revision.metadata.name)
            await self._create_claims(sts, new, ordinal)
            await self._create_pod(sts, new)
            if monotonic:
                raise _Wait
            return
        if u.is_pending(pod):
            await self._create_claims(sts, pod, ordinal)
        if monotonic and (is_being_deleted(pod) or not u.running_and_ready(pod)
                          or not u.running_and_available(pod, sts.spec.min_ready_seconds, now)):
            raise _Wait
        if not u.identity_matches(sts, pod):
            fixed = copy_of(pod)
            u.fix_identity(sts, fixed)
            await self.client.update(fixed)

    async def _condemn(self, sts: Message, pod: Message, first_unhealthy: bool, monotonic: bool,
                       now: float) -> None:
        if is_being_deleted(pod):
            if monotonic:
                raise _Wait
            return
        healthy = u.running_and_ready(pod) and u.running_and_available(pod, sts.spec.min_ready_seconds, now)
        if monotonic and not healthy and not first_unhealthy:
            raise _Wait
        if sts.spec.persistent_volume_claim_retention_policy.when_scaled == "Delete":
            await self._hand_claims_to(sts, pod)
        await self._delete_pod(sts, pod)
        if monotonic:
            raise _Wait

    async def _roll(self, sts: Message, replicas: list[Message], update: Message) -> None:
        """Deletes pods not at the update revision from the highest ordinal down to the partition;
        the next pass recreates them at the update revision."""
        replicas = sorted(replicas, key=lambda p: -u.ordinal_of(p, sts))
        floor = u.start_ordinal(sts) + sts.spec.update_strategy.rolling_update.partition
        targets = [p for p in replicas if u.ordinal_of(p, sts) >= floor]
        has_limit = sts.spec.update_strategy.rolling_update.HasField("max_unavailable")
        if not has_limit:
            for pod in targets:
                if u.revision_of(pod) != update.metadata.name and not is_being_deleted(pod):
                    await self._delete_pod(sts, pod)
                    return
                if not u.is_healthy(pod):
                    return
            return
        unavailable = sum(not u.is_healthy(p) for p in replicas)
        room = u.max_unavailable(sts) - unavailable
        for pod in targets:
            if room <= 0:
                return
            if u.revision_of(pod) != update.metadata.name and not is_being_deleted(pod):
                await self._delete_pod(sts, pod)
                room -= 1

    # --- writes ------------------------------------------------------------------------------

    async def _create_pod(self, sts: Message, pod: Message) -> None:
        try:
            await self.client.create(pod)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.ALREADY_EXISTS:
                return  # our cache is behind; the next pass sees it
            self.recorder.event(sts, WARNING, "FailedCreate",
                                f"create Pod {pod.metadata.name} in StatefulSet {sts.metadata.name} failed "
                                f"error: {e.details()}")
            raise
        self.recorder.event(sts, NORMAL, "SuccessfulCreate",
                            f"create Pod {pod.metadata.name} in StatefulSet {sts.metadata.name} successful")

    async def _delete_pod(self, sts: Message, pod: Message) -> None:
        try:
            await self.client.delete(_POD, pod.metadata.name, pod.metadata.namespace, uid=pod.metadata.uid)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return
            self.recorder.event(sts, WARNING, "FailedDelete",
                                f"delete Pod {pod.metadata.name} in StatefulSet {sts.metadata.name} failed "
                                f"error: {e.details()}")
            raise
        self.recorder.event(sts, NORMAL, "SuccessfulDelete",
                            f"delete Pod {pod.metadata.name} in StatefulSet {sts.metadata.name} successful")

    async def _create_claims(self, sts: Message, pod: Message, ordinal: int) -> None:
        """Each volume claim template's claim for this ordinal, before its pod."""
        if self.claims is None:
            return
        for template in sts.spec.volume_claim_templates:
            claim = u.new_claim(sts, template, ordinal)
            if self.claims.store.get_by_name(claim.metadata.namespace, claim.metadata.name) is not None:
                continue
            what = f"Claim {claim.metadata.name} Pod {pod.metadata.name} in StatefulSet {sts.metadata.name}"
            try:
                await self.client.create(claim)
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.ALREADY_EXISTS:
                    continue
                self.recorder.event(sts, WARNING, "FailedCreate", f"create {what} failed error: {e.details()}")
                raise
            self.recorder.event(sts, NORMAL, "SuccessfulCreate", f"create {what} success")

    async def _hand_claims_to(self, sts: Message, pod: Message) -> None:
        """whenScaled: Delete — a scaled-down pod's claims get the pod as owner, so the garbage
        collector removes them with it."""
        if self.claims is None:
            return
        for template in sts.spec.volume_claim_templates:
            name = u.claim_name(sts, template, u.ordinal_of(pod, sts))
            claim = self.claims.store.get_by_name(sts.metadata.namespace, name)
            if claim is None or any(o.uid == pod.metadata.uid for o in claim.metadata.owner_references):
                continue
            updated = copy_of(claim)
            updated.metadata.owner_references.add(api_version="v1", kind="Pod", name=pod.metadata.name,
                                                  uid=pod.metadata.uid, block_owner_deletion=True)
            await self.client.update(updated)
