"""A claim's data outlives its pod, on real containerd: the scheduler picks the node, the local-path
provisioner makes the volume there, the binder binds it, the agent mounts it; a replacement pod on the
same claim reads what the first one wrote, the claim's size is the filesystem's (100Mi do not fit in
64Mi), and deleting the claim deletes the volume and its data (reclaim Delete, through a helper pod on the
node); an expanded claim's filesystem grows (online where the kernel allows it, else at the next mount)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile

import pytest

from control.client.client import Client
from control.client.convert import from_dict
from control.client.kubeconfig import load_client_config
from control.scheduler.scheduler import Scheduler
from node.cri import CRI
from tests.fixtures.agent import agent_node, busybox, delete_and_wait, exec_in, wait_phase
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.controllers import running_controllers
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually

SUBNET = "10.124.0.0/24"


@pytest.fixture(scope="module")
def node_env(apiserver: ApiServer):
    with agent_node(apiserver, "skpv", SUBNET) as node:
        yield node


@contextlib.asynccontextmanager
async def running_scheduler(target: str):
    c = Client(target, config=load_client_config(session_pki().scheduler_config))
    s = Scheduler(c, bind_timeout=60)
    task = asyncio.create_task(s.run())
    try:
        yield s
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await c.close()


def claim_pod(name: str, script: str, claim: str = "notes") -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                      "spec": {"terminationGracePeriodSeconds": 1,
                               "containers": [busybox("main", script,
                                                      volumeMounts=[{"name": "data", "mountPath": "/data"}])],
                               "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}})


async def test_data_follows_the_claim_to_a_replacement_pod(apiserver, client, node_env):
    agent, ctrd = node_env
    root = tempfile.mkdtemp(prefix="skiff-local-path-")
    controllers = ["persistentvolume-binder", "pv-protection", "pvc-protection", "local-path-provisioner"]
    try:
        async with running_controllers(apiserver.target, controllers, {"local_path_root": root}), \
                running_scheduler(apiserver.target), CRI(ctrd.address) as cri:
            await eventually(lambda: has_class(client), what="the local-path StorageClass")
            await client.create(from_dict({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "notes"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}}))
            await client.create(claim_pod("writer", "echo written-by-writer > /data/note; sleep 3600"))
            writer = await wait_phase(client, "writer", "Running", timeout=60)
            assert writer.spec.node_name == agent.node_name
            claim = await client.get("PersistentVolumeClaim", "notes", "default")
            volume = await client.get("PersistentVolume", claim.spec.volume_name)
            assert volume.spec.host_path.path.startswith(root + "/")
            await eventually(lambda: note_written(volume.spec.host_path.path), what="the writer's note")
            await delete_and_wait(client, "writer")

            await client.create(claim_pod("reader", "sleep 3600"))
            reader = await wait_phase(client, "reader", "Running", timeout=60)
            assert await exec_in(cri, reader, "main", ["cat", "/data/note"]) == "written-by-writer\n"
            # capacity is real: the 64Mi claim is a 64Mi filesystem, 100Mi do not fit
            container = reader.status.container_statuses[0].container_id.removeprefix("containerd://")
            full = await cri.exec_sync(container, ["dd", "if=/dev/zero", "of=/data/big", "bs=1048576",
                                                   "count=100"], timeout=30)
            assert full.exit_code != 0 and b"No space left on device" in full.stderr
            assert os.path.ismount(volume.spec.host_path.path)
            await delete_and_wait(client, "reader")
            await eventually(lambda: unmounted(volume.spec.host_path.path),
                             what="the volume unmounted with its last pod")

            await client.delete("PersistentVolumeClaim", "notes", "default")
            await eventually(lambda: volume_gone(client, volume.metadata.name), timeout=60,
                             what="the volume deleted with its claim")
            # its data and filesystem image too, by a helper pod on the node
            assert not os.path.exists(volume.spec.host_path.path)
            assert not os.path.exists(volume.spec.host_path.path + ".img")
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def test_an_expanded_claim_grows_its_filesystem(apiserver, client, node_env):
    _agent, ctrd = node_env
    root = tempfile.mkdtemp(prefix="skiff-local-path-")
    controllers = ["persistentvolume-binder", "pv-protection", "pvc-protection", "local-path-provisioner",
                   "persistentvolume-expander"]
    try:
        async with running_controllers(apiserver.target, controllers, {"local_path_root": root}), \
                running_scheduler(apiserver.target), CRI(ctrd.address) as cri:
            await client.create(from_dict({
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "growable"},
                "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer",
                "allowVolumeExpansion": True}))
            await client.create(from_dict({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "grows"},
                "spec": {"storageClassName": "growable", "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "64Mi"}}}}))
            await client.create(claim_pod("grower", "sleep 3600", claim="grows"))
            pod = await wait_phase(client, "grower", "Running", timeout=60)
            container = pod.status.container_statuses[0].container_id.removeprefix("containerd://")
            write = ["dd", "if=/dev/zero", "of=/data/big", "bs=1048576", "count=100"]
            assert (await cri.exec_sync(container, write, timeout=30)).exit_code != 0
            await cri.exec_sync(container, ["rm", "-f", "/data/big"], timeout=10)

            claim = await client.get("PersistentVolumeClaim", "grows", "default")
            claim.spec.resources.requests["storage"] = "160Mi"
            await client.update(claim)

            async def volume_raised() -> bool:
                return (await client.get("PersistentVolume", claim.spec.volume_name)).spec.capacity["storage"] == \
                    "160Mi"
            await eventually(volume_raised, timeout=60, what="the volume raised to 160Mi by the expander")
            # Online growth where the kernel allows it; else (as here) at the next mount: the pod restarted.
            await delete_and_wait(client, "grower")
            await client.create(claim_pod("grower", "sleep 3600", claim="grows"))
            pod = await wait_phase(client, "grower", "Running", timeout=60)
            container = pod.status.container_statuses[0].container_id.removeprefix("containerd://")

            async def resized() -> bool:
                c = await client.get("PersistentVolumeClaim", "grows", "default")
                return c.status.capacity["storage"] == "160Mi" and \
                    not any(x.type == "FileSystemResizePending" for x in c.status.conditions)
            await eventually(resized, timeout=90, what="the claim showing 160Mi, its filesystem grown on the node")
            grown = await cri.exec_sync(container, write, timeout=30)
            assert grown.exit_code == 0, grown.stderr

            async def resize_event() -> bool:
                events, _ = await client.list_all("Event", "default")
                return any(e.reason == "FileSystemResizeSuccessful" and e.involved_object.name == "grower"
                           for e in events)
            await eventually(resize_event, timeout=30, what="the FileSystemResizeSuccessful event")
            await delete_and_wait(client, "grower")
            await client.delete("PersistentVolumeClaim", "grows", "default")
            await eventually(lambda: volume_gone(client, claim.spec.volume_name), timeout=60,
                             what="the volume deleted with its claim")
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def has_class(client: Client) -> bool:
    return bool((await client.get("StorageClass", "local-path")).provisioner)


async def note_written(path: str) -> bool:
    return os.path.exists(os.path.join(path, "note"))


async def unmounted(path: str) -> bool:
    return not os.path.ismount(path)


async def volume_gone(client: Client, name: str) -> bool:
    items, _ = await client.list_all("PersistentVolume")
    return all(v.metadata.name != name for v in items)
