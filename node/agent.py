"""The node agent's pod side (the kubelet's syncLoop and syncPod): pods bound to this node (desired)
against the runtime's sandboxes and containers.

The pod informer feeds the pod workers (podworkers.py): one worker per pod uid runs `sync`
whenever the pod changes, the PLEG (pleg.py) sees its containers change, a probe result flips
(probermanager.py), or a back-off it waits on runs out. `sync` decides what the pod needs —
terminate it, stop it once terminal, or bring it one step toward its spec through the runtime
manager (runtime/) — and reports its status (podstatus.py, statusmanager.py). The agent keeps
no state that matters across restarts: a restarted agent adopts what the runtime holds.
"""

from __future__ import annotations

import asyncio
import time

import grpc

from control.client.client import Client
from control.client.events import EventRecorder
from control.client.informer import Informer
from control.client.wellknown import POD_FAILED, TERMINAL_PHASES, is_terminal
from node import metrics, podstatus, probes
from node.config import AgentConfig
from node.cri import CRI
from node.images import ImageManager
from node.pleg import PLEG
from node.podstatus import ContainerView
from node.podworkers import PodWorker, PodWorkers
from node.probermanager import ProberManager
from node.runtime import security
from node.runtime.ephemeral import as_container
from node.runtime.kill import grace_period
from node.runtime.manager import RuntimeManager
from node.runtime.state import PodRuntime
from node.statusmanager import StatusManager
from skiff.v1 import pod_pb2

DEADLINE_EXCEEDED = ("DeadlineExceeded", "Pod was active on the node longer than the specified deadline")


