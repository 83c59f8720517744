"""The persistent-volume binder (kube-controller-manager's persistentvolume-binder): binds claims to
volumes and keeps both sides' phases, annotations and status; reclaims released volumes.

One queue carries both kinds of key: a claim's is `namespace/name`, a volume's is its name (volumes
are cluster-scoped, so their keys never hold a slash). Binding is Kubernetes' order of writes: the
volume's claimRef, the volume's phase Bound, the claim's volumeName and annotations, the claim's
status Bound (capacity, access modes); each step is idempotent, so a crash between them is finished
by the next sync of either object. Claims of a WaitForFirstConsumer class wait for the scheduler
(`volume.kubernetes.io/selected-node`); a claim with a class and no volume is handed to the class's
provisioner (`volume.kubernetes.io/storage-provisioner`).
"""

from __future__ import annotations

import logging

import grpc
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext
from control.client.events import NORMAL, WARNING
from control.client.informer import copy_of
from control.client.selectors import from_label_selector
from control.client.volumeutil import (
    CLAIM_BOUND,
    CLAIM_LOST,
    CLAIM_PENDING,
    RECLAIM_DELETE,
    RECLAIM_RETAIN,
    VOLUME_AVAILABLE,
    VOLUME_BOUND,
    VOLUME_FAILED,
    VOLUME_PENDING,
    VOLUME_RELEASED,
    WAIT_FOR_FIRST_CONSUMER,
    claim_class,
    default_class,
    find_best_match,
    is_prebound_to,
    mismatch,
)
from control.client.wellknown import (
    ANNOTATION_BETA_STORAGE_PROVISIONER,
    ANNOTATION_BIND_COMPLETED,
    ANNOTATION_BOUND_BY_CONTROLLER,
    ANNOTATION_PROVISIONED_BY,
    ANNOTATION_SELECTED_NODE,
    ANNOTATION_STORAGE_PROVISIONER,
    now_timestamp,
)
from skiff.v1 import meta_pb2

log = logging.getLogger(__name__)
YES = "yes"
EXTERNAL_PROVISIONING = ("Waiting for a volume to be created either by the external provisioner '{}' or manually by "
                         "the system administrator. If volume creation is delayed, please verify that the provisioner "
                         "is running and correctly registered.")


