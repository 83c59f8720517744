"""The node's half of volume expansion (the kubelet's NodeExpandVolume): once a pod's local-path
volume has grown to its PersistentVolume's capacity (node/capacity.py, during volume setup), the claim
shows the new capacity and loses FileSystemResizePending, and the pod gets Kubernetes' event."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import grpc
from google.protobuf.message import Message

from control.client.client import Client
from control.client.events import EventRecorder
from control.client.informer import copy_of
from control.client.quantity import bytes_of
from control.client.volumeutil import STORAGE
from control.client.wellknown import remove_condition
from node import capacity

log = logging.getLogger(__name__)
FS_RESIZE_PENDING = "FileSystemResizePending"


def needs_finishing(pvc: Message, pv: Message) -> bool:
    """The volume is of the node's sizing and the claim does not yet show what the volume now holds."""
    if not capacity.is_sized(pv) or not os.path.exists(capacity.image_of(pv.spec.host_path.path)):
        return False
    pending = any(c.type == FS_RESIZE_PENDING for c in pvc.status.conditions)
    shown = bytes_of(pvc.status.capacity.get(STORAGE, "0"))
    return (pending or shown < bytes_of(pv.spec.capacity.get(STORAGE, "0"))) and \
        os.path.getsize(capacity.image_of(pv.spec.host_path.path)) >= capacity.wanted_bytes(pv)


async def finish_resizes(client: Client, recorder: EventRecorder, pod: Message,
                         claims: Mapping[str, tuple[Message, Message]]) -> None:
    """claims: volume name -> (claim, its PersistentVolume), as the pod's volumes were set up."""
    for pvc, pv in claims.values():
        if not needs_finishing(pvc, pv):
            continue
        updated = copy_of(pvc)
        updated.status.capacity[STORAGE] = pv.spec.capacity[STORAGE]
        remove_condition(updated.status, FS_RESIZE_PENDING)
        updated.status.allocated_resource_statuses.pop(STORAGE, None)
        try:
            await client.update_status(updated)
        except grpc.aio.AioRpcError as e:  # a stale claim: the next refresh tries again
            log.info("claim %s/%s: %s", pvc.metadata.namespace, pvc.metadata.name, e.details())
            continue
        recorder.event(pod, "Normal", "FileSystemResizeSuccessful",
                       f'MountVolume.NodeExpandVolume succeeded for volume "{pv.metadata.name}" '
                       f"{pod.spec.node_name}")
