"""Stopping containers (the kubelet's killContainer): the Killing event, the preStop hook within the
grace period, then SIGTERM and, when the rest of the grace period runs out, SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

from control.client.events import EventRecorder
from cri.runtime.v1 import api_pb2 as cri_pb
from node import probes
from node.cri import CRI
from node.podworkers import PodWorker
from node.probermanager import ProberManager
from node.runtime.hooks import run_hook
from node.runtime.state import PodRuntime
from skiff.v1 import pod_pb2

DEFAULT_GRACE = 30
MIN_STOP_TIMEOUT = 2  # the kubelet's floor: a container always gets 2 s between SIGTERM and SIGKILL


def grace_period(pod: pod_pb2.Pod) -> int:
    """The deletion's grace period if the pod is being deleted, else terminationGracePeriodSeconds."""
    if pod.metadata.HasField("deletion_grace_period_seconds"):
        return pod.metadata.deletion_grace_period_seconds
    if pod.spec.HasField("termination_grace_period_seconds"):
        return pod.spec.termination_grace_period_seconds
    return DEFAULT_GRACE


def container_spec(pod: pod_pb2.Pod, name: str) -> pod_pb2.Container | None:
    for c in [*pod.spec.init_containers, *pod.spec.containers]:
        if c.name == name:
            return c
    return None


class ContainerKiller:
    def __init__(self, cri: CRI, recorder: EventRecorder, probers: ProberManager) -> None:
        self.cri = cri
        self.recorder = recorder
        self.probers = probers

    async def kill_containers(self, w: PodWorker | None, runtime: PodRuntime, grace: int, pod_ip: str) -> None:
        """Stops running containers: regular ones first, then sidecars, each after its preStop hook.
        Without a worker (an orphan's containers) there is no spec, so no hooks and no events."""
        live = [(c, s) for c, s in runtime.containers
                if s.state in (cri_pb.CONTAINER_RUNNING, cri_pb.CONTAINER_CREATED)]
        sidecars = {c.name for c in w.pod.spec.init_containers if c.restart_policy == "Always"} if w else set()
        deadline = time.monotonic() + grace
        for group in ([c for c, _ in live if c.metadata.name not in sidecars],
                      [c for c, _ in live if c.metadata.name in sidecars]):
            await asyncio.gather(*(self.kill(w, container_spec(w.pod, c.metadata.name) if w else None, c.id,
                                             deadline, pod_ip) for c in group))

    async def kill(self, w: PodWorker | None, spec: pod_pb2.Container | None, container_id: str,
                   deadline: float, pod_ip: str) -> None:
        self.probers.remove_container(container_id)
        if w is not None and spec is not None:
            self.recorder.event(w.pod, "Normal", "Killing", f"Stopping container {spec.name}")
            if spec.lifecycle.HasField("pre_stop"):
                await self._pre_stop(w.pod, spec, container_id, deadline, pod_ip)
        timeout = max(MIN_STOP_TIMEOUT, math.ceil(deadline - time.monotonic()))
        await self.cri.stop_container(container_id, timeout=timeout)

    async def _pre_stop(self, pod: pod_pb2.Pod, spec: pod_pb2.Container, container_id: str, deadline: float,
                        pod_ip: str) -> None:
        budget = max(0.0, deadline - time.monotonic())
        target = probes.ProbeTarget(pod=pod, container=spec, container_id=container_id, pod_ip=pod_ip, cri=self.cri)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run_hook(self.cri, spec.lifecycle.pre_stop, target, budget), budget)
