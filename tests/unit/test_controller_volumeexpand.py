"""The persistentvolume-expander on the fake client: a bound claim of an expandable class asking for
more gets its volume's capacity raised and waits for the node (FileSystemResizePending); anything
else is left alone."""

from __future__ import annotations

from control.client.testing import on_fake
from control.controllers.volumeexpand import FS_RESIZE_PENDING, VolumeExpandController
from tests.fixtures.storage import pv, pvc, sc

LOCAL_PATH = {"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"}


def expandable_class(allow: bool = True):
    cls = sc("local-path", "WaitForFirstConsumer", provisioner="rancher.io/local-path")
    cls.allow_volume_expansion = allow
    return cls


def bound_claim(size: str, has: str = "64Mi"):
    claim = pvc("data", size, cls="local-path", volume="pvc-1")
    claim.status.phase = "Bound"
    claim.status.capacity["storage"] = has
    return claim


async def test_a_larger_request_grows_the_volume_and_waits_for_the_node() -> None:
    volume = pv("pvc-1", "64Mi", cls="local-path", phase="Bound", annotations=LOCAL_PATH)
    async with on_fake(VolumeExpandController, volume, bound_claim("128Mi"), expandable_class()) as run:
        await run.reconcile("default/data")
        assert (await run.client.get("PersistentVolume", "pvc-1")).spec.capacity["storage"] == "128Mi"
        claim = await run.client.get("PersistentVolumeClaim", "data", "default")
        [cond] = [c for c in claim.status.conditions if c.type == FS_RESIZE_PENDING]
        assert cond.status == "True" and "finish file system resize" in cond.message
        assert claim.status.allocated_resources["storage"] == "128Mi"
        assert claim.status.allocated_resource_statuses["storage"] == "NodeResizePending"
        assert claim.status.capacity["storage"] == "64Mi"  # the node's to raise
        reasons = [e.reason for e in run.client.objects("Event")]
        assert "Resizing" in reasons and "FileSystemResizeRequired" in reasons
        before = claim.metadata.resource_version
        await run.reconcile("default/data")  # nothing more to do
        assert (await run.client.get("PersistentVolumeClaim", "data", "default")).metadata.resource_version == before


async def test_claims_it_cannot_expand_are_left_alone() -> None:
    volume = pv("pvc-1", "64Mi", cls="local-path", phase="Bound", annotations=LOCAL_PATH)
    async with on_fake(VolumeExpandController, volume, bound_claim("128Mi"), expandable_class(allow=False)) as run:
        await run.reconcile("default/data")
        assert (await run.client.get("PersistentVolume", "pvc-1")).spec.capacity["storage"] == "64Mi"
    foreign = pv("pvc-1", "64Mi", cls="local-path", phase="Bound")  # not made by the local provisioner
    async with on_fake(VolumeExpandController, foreign, bound_claim("128Mi"), expandable_class()) as run:
        await run.reconcile("default/data")
        assert (await run.client.get("PersistentVolume", "pvc-1")).spec.capacity["storage"] == "64Mi"
    volume = pv("pvc-1", "64Mi", cls="local-path", phase="Bound", annotations=LOCAL_PATH)
    async with on_fake(VolumeExpandController, volume, bound_claim("64Mi"), expandable_class()) as run:
        await run.reconcile("default/data")
        claim = await run.client.get("PersistentVolumeClaim", "data", "default")
        assert not claim.status.conditions
