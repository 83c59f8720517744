"""The runtime manager (the kubelet's kubeGenericRuntimeManager): brings a pod's containers toward its
spec one step at a time (SyncPod), stops them (KillPod) and removes what is left of a pod.

Each step reads what the runtime holds (state.PodRuntime) and decides from it alone: init
containers in order, then the regular containers and sidecars; a container that exited is
restarted as its restart policy says, after the crash-loop back-off; one whose liveness or
startup probe failed, or whose definition changed, is killed first.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable

from control.client.client import Client
from control.client.events import EventRecorder
from cri.runtime.v1 import api_pb2 as cri_pb
from node import podstatus, volumes
from node.backoff import Backoff
from node.config import AgentConfig
from node.cri import CRI, CRIError
from node.images import ImageManager
from node.podworkers import PodWorker
from node.probermanager import ProberManager
from node.runtime.config import HASH_ANNOTATION, container_hash
from node.runtime.containers import ContainerStarter
from node.runtime.ephemeral import as_container
from node.runtime.kill import ContainerKiller, container_spec, grace_period
from node.runtime.resize import DEFERRED, INFEASIBLE, RESTART, Resizer, deferred, infeasible
from node.runtime.sandbox import Sandboxes
from node.runtime.state import PodRuntime, RuntimeState
from node.runtime.volumes import VolumeManager
from skiff.v1 import pod_pb2

log = logging.getLogger(__name__)
DEFERRED_RETRY = 5.0  # seconds between tries of a resize the node's other pods leave no room for


class RuntimeManager:
    def __init__(self, cri: CRI, client: Client, config: AgentConfig, recorder: EventRecorder,
                 images: ImageManager, probers: ProberManager) -> None:
        self.cri = cri
        self.config = config
        self.recorder = recorder
        self.probers = probers
        self.backoff = Backoff(config.restart_backoff_base, config.restart_backoff_max)
        self.state = RuntimeState(cri)
        self.volumes = VolumeManager(client, config.root_dir, recorder, config.allocatable)
        self.sandboxes = Sandboxes(cri, config, recorder, self.volumes)
        self.starter = ContainerStarter(cri, client, config, recorder, images, self.sandboxes, self.volumes, probers)
        self.killer = ContainerKiller(cri, recorder, probers)
        self.resizer = Resizer(cri, config.memory_capacity)
        self.node_pods: Callable[[], list[pod_pb2.Pod]] = list  # the agent's active pods, set by the agent

    async def pod_state(self, uid: str) -> PodRuntime:
        runtime = await self.state.pod(uid)
        for c, s in runtime.containers:
            if s.state != cri_pb.CONTAINER_RUNNING:
                self.probers.remove_container(c.id)  # the kubelet's probe workers end with their container
        return runtime

    async def pod_ip(self, pod: pod_pb2.Pod, runtime: PodRuntime) -> str:
        return await self.sandboxes.pod_ip(pod, runtime.sandbox)

    def probe_state(self, spec: pod_pb2.Container, container_id: str) -> tuple[bool, bool]:
        return self.probers.probe_state(spec, container_id)

    def termination_messages(self, w: PodWorker, spec: pod_pb2.Container,
                             statuses: list[cri_pb.ContainerStatus]) -> dict[str, str]:
        return self.starter.terminations.messages(w.uid, spec, statuses)

    # ---- SyncPod ----

    async def ensure_sandbox(self, w: PodWorker, runtime: PodRuntime) -> cri_pb.PodSandbox | None:
        return await self.sandboxes.ensure(w, runtime)

    async def refresh_volumes(self, w: PodWorker) -> None:
        await self.volumes.refresh(w)

    async def sync_pod(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox) -> bool:
        """Starts, restarts or kills containers toward the spec; True if anything changed."""
        pod = w.pod
        pod_ip = await self.sandboxes.pod_ip(pod, sandbox) or pod.status.pod_ip
        if await self._kill_unhealthy(w, runtime, pod_ip):
            return True
        w.resize_pending = None  # set again below while a resize cannot be taken
        changed = False
        # As the kubelet: once a regular container exists, initialization is over and only
        # sidecars (restartable init containers) are still looked after.
        initialized = any(runtime.current(c.name, sandbox) for c in pod.spec.containers)
        finished = self._regular_done(pod, runtime, sandbox)
        for spec in pod.spec.init_containers:
            if initialized:
                if spec.restart_policy == "Always" and not finished:
                    changed |= await self._sync_container(w, runtime, sandbox, spec, True, pod_ip)
                continue
            done, did = await self._sync_init_container(w, runtime, sandbox, spec, pod_ip)
            changed |= did
            if not done:
                return changed
        for spec in pod.spec.containers:
            changed |= await self._sync_container(w, runtime, sandbox, spec, False, pod_ip)
        for ephemeral in pod.spec.ephemeral_containers:
            changed |= await self._sync_ephemeral(w, runtime, sandbox, ephemeral, pod_ip)
        if finished:
            changed |= await self._stop_sidecars(w, runtime, pod_ip)
        return changed

    async def _sync_ephemeral(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox,
                              ephemeral: pod_pb2.EphemeralContainer, pod_ip: str) -> bool:
        """Starts an ephemeral container once; whatever becomes of it, it is never restarted."""
        if runtime.of(ephemeral.name):
            return False
        target_id = ""
        if ephemeral.target_container_name:
            current = runtime.current(ephemeral.target_container_name, sandbox)
            if not current or current[0].state != cri_pb.CONTAINER_RUNNING:
                return False  # the target's process namespace exists only while it runs
            target_id = current[0].id
        return await self.starter.start(w, runtime, sandbox, as_container(ephemeral), False, pod_ip, 0, target_id)

    def _regular_done(self, pod: pod_pb2.Pod, runtime: PodRuntime, sandbox: cri_pb.PodSandbox) -> bool:
        """Every regular container exited and its restart policy keeps it down."""
        for spec in pod.spec.containers:
            current = runtime.current(spec.name, sandbox)
            if not current or current[0].state != cri_pb.CONTAINER_EXITED:
                return False
            if should_restart(pod, spec, current[0], init=False):
                return False
        return bool(pod.spec.containers)

    async def _stop_sidecars(self, w: PodWorker, runtime: PodRuntime, pod_ip: str) -> bool:
        sidecars = {c.name for c in w.pod.spec.init_containers if c.restart_policy == "Always"}
        live = [(c, s) for c, s in runtime.containers
                if c.metadata.name in sidecars and s.state == cri_pb.CONTAINER_RUNNING]
        if live:
            await self.killer.kill_containers(w, PodRuntime(runtime.sandboxes, live), grace_period(w.pod), pod_ip)
        return bool(live)

    async def _sync_init_container(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox,
                                   spec: pod_pb2.Container, pod_ip: str) -> tuple[bool, bool]:
        """(initialization may go on past this container, anything changed)."""
        sidecar = spec.restart_policy == "Always"
        current = runtime.current(spec.name, sandbox)
        latest = current[0] if current else None
        if not sidecar and latest is not None and latest.state == cri_pb.CONTAINER_EXITED:
            if latest.exit_code == 0:
                return True, False
            if w.pod.spec.restart_policy == "Never":
                return False, False
        changed = await self._sync_container(w, runtime, sandbox, spec, True, pod_ip)
        if changed or latest is None or latest.state != cri_pb.CONTAINER_RUNNING:
            return False, changed
        return sidecar and self.probe_state(spec, latest.id)[1], False

    async def _sync_container(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox,
                              spec: pod_pb2.Container, init: bool, pod_ip: str) -> bool:
        current = runtime.current(spec.name, sandbox)
        latest = current[0] if current else None
        if latest is None:
            if w.pod.spec.restart_policy == "Never" and runtime.of(spec.name) and not init:
                return False  # it ran in an earlier sandbox
            return await self.starter.start(w, runtime, sandbox, spec, init, pod_ip)
        if latest.state == cri_pb.CONTAINER_RUNNING:
            w.waiting.pop(spec.name, None)
            if latest.annotations.get(HASH_ANNOTATION, "") not in ("", container_hash(spec)):
                self.recorder.event(w.pod, "Normal", "Killing",
                                    f"Container {spec.name} definition changed, will be restarted")
                await self.killer.kill(w, spec, latest.id, time.monotonic() + grace_period(w.pod), pod_ip)
                return True
            if await self._resize(w, spec, latest, pod_ip):
                return True
            self.probers.add_container(w.pod, spec, latest, pod_ip)
            return False
        if latest.state == cri_pb.CONTAINER_EXITED and should_restart(w.pod, spec, latest, init):
            return await self._restart(w, runtime, sandbox, spec, latest, init, pod_ip)
        if latest.state in (cri_pb.CONTAINER_CREATED, cri_pb.CONTAINER_UNKNOWN):
            # Left half-done by an agent that died between create and start: replace it.
            await self.cri.remove_container(latest.id)
            return True
        return False

    async def _resize(self, w: PodWorker, spec: pod_pb2.Container, latest: cri_pb.ContainerStatus,
                      pod_ip: str) -> bool:
        """New resources for a running container: in place, or by a restart its resizePolicy asks; none
        while the pod's requests exceed what the node has (PodResizePending Infeasible)."""
        if self.resizer.wanted(spec, latest):
            allocatable = self.config.allocatable
            if refusal := infeasible(w.pod, allocatable):
                w.resize_pending = (INFEASIBLE, refusal)
                return False
            if refusal := deferred(w.pod, self.node_pods(), allocatable):
                w.resize_pending = (DEFERRED, refusal)
                w.sync_soon(DEFERRED_RETRY)  # as the kubelet, tried again as other pods leave
                return False
        try:
            action = await self.resizer.sync(w.pod, spec, latest)
        except CRIError as e:
            log.warning("pod %s: resizing container %s failed: %s", w.pod.metadata.name, spec.name, e)
            w.sync_soon(5.0)
            return False
        if action != RESTART:
            return False
        self.recorder.event(w.pod, "Normal", "Killing", f"Container {spec.name} resize requires restart")
        await self.killer.kill(w, spec, latest.id, time.monotonic() + grace_period(w.pod), pod_ip)
        return True

    def applied_resources(self, status: cri_pb.ContainerStatus | None) -> dict | None:
        return self.resizer.applied(status) if status is not None else None

    async def _restart(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox,
                       spec: pod_pb2.Container, latest: cri_pb.ContainerStatus, init: bool, pod_ip: str) -> bool:
        """Restarts an exited container unless it is in its crash-loop back-off (CrashLoopBackOff)."""
        key, finished = f"{w.uid}/{spec.name}", latest.finished_at / 1e9
        remaining = self.backoff.remaining(key, finished)
        if remaining > 0:
            meta = w.pod.metadata
            w.waiting[spec.name] = ("CrashLoopBackOff", f"back-off {self.backoff.get(key):.0f}s restarting failed "
                                    f"container={spec.name} pod={meta.name}_{meta.namespace}({meta.uid})")
            self.recorder.event(w.pod, "Warning", "BackOff", f"Back-off restarting failed container "
                                f"{spec.name} in pod {meta.name}_{meta.namespace}({meta.uid})")
            w.sync_soon(remaining)
            return False
        self.backoff.next(key, finished)
        return await self.starter.start(w, runtime, sandbox, spec, init, pod_ip, podstatus.restart_count(latest) + 1)

    async def _kill_unhealthy(self, w: PodWorker, runtime: PodRuntime, pod_ip: str) -> bool:
        victims = [c for c, s in runtime.containers
                   if s.state == cri_pb.CONTAINER_RUNNING and self.probers.unhealthy(c.id)]
        for c in victims:
            log.info("pod %s: container %s failed its probe, restarting it", w.pod.metadata.name, c.metadata.name)
            await self.killer.kill(w, container_spec(w.pod, c.metadata.name), c.id,
                                   time.monotonic() + grace_period(w.pod), pod_ip)
        return bool(victims)

    # ---- KillPod and cleanup ----

    async def kill_pod(self, w: PodWorker | None, runtime: PodRuntime, grace: int) -> None:
        pod_ip = ""
        if w is not None:
            pod_ip = await self.sandboxes.pod_ip(w.pod, runtime.sandbox) or w.pod.status.pod_ip
        await self.killer.kill_containers(w, runtime, grace, pod_ip)

    async def stop_pod(self, w: PodWorker, runtime: PodRuntime) -> None:
        """A pod that reached Succeeded or Failed: what still runs is stopped, its sandboxes too."""
        if any(s.state == cri_pb.CONTAINER_RUNNING for _, s in runtime.containers):
            await self.kill_pod(w, runtime, grace_period(w.pod))
        await self.sandboxes.stop(runtime)

    async def remove_pod(self, uid: str, runtime: PodRuntime, pod: pod_pb2.Pod | None = None) -> None:
        """Removes the pod's containers, sandboxes, volumes, logs and directory."""
        for c, _ in runtime.containers:
            self.probers.remove_container(c.id)
            await self.cri.remove_container(c.id)
        await self.sandboxes.remove(runtime)
        await self.volumes.cleanup(uid)
        if pod is not None:
            shutil.rmtree(self.sandboxes.log_dir(pod), ignore_errors=True)
        shutil.rmtree(volumes.pod_dir(self.config.root_dir, uid), ignore_errors=True)

    def forget_pod(self, uid: str) -> None:
        self.backoff.forget_prefix(f"{uid}/")

    async def close(self) -> None:
        await self.probers.close()


def should_restart(pod: pod_pb2.Pod, spec: pod_pb2.Container, status: cri_pb.ContainerStatus, init: bool) -> bool:
    """The container's restart policy (a sidecar's Always) or else the pod's, for an exited container."""
    if spec.restart_policy == "Always":
        return True
    policy = pod.spec.restart_policy or "Always"
    if init:
        return policy != "Never" and status.exit_code != 0
    return policy == "Always" or (policy == "OnFailure" and status.exit_code != 0)