class Agent:
    def __init__(self, client: Client, cri: CRI, config: AgentConfig, images: ImageManager | None = None) -> None:
        self.client = client
        self.cri = cri
        self.config = config
        self.runtime_name = "containerd"
        self.recorder = EventRecorder(client, "kubelet", host=config.node_name)
        self.informer = Informer(client, "Pod", field_selector=f"spec.nodeName={config.node_name}")
        self.probers = ProberManager(cri, self._on_probe_update)
        self.runtime = RuntimeManager(cri, client, config, self.recorder, images or ImageManager(cri), self.probers)
        self.status = StatusManager(client)
        self.workers = PodWorkers(self.sync, on_done=self.runtime.forget_pod)
        self.runtime.node_pods = lambda: [w.pod for w in self.workers.active()]
        self.pleg = PLEG(cri, self.runtime.state, config.relist_period, wake=self.workers.wake,
                         is_orphan=self._is_orphan, remove_orphan=self._remove_orphan)

    async def run(self) -> None:
        self.runtime_name = (await self.cri.version()).runtime_name or "containerd"
        self.runtime.sandboxes.load_resolv_conf()
        self.informer.add_handler(on_add=self.workers.update, on_update=lambda _old, new: self.workers.update(new),
                                  on_delete=self.workers.delete)
        informer = asyncio.create_task(self.informer.run())
        try:
            await self.informer.wait_synced()
            await self.pleg.run()
        finally:
            informer.cancel()
            await asyncio.gather(informer, return_exceptions=True)
            await self.workers.close()
            await self.runtime.close()
            await self.recorder.close()

    def _on_probe_update(self, update: probes.ProbeUpdate) -> None:
        worker = self.workers.get(update.pod_uid)
        if worker is not None and update.result == probes.FAILURE:
            self.recorder.event(worker.pod, "Warning", "Unhealthy", f"{update.kind} probe failed: {update.message}")
        self.workers.wake(update.pod_uid)

    def _is_orphan(self, uid: str) -> bool:
        return uid not in self.workers and self.informer.has_synced

    async def _remove_orphan(self, uid: str) -> None:
        """Sandboxes of pods that no longer exist (deleted while the agent was down)."""
        runtime = await self.runtime.pod_state(uid)
        await self.runtime.kill_pod(None, runtime, grace=0)
        await self._remove_pod(uid, runtime)

    async def _remove_pod(self, uid: str, runtime: PodRuntime, pod: pod_pb2.Pod | None = None) -> None:
        await self.runtime.remove_pod(uid, runtime, pod)
        self.pleg.forget(uid)

    # ---- one pod ----------------------------------------------------------------------------

    async def sync(self, w: PodWorker) -> bool:
        """Converges one pod one step; True when the pod is gone and its worker can end."""
        pod = w.pod
        if w.deleted or pod.metadata.HasField("deletion_timestamp"):
            await self._terminate(w)
            return True
        if w.terminal or is_terminal(pod):
            w.terminal = True
            await self.runtime.stop_pod(w, await self.runtime.pod_state(w.uid))
            return False
        runtime = await self.runtime.pod_state(w.uid)
        if self._past_deadline(w):
            await self.runtime.kill_pod(w, runtime, grace=grace_period(pod))
            await self._report(w, await self.runtime.pod_state(w.uid), terminal=True, reason=DEADLINE_EXCEEDED)
            return False
        if runtime.sandbox is None and pod.status.phase in ("", "Pending") and await self._reject(w, runtime):
            return False
        if runtime.sandbox is None and not pod.status.phase:
            await self._report(w, runtime)  # Pending + ContainerCreating while the sandbox comes up
        sandbox = await self.runtime.ensure_sandbox(w, runtime)
        if sandbox is not None:
            await self.runtime.refresh_volumes(w)
            if await self.runtime.sync_pod(w, runtime, sandbox):
                runtime = await self.runtime.pod_state(w.uid)
        await self._report(w, runtime)
        return False

    async def _reject(self, w: PodWorker, runtime: PodRuntime) -> bool:
        """The kubelet's admission: a pod this node cannot honour fails before anything runs."""
        rejection = security.admit(w.pod, self.config.security)
        if rejection is None:
            return False
        reason, message = rejection
        self.recorder.event(w.pod, "Warning", reason, message)
        await self._report(w, runtime, terminal=True, reason=(reason, f"Pod was rejected: {message}"))
        return True

    def _past_deadline(self, w: PodWorker) -> bool:
        """activeDeadlineSeconds, counted from the pod's startTime."""
        pod = w.pod
        if not pod.spec.HasField("active_deadline_seconds") or not pod.status.HasField("start_time"):
            return False
        remaining = pod.status.start_time.seconds + pod.spec.active_deadline_seconds - time.time()
        if remaining > 0:
            w.sync_soon(remaining)
            return False
        self.recorder.event(pod, "Normal", *DEADLINE_EXCEEDED)
        return True

    def views(self, w: PodWorker, runtime: PodRuntime) -> tuple[list[ContainerView], list[ContainerView]]:
        pod = w.pod
        return ([self._view(w, runtime, c) for c in pod.spec.init_containers],
                [self._view(w, runtime, c) for c in pod.spec.containers])

    def _view(self, w: PodWorker, runtime: PodRuntime, spec: pod_pb2.Container) -> ContainerView:
        sandbox = runtime.sandbox
        pairs = runtime.of(spec.name)
        # Containers of an older sandbox are history: they count for lastState, not for state.
        current = [s for c, s in pairs if sandbox is not None and c.pod_sandbox_id == sandbox.id]
        older = [s for c, s in pairs if sandbox is None or c.pod_sandbox_id != sandbox.id]
        reason, message = w.waiting.get(spec.name, ("", ""))
        ready, started = self.runtime.probe_state(spec, current[0].id if current else "")
        return ContainerView(spec=spec, attempts=current + older, waiting_reason=reason,
                             waiting_message=message, ready=ready, started=started,
                             termination_messages=self.runtime.termination_messages(w, spec, current),
                             resources=self.runtime.applied_resources(current[0] if current else None))

    def ephemeral_statuses(self, w: PodWorker, runtime: PodRuntime) -> list[pod_pb2.ContainerStatus]:
        """As the kubelet reports them: never ready, never started by a probe."""
        out = []
        for e in w.pod.spec.ephemeral_containers:
            status = podstatus.container_status(self._view(w, runtime, as_container(e)), self.runtime_name)
            status.ready = False
            out.append(status)
        return out

    async def _report(self, w: PodWorker, runtime: PodRuntime, terminal: bool = False,
                      reason: tuple[str, str] | None = None) -> pod_pb2.PodStatus:
        init, regular = self.views(w, runtime)
        pod_ip = await self.runtime.pod_ip(w.pod, runtime) or w.pod.status.pod_ip
        status = podstatus.pod_status(w.pod, init, regular, pod_ip=pod_ip, host_ip=self.config.node_ip,
                                      runtime=self.runtime_name, terminal=terminal, resize_pending=w.resize_pending)
        status.ephemeral_container_statuses.extend(self.ephemeral_statuses(w, runtime))
        if reason is not None:
            status.phase, status.reason, status.message = POD_FAILED, *reason
        if not terminal and status.phase in TERMINAL_PHASES:
            # Every regular container is done for good: stop what is left (sidecars) first.
            await self.runtime.kill_pod(w, runtime, grace=grace_period(w.pod))
            return await self._report(w, await self.runtime.pod_state(w.uid), terminal=True)
        previous = w.pod.status.phase
        await self.status.set_pod_status(w, status)
        metrics.pod_status_reported(w, previous, status.phase)
        if status.phase in TERMINAL_PHASES:
            w.terminal = True
            await self.runtime.stop_pod(w, await self.runtime.pod_state(w.uid))
        return status

    async def _terminate(self, w: PodWorker) -> None:
        """Graceful deletion: preStop hooks, stop with the grace period, remove everything, then the pod."""
        runtime = await self.runtime.pod_state(w.uid)
        await self.runtime.kill_pod(w, runtime, grace=grace_period(w.pod))
        await self._remove_pod(w.uid, runtime, w.pod)
        if w.deleted:
            return
        meta = w.pod.metadata
        try:
            await self.client.delete("Pod", meta.name, meta.namespace, grace_period_seconds=0, uid=meta.uid)
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                                grpc.StatusCode.ABORTED):
                raise
