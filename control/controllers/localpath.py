"""The built-in local provisioner (as k3s ships rancher's local-path-provisioner): the default
StorageClass `local-path` (WaitForFirstConsumer, reclaim Delete), made at start when missing; for
each claim handed to it (`volume.kubernetes.io/storage-provisioner`) with the node the scheduler
chose (`volume.kubernetes.io/selected-node`) it creates a PersistentVolume pre-bound to the claim: a
hostPath directory (DirectoryOrCreate, made by that node's agent) with required node affinity to
that node. A released volume of its own with reclaim policy Delete is deleted: first its directory, by a
helper pod on its node (control/controllers/localpath_helper.py), then the PersistentVolume."""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, option
from control.client.events import NORMAL, WARNING
from control.client.kinds import KINDS
from control.client.volumeutil import (
    RECLAIM_DELETE,
    STORAGE,
    VOLUME_RELEASED,
    WAIT_FOR_FIRST_CONSUMER,
    claim_class,
)
from control.client.wellknown import (
    ANNOTATION_DEFAULT_STORAGE_CLASS,
    ANNOTATION_PROVISIONED_BY,
    ANNOTATION_SELECTED_NODE,
    ANNOTATION_STORAGE_PROVISIONER,
    LABEL_HOSTNAME,
    NAMESPACE_SYSTEM,
    POD_FAILED,
    POD_SUCCEEDED,
)
from control.controllers.localpath_helper import (
    DEFAULT_HELPER_IMAGE,
    HELPER_LABEL,
    SELECTED_NODE,
    delete_helper,
    helper_key,
)
from skiff.v1 import core_pb2, meta_pb2, storage_pb2

log = logging.getLogger(__name__)
PROVISIONER = "rancher.io/local-path"
CLASS_NAME = "local-path"


@dataclass(frozen=True)
class LocalPathOptions:
    local_path_root: str = option("/var/lib/skiff/storage", "the directory on each node holding local-path volumes")
    local_path_helper_image: str = option(DEFAULT_HELPER_IMAGE, "the image of the pods that remove a deleted "
                                          "local-path volume's directory on its node")


def default_storage_class() -> storage_pb2.StorageClass:
    return KINDS["StorageClass"].new(
        metadata=meta_pb2.ObjectMeta(name=CLASS_NAME, annotations={ANNOTATION_DEFAULT_STORAGE_CLASS: "true"}),
        provisioner=PROVISIONER, reclaim_policy=RECLAIM_DELETE, volume_binding_mode=WAIT_FOR_FIRST_CONSUMER)


def volume_for(pvc: Message, sc: Message, node: Message | None, node_name: str, root: str) -> Message:
    """The PersistentVolume for a claim on a node: named pvc-<claim uid>, as external provisioners name them."""
    meta = pvc.metadata
    name = f"pvc-{meta.uid}"
    hostname = node.metadata.labels.get(LABEL_HOSTNAME, node_name) if node is not None else node_name
    affinity = core_pb2.VolumeNodeAffinity(required=core_pb2.NodeSelector(node_selector_terms=[
        core_pb2.NodeSelectorTerm(match_expressions=[
            core_pb2.NodeSelectorRequirement(key=LABEL_HOSTNAME, operator="In", values=[hostname])])]))
    spec = core_pb2.PersistentVolumeSpec(
        capacity={STORAGE: pvc.spec.resources.requests[STORAGE]}, access_modes=list(pvc.spec.access_modes),
        persistent_volume_reclaim_policy=sc.reclaim_policy or RECLAIM_DELETE, storage_class_name=sc.metadata.name,
        volume_mode=pvc.spec.volume_mode or "Filesystem", node_affinity=affinity,
        host_path=core_pb2.HostPathVolumeSource(
            path=posixpath.join(root, f"{name}_{meta.namespace}_{meta.name}"), type="DirectoryOrCreate"),
        claim_ref=meta_pb2.ObjectReference(kind="PersistentVolumeClaim", namespace=meta.namespace, name=meta.name,
                                           uid=meta.uid, api_version="v1", resource_version=meta.resource_version))
    annotations = {ANNOTATION_PROVISIONED_BY: PROVISIONER, SELECTED_NODE: node_name}
    return KINDS["PersistentVolume"].new(metadata=meta_pb2.ObjectMeta(name=name, annotations=annotations), spec=spec)


