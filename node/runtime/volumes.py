"""The pod's volumes (the kubelet's volume manager): set up before the sandbox, kept up to date,
torn down with the pod. The disk work per volume type is node/volumes.py's."""

from __future__ import annotations

import time
from collections.abc import Mapping

from control.client.client import Client
from control.client.events import EventRecorder
from control.client.volumeutil import CLAIM_BOUND
from node import volumes
from node.claims import claim_name
from node.downwardapi import uses_pod_metadata
from node.objects import get_objects
from node.podworkers import PodWorker
from node.runtime.expansion import finish_resizes
from node.tokens import TokenError, TokenManager, token_key, token_sources
from skiff.v1 import pod_pb2

VOLUME_REFRESH_PERIOD = 10.0


class VolumeManager:
    def __init__(self, client: Client, root_dir: str, recorder: EventRecorder,
                 allocatable: Mapping[str, str] | None = None) -> None:
        self.client = client
        self.root_dir = root_dir
        self.recorder = recorder
        self.allocatable = allocatable or {}
        self._paths: dict[str, dict[str, str]] = {}  # pod uid -> volume name -> host path
        self._synced: dict[str, float] = {}
        self._metadata: dict[str, tuple] = {}  # pod uid -> the labels and annotations its files show
        self.tokens = TokenManager(client)

    def paths(self, uid: str) -> dict[str, str] | None:
        """volume name -> host path once the pod's volumes are set up."""
        return self._paths.get(uid)

    async def setup(self, w: PodWorker) -> bool:
        """Mounts (or updates) every volume of the pod; False (and FailedMount) when one cannot be."""
        pod = w.pod
        namespace = pod.metadata.namespace
        try:
            cms = await get_objects(self.client, "ConfigMap", namespace, volumes.referenced_config_maps(pod))
            secrets = await get_objects(self.client, "Secret", namespace, volumes.referenced_secrets(pod))
            claims = await self._claimed_volumes(pod)
            claimed = {name: pv for name, (_, pv) in claims.items()}
            tokens = await self._tokens(pod)
            self._paths[w.uid] = await volumes.setup_volumes(self.root_dir, pod, cms, secrets, self.allocatable,
                                                             claimed, tokens)
        except (volumes.VolumeError, TokenError) as e:
            self.recorder.event(pod, "Warning", "FailedMount", str(e))
            for c in [*pod.spec.init_containers, *pod.spec.containers]:
                w.waiting[c.name] = ("ContainerCreating", str(e))
            w.sync_soon(2.0)
            return False
        self._synced[w.uid] = time.monotonic()
        self._metadata[w.uid] = _metadata(pod)
        for name in [n for n, (reason, _) in w.waiting.items() if reason == "ContainerCreating"]:
            del w.waiting[name]
        await finish_resizes(self.client, self.recorder, pod, claims)
        return True

    async def _tokens(self, pod) -> dict[tuple[str, int], str]:
        """Each serviceAccountToken projection's current token, renewed when due."""
        found = {}
        for source in token_sources(pod):
            audience, seconds = token_key(source)
            found[(audience, seconds)] = await self.tokens.token(pod, audience, seconds)
        return found

    async def _claimed_volumes(self, pod) -> dict[str, tuple]:
        """volume name -> (its claim, the PersistentVolume the claim is bound to) (the kubelet's desired
        state of the world for claims); a missing or unbound claim is a VolumeError naming it."""
        claimed = {}
        namespace = pod.metadata.namespace
        for volume in pod.spec.volumes:
            name = claim_name(pod, volume)
            if name is None:
                continue
            claims = await get_objects(self.client, "PersistentVolumeClaim", namespace, [name])
            pvc = claims.get(name)
            if pvc is None:
                raise volumes.VolumeError(f'persistentvolumeclaim "{name}" not found')
            if pvc.status.phase != CLAIM_BOUND or not pvc.spec.volume_name:
                raise volumes.VolumeError(f"error processing PVC {namespace}/{name}: PVC is not bound")
            pvs = await get_objects(self.client, "PersistentVolume", "", [pvc.spec.volume_name])
            if pvc.spec.volume_name not in pvs:
                raise volumes.VolumeError(f'persistentvolume "{pvc.spec.volume_name}" not found')
            claimed[volume.name] = (pvc, pvs[pvc.spec.volume_name])
        return claimed

    async def refresh(self, w: PodWorker) -> None:
        """configMap, secret, downwardAPI and projected volumes follow their objects and claims their
        volumes' capacity, as the kubelet's periodic sync does; a change of the pod's labels or
        annotations rewrites its downward-API files at once."""
        pod = w.pod
        if not any(volumes.is_api_data(v) or claim_name(pod, v) is not None for v in pod.spec.volumes):
            return  # claims are refreshed too: an expanded claim's filesystem grows while the pod runs
        stale = uses_pod_metadata(pod) and self._metadata.get(w.uid) != _metadata(pod)
        if stale or time.monotonic() - self._synced.get(w.uid, 0.0) >= VOLUME_REFRESH_PERIOD:
            await self.setup(w)
        w.sync_soon(VOLUME_REFRESH_PERIOD)

    async def cleanup(self, uid: str) -> None:
        self._paths.pop(uid, None)
        self._synced.pop(uid, None)
        self._metadata.pop(uid, None)
        self.tokens.forget(uid)
        await volumes.cleanup_volumes(self.root_dir, uid)


def _metadata(pod: pod_pb2.Pod) -> tuple:
    return sorted(pod.metadata.labels.items()), sorted(pod.metadata.annotations.items())
