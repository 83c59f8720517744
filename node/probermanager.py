"""The prober manager (the kubelet's prober_manager.go): the probe workers of every running
container, and the results cache the sync loop reads.

node/probes.py runs the probes: one Prober (worker) per probe of one container instance,
grouped per container in ContainerProbes (the startup probe gates the other two). Every
result change lands in the results cache, keyed by container id and probe kind, and is passed
on to `on_update` (the agent wakes the pod's worker). The sync loop reads the cache: a
container's ready and started flags, and whether its liveness or startup probe failed (then
it is killed and restarted, and its new id gets new workers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from cri.runtime.v1 import api_pb2 as cri_pb
from node import probes
from node.cri import CRI
from skiff.v1 import pod_pb2


class ProbeResults:
    """The latest result of each probe that has reported one, by (container id, probe kind)."""

    def __init__(self) -> None:
        self._results: dict[tuple[str, str], str] = {}

    def set(self, container_id: str, kind: str, result: str) -> None:
        self._results[(container_id, kind)] = result

    def get(self, container_id: str, kind: str) -> str | None:
        return self._results.get((container_id, kind))

    def forget(self, container_id: str) -> None:
        for key in [k for k in self._results if k[0] == container_id]:
            del self._results[key]


class ProberManager:
    def __init__(self, cri: CRI, on_update: Callable[[probes.ProbeUpdate], None]) -> None:
        self.cri = cri
        self.results = ProbeResults()
        self._on_update = on_update
        self._workers: dict[str, probes.ContainerProbes] = {}

    def add_container(self, pod: pod_pb2.Pod, spec: pod_pb2.Container, status: cri_pb.ContainerStatus,
                      pod_ip: str) -> None:
        """Starts the probe workers of a running container instance (once per container id)."""
        if status.id in self._workers:
            return
        started_at = status.started_at / 1e9 if status.started_at else None
        target = probes.ProbeTarget(pod=pod, container=spec, container_id=status.id, pod_ip=pod_ip, cri=self.cri)
        workers = probes.ContainerProbes(target, self._on_result, started_at=started_at)
        self._workers[status.id] = workers
        workers.start()

    def has_container(self, container_id: str) -> bool:
        return container_id in self._workers

    def remove_container(self, container_id: str) -> None:
        workers = self._workers.pop(container_id, None)
        self.results.forget(container_id)
        if workers is not None:
            asyncio.ensure_future(workers.stop())

    def probe_state(self, spec: pod_pb2.Container, container_id: str) -> tuple[bool, bool]:
        """(ready, started) of a running container: started once its startup probe succeeded (at once
        without one); ready once started and its readiness probe succeeded (at once without one)."""
        started = (not spec.HasField("startup_probe")
                   or self.results.get(container_id, probes.STARTUP) == probes.SUCCESS)
        ready = started and (not spec.HasField("readiness_probe")
                             or self.results.get(container_id, probes.READINESS) == probes.SUCCESS)
        return ready, started

    def unhealthy(self, container_id: str) -> bool:
        """Its liveness or startup probe failed: the container is to be restarted."""
        return probes.FAILURE in (self.results.get(container_id, probes.LIVENESS),
                                  self.results.get(container_id, probes.STARTUP))

    async def close(self) -> None:
        for workers in self._workers.values():
            await workers.stop()
        self._workers.clear()

    def _on_result(self, update: probes.ProbeUpdate) -> None:
        if update.container_id in self._workers:
            self.results.set(update.container_id, update.kind, update.result)
        self._on_update(update)