class LocalPathProvisioner(Controller):
    name = "local-path-provisioner"
    Options = LocalPathOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 1)
        self.root = ctx.options.local_path_root
        self.helper_image = ctx.options.local_path_helper_image
        self.claims = ctx.informers.get("PersistentVolumeClaim")
        self.volumes = ctx.informers.get("PersistentVolume")
        self.classes = ctx.informers.get("StorageClass")
        self.nodes = ctx.informers.get("Node")
        self.claims.add_handler(**self.enqueue_handlers())
        self.volumes.add_handler(**self.enqueue_handlers())
        self.pods = ctx.informers.get("Pod")
        self.pods.add_handler(self._helper_changed, lambda _old, new: self._helper_changed(new), self._helper_changed)

    def _helper_changed(self, pod: Message) -> None:
        volume = pod.metadata.labels.get(HELPER_LABEL)
        if volume and pod.metadata.namespace == NAMESPACE_SYSTEM:
            self.queue.add(volume)

    async def run(self) -> None:
        await self.ensure_storage_class()
        await super().run()

    async def ensure_storage_class(self) -> None:
        try:
            await self.client.create(default_storage_class())
            log.info("created the default StorageClass %s", CLASS_NAME)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise

    async def reconcile(self, key: str) -> None:
        if "/" in key:
            pvc = self.claims.store.get(key)
            if pvc is not None:
                await self._provision(pvc)
        else:
            pv = self.volumes.store.get(key)
            if pv is not None:
                await self._reclaim(pv)

    async def _provision(self, pvc: Message) -> None:
        annotations = pvc.metadata.annotations
        node_name = annotations.get(ANNOTATION_SELECTED_NODE, "")
        if pvc.spec.volume_name or pvc.metadata.HasField("deletion_timestamp") or not node_name or \
                annotations.get(ANNOTATION_STORAGE_PROVISIONER) != PROVISIONER:
            return
        sc = self.classes.store.get(claim_class(pvc))
        if sc is None or sc.provisioner != PROVISIONER:
            return
        pv = volume_for(pvc, sc, self.nodes.store.get(node_name), node_name, self.root)
        if self.volumes.store.get(pv.metadata.name) is not None:
            return
        try:
            await self.client.create(pv)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
            return
        self.recorder.event(pvc, NORMAL, "ProvisioningSucceeded",
                            f'Successfully provisioned volume {pv.metadata.name}')

    async def _reclaim(self, pv: Message) -> None:
        if pv.metadata.annotations.get(ANNOTATION_PROVISIONED_BY) != PROVISIONER or \
                pv.status.phase != VOLUME_RELEASED or pv.spec.persistent_volume_reclaim_policy != RECLAIM_DELETE or \
                pv.metadata.HasField("deletion_timestamp"):
            return
        if SELECTED_NODE in pv.metadata.annotations and pv.spec.HasField("host_path"):
            if not await self._data_removed(pv):
                return
        await self._delete("PersistentVolume", pv.metadata.name)

    async def _data_removed(self, pv: Message) -> bool:
        """Runs the helper pod that removes the volume's directory; True once it has succeeded."""
        helper = self.pods.store.get(helper_key(pv))
        if helper is None:
            try:
                await self.client.create(delete_helper(pv, self.helper_image))
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                    raise
            return False
        if helper.status.phase not in (POD_SUCCEEDED, POD_FAILED) or helper.metadata.HasField("deletion_timestamp"):
            return False
        await self._delete("Pod", helper.metadata.name, helper.metadata.namespace)
        if helper.status.phase == POD_FAILED:
            self.recorder.event(pv, WARNING, "VolumeFailedDelete",
                                f"failed to delete volume {pv.metadata.name}: the helper pod failed")
            return False
        return True

    async def _delete(self, kind: str, name: str, namespace: str = "") -> None:
        try:
            await self.client.delete(kind, name, namespace, grace_period_seconds=0 if kind == "Pod" else None)
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
