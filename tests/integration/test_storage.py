"""Storage against a real etcd + apiserver: the persistent-volume binder, the protection controllers,
the local-path provisioner and the scheduler's VolumeBinding, with hollow nodes (Node objects only)."""

from __future__ import annotations

import asyncio
import contextlib

import grpc

from control.client.client import Client
from control.client.convert import from_dict
from control.client.kubeconfig import load_client_config
from control.client.wellknown import get_condition
from control.scheduler.scheduler import Scheduler
from control.scheduler.testing import make_node
from tests.fixtures.controllers import running_controllers
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually

BINDER = ["persistentvolume-binder", "pv-protection", "pvc-protection"]


def pv(name: str, size: str, cls: str = "manual", policy: str = "Retain") -> object:
    return from_dict({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
                      "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                               "storageClassName": cls, "persistentVolumeReclaimPolicy": policy,
                               "hostPath": {"path": f"/tmp/skiff-test/{name}"}}})


def pvc(name: str, size: str, cls: str | None = "manual", namespace: str = "default") -> object:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return from_dict({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                      "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def pod(name: str, claim: str) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                      "spec": {"containers": [{"name": "c", "image": "busybox:1",
                                               "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                               "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}})


def storage_class(name: str, mode: str = "Immediate", provisioner: str = "kubernetes.io/no-provisioner"):
    return from_dict({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                      "provisioner": provisioner, "volumeBindingMode": mode})


async def gone(client: Client, kind: str, name: str, namespace: str = "") -> bool:
    try:
        await client.get(kind, name, namespace)
        return False
    except grpc.aio.AioRpcError as e:
        return e.code() == grpc.StatusCode.NOT_FOUND


async def terminating(client: Client, kind: str, name: str, namespace: str = "") -> bool:
    return (await client.get(kind, name, namespace)).metadata.HasField("deletion_timestamp")


async def phase_is(client: Client, kind: str, name: str, phase: str, namespace: str = "") -> bool:
    return (await client.get(kind, name, namespace)).status.phase == phase


@contextlib.asynccontextmanager
async def running_scheduler(target: str):
    c = Client(target, config=load_client_config(session_pki().scheduler_config))
    s = Scheduler(c, bind_timeout=30)
    task = asyncio.create_task(s.run())
    try:
        await asyncio.wait_for(s.wait_synced(), 10)
        yield s
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await c.close()


async def test_static_binding_phases_protection_and_retain(apiserver, client):
    await client.create(storage_class("manual"))
    for name, size in (("pv-big", "5Gi"), ("pv-small", "1Gi"), ("pv-tiny", "100Mi")):
        await client.create(pv(name, size))
    created = await client.get("PersistentVolume", "pv-small")
    assert created.status.phase == "Pending" and list(created.metadata.finalizers) == ["kubernetes.io/pv-protection"]
    async with running_controllers(apiserver.target, BINDER):
        await eventually(lambda: phase_is(client, "PersistentVolume", "pv-big", "Available"), what="Available")
        claim = await client.create(pvc("data", "500Mi"))
        assert list(claim.metadata.finalizers) == ["kubernetes.io/pvc-protection"]
        await eventually(lambda: phase_is(client, "PersistentVolumeClaim", "data", "Bound", "default"), what="Bound")
        claim = await client.get("PersistentVolumeClaim", "data", "default")
        volume = await client.get("PersistentVolume", "pv-small")
        assert claim.spec.volume_name == "pv-small" and dict(claim.status.capacity) == {"storage": "1Gi"}
        assert claim.metadata.annotations["pv.kubernetes.io/bind-completed"] == "yes"
        assert volume.status.phase == "Bound" and volume.spec.claim_ref.uid == claim.metadata.uid

        user = await client.create(pod("user", "data"))
        await client.bind("default", user.metadata.name, "n1")
        await client.delete("PersistentVolumeClaim", "data", "default")
        await client.delete("PersistentVolume", "pv-small")  # a bound volume can't go either
        await eventually(lambda: terminating(client, "PersistentVolumeClaim", "data", "default"), what="Terminating")
        assert await terminating(client, "PersistentVolume", "pv-small")
        await client.delete("Pod", "user", "default", grace_period_seconds=0)
        await eventually(lambda: gone(client, "PersistentVolumeClaim", "data", "default"), what="claim gone")
        await eventually(lambda: gone(client, "PersistentVolume", "pv-small"), what="released volume deleted")

        await client.create(pv("pv-delete", "1Gi", policy="Delete"))
        await client.create(pvc("temp", "1Gi"))
        await eventually(lambda: phase_is(client, "PersistentVolumeClaim", "temp", "Bound", "default"), what="bound")
        bound_to = (await client.get("PersistentVolumeClaim", "temp", "default")).spec.volume_name
        await client.delete("PersistentVolumeClaim", "temp", "default")
        await eventually(lambda: phase_is(client, "PersistentVolume", bound_to, "Released" if bound_to != "pv-delete"
                                          else "Failed"), what="reclaimed")


