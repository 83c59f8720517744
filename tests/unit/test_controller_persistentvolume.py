"""The persistent-volume binder and the protection controllers on the fake client."""

from __future__ import annotations

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.persistentvolume import PersistentVolumeBinder
from control.controllers.pvcprotection import PVCProtectionController
from control.controllers.pvprotection import PVProtectionController
from tests.fixtures.storage import pv, pvc, sc


async def state(run, claim: str = "data"):
    c = await run.client.get("PersistentVolumeClaim", claim, "default")
    return c


async def bind(run, claim: str = "data"):
    """Syncs the claim, then every volume, then the claim again (what the queue would do)."""
    await run.reconcile(f"default/{claim}")
    for v in run.client.objects("PersistentVolume"):
        await run.reconcile(v.metadata.name)
    await run.reconcile(f"default/{claim}")
    return await state(run, claim)


async def test_binds_the_smallest_sufficient_volume_and_marks_both_sides() -> None:
    async with on_fake(PersistentVolumeBinder, pv("big", "10Gi"), pv("small", "1Gi"), pv("tiny", "100Mi"),
                       pv("rox", "1Gi", modes=("ReadOnlyMany",)), pvc("data", "500Mi")) as run:
        claim = await bind(run)
        assert claim.spec.volume_name == "small"
        assert claim.status.phase == "Bound"
        assert dict(claim.status.capacity) == {"storage": "1Gi"} and list(claim.status.access_modes) == [
            "ReadWriteOnce"]
        assert claim.metadata.annotations["pv.kubernetes.io/bind-completed"] == "yes"
        assert claim.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
        volume = await run.client.get("PersistentVolume", "small")
        assert volume.status.phase == "Bound"
        assert (volume.spec.claim_ref.namespace, volume.spec.claim_ref.name) == ("default", "data")
        assert volume.spec.claim_ref.uid == claim.metadata.uid
        assert volume.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
        assert (await run.client.get("PersistentVolume", "big")).status.phase == "Available"


async def test_class_selector_and_access_modes_must_match() -> None:
    async with on_fake(PersistentVolumeBinder, pv("fast", cls="fast"), pv("blue", labels={"color": "blue"}),
                       pv("red", labels={"color": "red"}), pvc("data", selector={"color": "red"}),
                       pvc("rwx", modes=("ReadWriteMany",)), sc("fast")) as run:
        assert (await bind(run)).spec.volume_name == "red"
        rwx = await bind(run, "rwx")
        assert rwx.status.phase == "Pending" and not rwx.spec.volume_name
        assert ("Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class "
                "is set") in await run.events()


async def test_a_volume_prebound_to_a_claim_goes_to_it_and_a_prebound_claim_to_its_volume() -> None:
    ref = {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "mine"}
    async with on_fake(PersistentVolumeBinder, pv("reserved", "5Gi", claim_ref=ref), pv("free", "1Gi"),
                       pvc("mine", "1Gi"), pvc("named", "1Gi", volume="free"), pvc("other", "1Gi")) as run:
        assert (await bind(run, "mine")).spec.volume_name == "reserved"
        named = await bind(run, "named")
        assert named.spec.volume_name == "free" and named.status.phase == "Bound"
        assert "pv.kubernetes.io/bound-by-controller" not in named.metadata.annotations
        other = await bind(run, "other")
        assert other.status.phase == "Pending"


async def test_a_prebound_claim_to_a_too_small_volume_waits_with_an_event() -> None:
    async with on_fake(PersistentVolumeBinder, pv("small", "1Gi"), pvc("data", "2Gi", volume="small")) as run:
        assert (await bind(run)).status.phase == "Pending"
        assert ("Warning", "VolumeMismatch", 'Cannot bind to requested volume "small": requested PV is too small') \
            in await run.events()