class PersistentVolumeBinder(Controller):
    name = "persistentvolume-binder"
    event_source = "persistentvolume-controller"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)  # one worker: two claims must never race for one volume
        self.volumes = ctx.informers.get("PersistentVolume")
        self.claims = ctx.informers.get("PersistentVolumeClaim")
        self.classes = ctx.informers.get("StorageClass")
        self.volumes.add_handler(self._volume_changed, lambda _old, new: self._volume_changed(new),
                                 self._volume_changed)
        self.claims.add_handler(self.enqueue, lambda _old, new: self.enqueue(new), self._claim_deleted)
        self.classes.add_handler(lambda _sc: self._pending_claims(), lambda _o, _n: self._pending_claims())

    def _volume_changed(self, pv: Message) -> None:
        self.enqueue(pv)
        if pv.spec.HasField("claim_ref"):
            self.queue.add(f"{pv.spec.claim_ref.namespace}/{pv.spec.claim_ref.name}")
        self._pending_claims()

    def _claim_deleted(self, pvc: Message) -> None:
        if pvc.spec.volume_name:
            self.queue.add(pvc.spec.volume_name)  # to be released

    def _pending_claims(self) -> None:
        for pvc in self.claims.store.list():
            if pvc.status.phase == CLAIM_PENDING:
                self.enqueue(pvc)

    async def reconcile(self, key: str) -> None:
        if "/" in key:
            pvc = self.claims.store.get(key)
            if pvc is not None:
                await self._sync_claim(pvc)
        else:
            pv = self.volumes.store.get(key)
            if pv is not None:
                await self._sync_volume(pv)

    # --- claims -------------------------------------------------------------------------------

    async def _sync_claim(self, pvc: Message) -> None:
        if pvc.metadata.HasField("deletion_timestamp") and not pvc.spec.volume_name:
            return
        if ANNOTATION_BIND_COMPLETED not in pvc.metadata.annotations:
            await self._sync_unbound_claim(pvc)
        else:
            await self._sync_bound_claim(pvc)

    def _class(self, pvc: Message) -> Message | None:
        return self.classes.store.get(claim_class(pvc)) if claim_class(pvc) else None

    async def _sync_unbound_claim(self, pvc: Message) -> None:
        if pvc.spec.volume_name:
            await self._sync_prebound_claim(pvc)
            return
        if await self._assign_default_class(pvc):
            return
        sc = self._class(pvc)
        delay = sc is not None and sc.volume_binding_mode == WAIT_FOR_FIRST_CONSUMER
        selector = from_label_selector(pvc.spec.selector)
        pv = find_best_match(pvc, self.volumes.store.list(), lambda v: selector.matches(v.metadata.labels),
                             delay_binding=delay)
        if pv is not None:
            await self._bind(pv, pvc)
            return
        if delay and ANNOTATION_SELECTED_NODE not in pvc.metadata.annotations:
            self.recorder.event(pvc, NORMAL, "WaitForFirstConsumer",
                                "waiting for first consumer to be created before binding")
        elif claim_class(pvc):
            await self._provision(pvc, sc)
        else:
            self.recorder.event(pvc, NORMAL, "FailedBinding",
                                "no persistent volumes available for this claim and no storage class is set")
        await self._claim_status(pvc, CLAIM_PENDING, None)

    async def _assign_default_class(self, pvc: Message) -> bool:
        """Kubernetes' retroactive default class: a claim created before any default class gets it."""
        if pvc.spec.HasField("storage_class_name") or claim_class(pvc):
            return False
        sc = default_class(self.classes.store.list())
        if sc is None:
            return False
        updated = copy_of(pvc)
        updated.spec.storage_class_name = sc.metadata.name
        await self._write(updated)
        return True

    async def _provision(self, pvc: Message, sc: Message | None) -> None:
        if sc is None:
            self.recorder.event(pvc, WARNING, "ProvisioningFailed",
                                f'storageclass.storage.k8s.io "{claim_class(pvc)}" not found')
            return
        annotations = pvc.metadata.annotations
        if annotations.get(ANNOTATION_STORAGE_PROVISIONER) != sc.provisioner:
            updated = copy_of(pvc)
            updated.metadata.annotations[ANNOTATION_STORAGE_PROVISIONER] = sc.provisioner
            updated.metadata.annotations[ANNOTATION_BETA_STORAGE_PROVISIONER] = sc.provisioner
            if await self._write(updated) is None:
                return
        self.recorder.event(pvc, NORMAL, "ExternalProvisioning", EXTERNAL_PROVISIONING.format(sc.provisioner))

    async def _sync_prebound_claim(self, pvc: Message) -> None:
        pv = self.volumes.store.get(pvc.spec.volume_name)
        if pv is None or (pv.spec.HasField("claim_ref") and not is_prebound_to(pv, pvc)):
            if pv is not None:
                self.recorder.event(pvc, WARNING, "FailedBinding",
                                    f"volume \"{pv.metadata.name}\" already bound to a different claim.")
            await self._claim_status(pvc, CLAIM_PENDING, None)
            return
        why = mismatch(pv, pvc)
        if why:
            self.recorder.event(pvc, WARNING, "VolumeMismatch",
                                f'Cannot bind to requested volume "{pv.metadata.name}": {why}')
            await self._claim_status(pvc, CLAIM_PENDING, None)
            return
        await self._bind(pv, pvc)

    async def _sync_bound_claim(self, pvc: Message) -> None:
        if not pvc.spec.volume_name:
            await self._lost(pvc, "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the "
                             "volume is lost!")
            return
        pv = self.volumes.store.get(pvc.spec.volume_name)
        if pv is None:
            await self._lost(pvc, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume "
                             "is lost!")
        elif not pv.spec.HasField("claim_ref") or is_prebound_to(pv, pvc):
            await self._bind(pv, pvc)
        else:
            await self._lost(pvc, "ClaimMisbound", "Two claims are bound to the same volume, this one is bound "
                             "incorrectly")

    async def _lost(self, pvc: Message, reason: str, message: str) -> None:
        if pvc.status.phase != CLAIM_LOST:
            self.recorder.event(pvc, WARNING, reason, message)
        await self._claim_status(pvc, CLAIM_LOST, None)

    # --- binding ------------------------------------------------------------------------------

    async def _bind(self, pv: Message, pvc: Message) -> None:
        pv = await self._bind_volume(pv, pvc)
        if pv is None:
            return
        pv = await self._volume_phase(pv, VOLUME_BOUND)
        pvc = await self._bind_claim(pvc, pv)
        if pv is not None and pvc is not None:
            await self._claim_status(pvc, CLAIM_BOUND, pv)

    async def _bind_volume(self, pv: Message, pvc: Message) -> Message | None:
        ref = pv.spec.claim_ref
        if pv.spec.HasField("claim_ref") and ref.uid == pvc.metadata.uid:
            return pv
        updated = copy_of(pv)
        if not pv.spec.HasField("claim_ref"):
            updated.metadata.annotations[ANNOTATION_BOUND_BY_CONTROLLER] = YES
        updated.spec.claim_ref.CopyFrom(meta_pb2.ObjectReference(
            kind="PersistentVolumeClaim", namespace=pvc.metadata.namespace, name=pvc.metadata.name,
            uid=pvc.metadata.uid, api_version="v1", resource_version=pvc.metadata.resource_version))
        log.info("binding volume %s to claim %s/%s", pv.metadata.name, pvc.metadata.namespace, pvc.metadata.name)
        return await self._write(updated)

    async def _bind_claim(self, pvc: Message, pv: Message | None) -> Message | None:
        if pv is None:
            return None
        annotations = pvc.metadata.annotations
        if pvc.spec.volume_name == pv.metadata.name and annotations.get(ANNOTATION_BIND_COMPLETED) == YES:
            return pvc
        updated = copy_of(pvc)
        if not pvc.spec.volume_name:
            updated.metadata.annotations[ANNOTATION_BOUND_BY_CONTROLLER] = YES
        updated.spec.volume_name = pv.metadata.name
        updated.metadata.annotations[ANNOTATION_BIND_COMPLETED] = YES
        return await self._write(updated)

    # --- volumes ------------------------------------------------------------------------------

    async def _sync_volume(self, pv: Message) -> None:
        if not pv.spec.HasField("claim_ref") or not pv.spec.claim_ref.uid:
            await self._volume_phase(pv, VOLUME_AVAILABLE)
            return
        ref = pv.spec.claim_ref
        pvc = self.claims.store.get(f"{ref.namespace}/{ref.name}")
        if pvc is not None and pvc.metadata.uid != ref.uid:
            pvc = None  # the claim was deleted and made again: not ours
        if pvc is None:
            await self._release(pv)
        elif not pvc.spec.volume_name:
            await self._volume_phase(pv, VOLUME_BOUND)
            self.enqueue(pvc)  # the claim's sync finishes the binding
        elif pvc.spec.volume_name == pv.metadata.name:
            await self._volume_phase(pv, VOLUME_BOUND)
        else:
            await self._unbind(pv)

    async def _unbind(self, pv: Message) -> None:
        updated = copy_of(pv)
        if ANNOTATION_BOUND_BY_CONTROLLER in pv.metadata.annotations:
            updated.spec.ClearField("claim_ref")
            del updated.metadata.annotations[ANNOTATION_BOUND_BY_CONTROLLER]
        else:
            updated.spec.claim_ref.uid = ""
        written = await self._write(updated)
        if written is not None:
            await self._volume_phase(written, VOLUME_AVAILABLE)

    async def _release(self, pv: Message) -> None:
        if pv.status.phase not in (VOLUME_RELEASED, VOLUME_FAILED):
            pv = await self._volume_phase(pv, VOLUME_RELEASED)
            if pv is None:
                return
        policy = pv.spec.persistent_volume_reclaim_policy
        if policy == RECLAIM_RETAIN or pv.status.phase == VOLUME_FAILED:
            return
        if policy == RECLAIM_DELETE:
            if ANNOTATION_PROVISIONED_BY not in pv.metadata.annotations:
                await self._volume_phase(pv, VOLUME_FAILED, "VolumeFailedDelete",
                                         f'error getting deleter volume plugin for volume "{pv.metadata.name}": '
                                         "no deletable volume plugin matched")
            return  # a provisioned volume is deleted by its provisioner
        await self._volume_phase(pv, VOLUME_FAILED, "VolumeFailedRecycle", "No recycler plugin found for the volume!")

    # --- writes -------------------------------------------------------------------------------

    async def _volume_phase(self, pv: Message, phase: str, reason: str = "", message: str = "") -> Message | None:
        if pv.status.phase == phase and pv.status.message == message:
            return pv
        if reason:
            self.recorder.event(pv, WARNING, reason, message)
        status = copy_of(pv).status
        if status.phase != phase or phase == VOLUME_PENDING:
            status.last_phase_transition_time.CopyFrom(now_timestamp())
        status.phase, status.message = phase, message
        return await self.write_status(pv, status)

    async def _claim_status(self, pvc: Message, phase: str, pv: Message | None) -> Message | None:
        status = copy_of(pvc).status
        status.phase = phase
        if pv is not None:
            del status.access_modes[:]
            status.access_modes.extend(pv.spec.access_modes)
        if pv is not None and pvc.status.phase != phase:
            # Only as the claim becomes Bound: later the node reports what an expanded filesystem holds.
            status.capacity.clear()
            status.capacity.update(pv.spec.capacity)
        if status == pvc.status:
            return pvc
        return await self.write_status(pvc, status)

    async def _write(self, obj: Message) -> Message | None:
        try:
            return await self.client.update(obj)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.ABORTED:
                self.enqueue(obj)
                return None
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