async def test_wait_for_first_consumer_provisions_on_the_scheduled_node(apiserver, client):
    for name in ("n1", "n2", "n3"):
        await client.create(make_node(name))
    controllers = BINDER + ["local-path-provisioner"]
    async with running_controllers(apiserver.target, controllers), running_scheduler(apiserver.target):
        await eventually(lambda: phase_is_class(client), what="the local-path StorageClass")
        claim = await client.create(pvc("web-data", "64Mi", cls=None))
        assert claim.spec.storage_class_name == "local-path"  # the default class
        await asyncio.sleep(0.5)  # a WaitForFirstConsumer claim stays Pending without a pod
        claim = await client.get("PersistentVolumeClaim", "web-data", "default")
        assert claim.status.phase == "Pending" and not claim.spec.volume_name

        await client.create(pod("web", "web-data"))

        async def scheduled() -> bool:
            return bool((await client.get("Pod", "web", "default")).spec.node_name)

        await eventually(scheduled, timeout=20, what="the pod bound to a node")
        node = (await client.get("Pod", "web", "default")).spec.node_name
        claim = await client.get("PersistentVolumeClaim", "web-data", "default")
        assert claim.status.phase == "Bound"
        assert claim.metadata.annotations["volume.kubernetes.io/selected-node"] == node
        assert claim.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == "rancher.io/local-path"
        volume = await client.get("PersistentVolume", claim.spec.volume_name)
        term = volume.spec.node_affinity.required.node_selector_terms[0].match_expressions[0]
        assert list(term.values) == [node] and volume.spec.host_path.type == "DirectoryOrCreate"

        # a second pod of the same claim goes to the same node, by the volume's node affinity
        await client.create(pod("web-2", "web-data"))

        async def second() -> bool:
            return (await client.get("Pod", "web-2", "default")).spec.node_name == node

        await eventually(second, timeout=20, what="the second pod on the volume's node")
        for name in ("web", "web-2"):
            await client.delete("Pod", name, "default", grace_period_seconds=0)
        await client.delete("PersistentVolumeClaim", "web-data", "default")
        helper = f"helper-pod-delete-{volume.metadata.name}"

        async def helper_on_node() -> bool:
            return (await client.get("Pod", helper, "kube-system")).spec.node_name == node

        await eventually(helper_on_node, timeout=20, what="the helper pod removing the volume's data")
        finished = await client.get("Pod", helper, "kube-system")
        finished.status.phase = "Succeeded"  # what the node's agent would report
        await client.update_status(finished)
        await eventually(lambda: gone(client, "PersistentVolume", volume.metadata.name), timeout=20,
                         what="the provisioned volume deleted (reclaim Delete)")


async def test_an_ephemeral_volume_gets_a_claim_provisioned_with_its_pod(apiserver, client):
    await client.create(make_node("e1"))
    controllers = BINDER + ["local-path-provisioner", "ephemeral-volume"]
    async with running_controllers(apiserver.target, controllers), running_scheduler(apiserver.target):
        await eventually(lambda: phase_is_class(client), what="the local-path StorageClass")
        scratch = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "eph", "namespace": "default"},
                             "spec": {"containers": [{"name": "c", "image": "busybox:1"}],
                                      "volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
                                          "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-path",
                                                   "resources": {"requests": {"storage": "16Mi"}}}}}}]}})
        created = await client.create(scratch)

        async def scheduled() -> bool:
            return bool((await client.get("Pod", "eph", "default")).spec.node_name)

        await eventually(scheduled, timeout=20, what="the pod with an ephemeral volume scheduled")
        claim = await client.get("PersistentVolumeClaim", "eph-scratch", "default")
        assert claim.status.phase == "Bound"
        assert claim.metadata.owner_references[0].uid == created.metadata.uid