async def test_wait_for_first_consumer_and_provisioning() -> None:
    async with on_fake(PersistentVolumeBinder, sc("local", "WaitForFirstConsumer", provisioner="skiff.io/local-path"),
                       sc("cloud"), pv("static", cls="local"), pvc("data", cls="local"),
                       pvc("dyn", cls="cloud")) as run:
        claim = await bind(run)
        assert claim.status.phase == "Pending" and not claim.spec.volume_name  # left to the scheduler
        assert ("Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding") \
            in await run.events()
        claim.metadata.annotations["volume.kubernetes.io/selected-node"] = "node-1"
        await run.client.update(claim)
        claim = await bind(run)
        assert claim.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == "skiff.io/local-path"
        dyn = await bind(run, "dyn")
        assert dyn.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == "example.com/x"
        assert any(r == "ExternalProvisioning" and "'example.com/x'" in m for _, r, m in await run.events())


async def test_a_claim_without_class_gets_the_default_class_retroactively() -> None:
    async with on_fake(PersistentVolumeBinder, pvc("data", cls=None), sc("old", default=True)) as run:
        await run.reconcile("default/data")
        assert (await state(run)).spec.storage_class_name == "old"


async def test_released_volumes_are_kept_or_fail_to_delete_and_claims_lose_them() -> None:
    ref = {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "gone", "uid": "123"}
    async with on_fake(PersistentVolumeBinder, pv("keep", claim_ref=ref, phase="Bound"),
                       pv("drop", claim_ref=dict(ref, name="gone2"), phase="Bound", policy="Delete"),
                       pvc("data", volume="vanished",
                           annotations={"pv.kubernetes.io/bind-completed": "yes"})) as run:
        await run.reconcile("keep")
        assert (await run.client.get("PersistentVolume", "keep")).status.phase == "Released"
        await run.reconcile("drop")
        await run.reconcile("drop")
        drop = await run.client.get("PersistentVolume", "drop")
        assert drop.status.phase == "Failed" and "no deletable volume plugin matched" in drop.status.message
        await run.reconcile("default/data")
        assert (await state(run)).status.phase == "Lost"
        assert ("Warning", "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!") \
            in await run.events()


async def test_a_released_claim_makes_its_volume_released() -> None:
    async with on_fake(PersistentVolumeBinder, pv("v1"), pvc("data")) as run:
        await bind(run)
        await run.client.delete("PersistentVolumeClaim", "data", "default")
        await run.reconcile("v1")
        assert (await run.client.get("PersistentVolume", "v1")).status.phase == "Released"


def pod(name: str, claim: str, phase: str = "Running"):
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                      "spec": {"containers": [{"name": "c", "image": "busybox"}],
                               "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]},
                      "status": {"phase": phase}})


async def test_pvc_protection_keeps_a_claim_in_use_until_its_pod_is_gone() -> None:
    claim = pvc("data")
    async with on_fake(PVCProtectionController, claim, pod("user", "data"), pod("done", "data", "Succeeded")) as run:
        await run.reconcile("default/data")
        assert list((await state(run)).metadata.finalizers) == ["kubernetes.io/pvc-protection"]
        await run.client.delete("PersistentVolumeClaim", "data", "default")
        await run.reconcile("default/data")
        assert (await state(run)).metadata.HasField("deletion_timestamp")  # still used by "user"
        await run.client.delete("Pod", "user", "default")
        await run.reconcile("default/data")
        assert run.client.objects("PersistentVolumeClaim", "default") == []


async def test_pv_protection_keeps_a_bound_volume() -> None:
    async with on_fake(PVProtectionController, pv("v1", phase="Bound")) as run:
        await run.reconcile("v1")
        await run.client.delete("PersistentVolume", "v1")
        await run.reconcile("v1")
        volume = await run.client.get("PersistentVolume", "v1")
        assert volume.metadata.HasField("deletion_timestamp")
        volume.status.phase = "Released"
        await run.client.update_status(volume)
        await run.reconcile("v1")
        assert run.client.objects("PersistentVolume") == []


