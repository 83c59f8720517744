"""What the runtime holds for one pod (the kubelet's kubecontainer.PodStatus), read through CRI.

Sandboxes and containers carry the pod's uid, the container name and its restart count in
labels and annotations, so the state is always read back from the runtime: an agent
restarted after kill -9 adopts what it finds. Statuses of containers that can no longer
change (running or exited, same state as listed) are cached by (id, state).
"""

from __future__ import annotations

from dataclasses import dataclass

from cri.runtime.v1 import api_pb2 as cri_pb
from node import podstatus
from node.cri import CRI, POD_UID_LABEL, CRIError

ContainerPair = tuple[cri_pb.Container, cri_pb.ContainerStatus]


@dataclass
class PodRuntime:
    sandboxes: list[cri_pb.PodSandbox]  # newest first
    containers: list[ContainerPair]

    @property
    def sandbox(self) -> cri_pb.PodSandbox | None:
        return self.sandboxes[0] if self.sandboxes else None

    def of(self, name: str) -> list[ContainerPair]:
        mine = [(c, s) for c, s in self.containers if c.metadata.name == name]
        return sorted(mine, key=lambda cs: podstatus.restart_count(cs[1]), reverse=True)

    def current(self, name: str, sandbox: cri_pb.PodSandbox) -> list[cri_pb.ContainerStatus]:
        """The attempts of a container in the given sandbox, newest first."""
        return [s for c, s in self.of(name) if c.pod_sandbox_id == sandbox.id]


class RuntimeState:
    def __init__(self, cri: CRI) -> None:
        self.cri = cri
        self._status_cache: dict[tuple[str, int], cri_pb.ContainerStatus] = {}

    async def pod(self, uid: str) -> PodRuntime:
        labels = {POD_UID_LABEL: uid}
        sandboxes = await self.cri.list_pod_sandboxes(labels)
        sandboxes.sort(key=lambda s: (s.metadata.attempt, s.created_at), reverse=True)
        pairs = []
        for c in await self.cri.list_containers(labels):
            status = await self._container_status(c)
            if status is not None:
                pairs.append((c, status))
        return PodRuntime(sandboxes, pairs)

    def retain(self, live: set[str]) -> None:
        """Forgets the cached statuses of containers that are gone."""
        self._status_cache = {k: v for k, v in self._status_cache.items() if k[0] in live}

    async def _container_status(self, c: cri_pb.Container) -> cri_pb.ContainerStatus | None:
        key = (c.id, c.state)
        cached = self._status_cache.get(key)
        if cached is not None:
            return cached
        try:
            status = await self.cri.container_status(c.id)
        except CRIError:
            return None
        if status.state == c.state and c.state in (cri_pb.CONTAINER_EXITED, cri_pb.CONTAINER_RUNNING):
            self._status_cache[key] = status
        return status