async def test_a_statefulsets_claim_is_provisioned_on_its_pods_node(apiserver, client):
    await client.create(make_node("s1"))
    controllers = BINDER + ["local-path-provisioner", "statefulset"]
    async with running_controllers(apiserver.target, controllers), running_scheduler(apiserver.target):
        await eventually(lambda: phase_is_class(client), what="the local-path StorageClass")
        await client.create(from_dict({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "default"},
            "spec": {"serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox:1",
                                                           "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "32Mi"}}}}]}}))

        async def scheduled() -> bool:
            return bool((await client.get("Pod", "db-0", "default")).spec.node_name)

        await eventually(scheduled, timeout=30, what="the StatefulSet's pod scheduled")
        node = (await client.get("Pod", "db-0", "default")).spec.node_name
        claim = await client.get("PersistentVolumeClaim", "data-db-0", "default")
        assert claim.status.phase == "Bound" and claim.spec.storage_class_name == "local-path"
        volume = await client.get("PersistentVolume", claim.spec.volume_name)
        assert list(volume.spec.node_affinity.required.node_selector_terms[0].match_expressions[0].values) == [node]


async def phase_is_class(client: Client) -> bool:
    return (await client.get("StorageClass", "local-path")).provisioner == "rancher.io/local-path"


async def test_pending_pods_get_volume_reasons(apiserver, client):
    await client.create(storage_class("instant"))
    async with running_scheduler(apiserver.target):
        await client.create(pvc("nothing", "1Gi", cls="instant"))
        await client.create(pod("waiting", "nothing"))

        async def reason() -> str:
            cond = get_condition((await client.get("Pod", "waiting", "default")).status, "PodScheduled")
            return cond.message if cond is not None else ""

        async def unbound() -> bool:
            return "pod has unbound immediate PersistentVolumeClaims" in await reason()

        await eventually(unbound, timeout=10, what="the unbound-claim reason")


async def test_get_and_describe_like_kubectl(apiserver, client, tmp_path):
    from tests.fixtures.skiffctl import run_skiffctl, skiffctl_env

    env = skiffctl_env(apiserver.target, tmp_path)
    cls = storage_class("slow", "WaitForFirstConsumer", "example.com/slow")
    cls.metadata.annotations["storageclass.kubernetes.io/is-default-class"] = "true"
    await client.create(cls)
    await client.create(pv("described", "2Gi", cls="slow"))
    await client.create(pvc("asked", "1Gi", cls=None, namespace="default"))
    await client.create(pod("holder", "asked"))
    got = await run_skiffctl(env, "get", "sc", "slow")
    assert "slow (default)   example.com/slow   Delete          WaitForFirstConsumer   false" in got.out
    got = await run_skiffctl(env, "get", "pvc", "asked")
    assert got.out.splitlines()[0].split() == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES",
                                               "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert got.out.splitlines()[1].split()[:4] == ["asked", "Pending", "slow", "<unset>"]
    result = await run_skiffctl(env, "describe", "pv", "described")
    assert result.code == 0, result.err
    described = result.out
    for line in ("Finalizers: [kubernetes.io/pv-protection]", "StorageClass: slow",
                 "Reclaim Policy: Retain", "Access Modes: RWO", "VolumeMode: Filesystem",
                 "Capacity: 2Gi", "Node Affinity: <none>",
                 "Type: HostPath (bare host directory volume)", "Path: /tmp/skiff-test/described"):
        assert line in " ".join(described.split()), described
    described = (await run_skiffctl(env, "describe", "pvc", "asked")).out
    for line in ("StorageClass: slow", "Status: Pending", "Finalizers: [kubernetes.io/pvc-protection]",
                 "Used By: holder"):
        assert line in " ".join(described.split()), described
    described = (await run_skiffctl(env, "describe", "sc", "slow")).out
    for line in ("IsDefaultClass: Yes", "Provisioner: example.com/slow",
                 "AllowVolumeExpansion: <unset>", "VolumeBindingMode: WaitForFirstConsumer"):
        assert line in " ".join(described.split()), described