async def test_local_path_provisions_a_volume_on_the_selected_node_and_deletes_it_when_released() -> None:
    from control.controllers.localpath import LocalPathProvisioner, default_storage_class
    from control.scheduler.testing import make_node

    claim = pvc("data", cls="local-path", annotations={
        "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path",
        "volume.kubernetes.io/selected-node": "node-2"})
    async with on_fake(LocalPathProvisioner, default_storage_class(), make_node("node-2"), claim,
                       pvc("other", cls="local-path"), local_path_root="/srv/vols") as run:
        await run.controller.ensure_storage_class()  # already there: no error
        await run.reconcile("default/other")
        assert run.client.objects("PersistentVolume") == []  # no node chosen yet
        await run.reconcile("default/data")
        [volume] = run.client.objects("PersistentVolume")
        uid = (await state(run)).metadata.uid
        assert volume.metadata.name == f"pvc-{uid}"
        assert volume.metadata.annotations["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"
        assert volume.spec.host_path.path == f"/srv/vols/pvc-{uid}_default_data"
        assert volume.spec.host_path.type == "DirectoryOrCreate"
        assert (volume.spec.claim_ref.name, volume.spec.claim_ref.uid) == ("data", uid)
        term = volume.spec.node_affinity.required.node_selector_terms[0].match_expressions[0]
        assert (term.key, term.operator, list(term.values)) == ("kubernetes.io/hostname", "In", ["node-2"])
        assert (dict(volume.spec.capacity), volume.spec.persistent_volume_reclaim_policy,
                volume.spec.storage_class_name) == ({"storage": "1Gi"}, "Delete", "local-path")
        assert volume.metadata.annotations["local.path.provisioner/selected-node"] == "node-2"
        volume.status.phase = "Released"
        await run.client.update_status(volume)
        await run.reconcile(volume.metadata.name)
        [helper] = run.client.objects("Pod", "kube-system")  # the data goes first, on its node
        assert (helper.spec.node_name, helper.spec.restart_policy) == ("node-2", "Never")
        assert list(helper.spec.containers[0].command) == ["rm", "-rf", f"/data/pvc-{uid}_default_data",
                                                           f"/data/pvc-{uid}_default_data.img"]
        assert helper.spec.volumes[0].host_path.path == "/srv/vols"
        assert helper.spec.containers[0].image == "localhost:5000/busybox:1"
        assert run.client.objects("PersistentVolume") != []
        helper.status.phase = "Succeeded"
        await run.client.update_status(helper)
        await run.reconcile(volume.metadata.name)
        assert run.client.objects("PersistentVolume") == []
        assert run.client.objects("Pod", "kube-system") == []


async def test_local_path_makes_its_default_class() -> None:
    from control.controllers.localpath import LocalPathProvisioner

    async with on_fake(LocalPathProvisioner) as run:
        await run.controller.ensure_storage_class()
        [cls] = run.client.objects("StorageClass")
        assert (cls.metadata.name, cls.provisioner, cls.volume_binding_mode, cls.reclaim_policy) == (
            "local-path", "rancher.io/local-path", "WaitForFirstConsumer", "Delete")
        assert cls.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true"


async def test_ephemeral_volumes_get_claims_owned_by_their_pod() -> None:
    from control.controllers.ephemeral import EphemeralVolumeController

    eph = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}],
                              "volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
                                  "metadata": {"labels": {"type": "scratch"}},
                                  "spec": {"accessModes": ["ReadWriteOnce"],
                                           "resources": {"requests": {"storage": "1Gi"}}}}}}]}})
    async with on_fake(EphemeralVolumeController, eph, pvc("q-scratch")) as run:
        await run.reconcile("default/p")
        claim = await run.client.get("PersistentVolumeClaim", "p-scratch", "default")
        owner = claim.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.controller) == ("Pod", "p", True)
        assert dict(claim.metadata.labels) == {"type": "scratch"} and claim.spec.resources.requests["storage"] == "1Gi"
        other = await run.client.get("Pod", "p", "default")
        other.metadata.name = "q"
        other.metadata.uid = "other"
        await run.client.create(other)
        await run.reconcile("default/q")
        assert any(r == "FailedBinding" and "(pod is not owner)" in m for _, r, m in await run.events())
