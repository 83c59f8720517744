"""The pod sync loop: pods bound to this node (desired) against the runtime's sandboxes and containers.

One worker per pod uid runs `sync` whenever the pod changes, the runtime
reports a change for it (a relist every second, the kubelet's PLEG), a probe
result flips, or a back-off it waits on runs out. The agent keeps no state
that matters across restarts: sandboxes and containers carry the pod's uid,
the container name and its restart count in labels and annotations, so a
restarted agent adopts what it finds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field

import grpc

from control.client.client import Client
from control.client.events import EventRecorder
from control.client.informer import Informer
from cri.runtime.v1 import api_pb2 as cri_pb
from node import containers as cfg
from node import podstatus
from node.backoff import Backoff
from node.cri import CRI, POD_UID_LABEL, CRIError
from node.images import ImageManager
from node.lifecycle import DEFAULT_GRACE, Lifecycle, PodRuntime, PodWorker
from node.podstatus import ContainerView
from skiff.v1 import pod_pb2

log = logging.getLogger(__name__)

RESYNC_PERIOD = 10.0


@dataclass
class AgentConfig:
    node_name: str
    root_dir: str
    node_ip: str = ""
    hostname: str = ""
    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = "cluster.local"
    resolv_conf: str = "/etc/resolv.conf"
    restart_backoff_base: float = 10.0
    restart_backoff_max: float = 300.0
    relist_period: float = 1.0
    memory_capacity: int = 0
    allocatable: dict[str, str] = field(default_factory=dict)


class Agent:
    def __init__(self, client: Client, cri: CRI, config: AgentConfig,
                 images: ImageManager | None = None) -> None:
        self.client = client
        self.cri = cri
        self.config = config
        self.images = images or ImageManager(cri)
        self.backoff = Backoff(config.restart_backoff_base, config.restart_backoff_max)
        self.lifecycle = Lifecycle(self)
        self.workers: dict[str, PodWorker] = {}
        self.informer = Informer(client, "Pod", field_selector=f"spec.nodeName={config.node_name}")
        self.runtime_name = "containerd"
        self._status_cache: dict[tuple[str, int], cri_pb.ContainerStatus] = {}
        self._fingerprints: dict[str, tuple] = {}
        self.host_resolv = cfg.ResolvConf()
        self.recorder = EventRecorder(client, "kubelet", host=config.node_name)
        self._sandbox_ips: dict[str, str] = {}

    # ---- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        self.runtime_name = (await self.cri.version()).runtime_name or "containerd"
        self.host_resolv = _read_resolv_conf(self.config.resolv_conf)
        self.informer.add_handler(on_add=self._on_pod, on_update=lambda _old, new: self._on_pod(new),
                                  on_delete=self._on_pod_deleted)
        informer = asyncio.create_task(self.informer.run())
        try:
            await self.informer.wait_synced()
            await self._relist_loop()
        finally:
            informer.cancel()
            workers = [w.task for w in self.workers.values() if w.task]
            for task in [informer, *workers]:
                task.cancel()
            await asyncio.gather(informer, *workers, return_exceptions=True)
            await self.lifecycle.close()
            await self.recorder.close()

    def _on_pod(self, pod: pod_pb2.Pod) -> None:
        uid = pod.metadata.uid
        worker = self.workers.get(uid)
        if worker is None:
            worker = self.workers[uid] = PodWorker(uid, pod)
            worker.task = asyncio.get_running_loop().create_task(self._work(worker))
        if _revision(pod) >= _revision(worker.pod):  # never go back past our own status write
            worker.pod = pod
        worker.wake.set()

    def _on_pod_deleted(self, pod: pod_pb2.Pod) -> None:
        worker = self.workers.get(pod.metadata.uid)
        if worker is not None:
            worker.deleted = True
            worker.wake.set()

    def wake(self, uid: str) -> None:
        worker = self.workers.get(uid)
        if worker is not None:
            worker.wake.set()

    async def _work(self, w: PodWorker) -> None:
        while True:
            timeout = max(0.0, w.next_sync - time.monotonic()) if w.next_sync else RESYNC_PERIOD
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(w.wake.wait(), timeout)
            w.wake.clear()
            w.next_sync = 0.0
            try:
                if await self.sync(w):
                    break
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one pod's failure must not stop its worker
                log.exception("sync of pod %s/%s failed", w.pod.metadata.namespace, w.pod.metadata.name)
                w.sync_soon(1.0)
        self.workers.pop(w.uid, None)
        self.backoff.forget_prefix(f"{w.uid}/")

    async def _relist_loop(self) -> None:
        """The kubelet's PLEG: one runtime listing per period wakes the pods whose containers changed."""
        while True:
            try:
                await self._relist()
            except CRIError as e:
                log.warning("relist failed: %s", e)
            except Exception:  # noqa: BLE001 - the loop must outlive one bad orphan cleanup
                log.exception("relist failed")
            await asyncio.sleep(self.config.relist_period)

    async def _relist(self) -> None:
        sandboxes = await self.cri.list_pod_sandboxes()
        containers = await self.cri.list_containers()
        seen: dict[str, list] = {}
        for s in sandboxes:
            seen.setdefault(s.labels.get(POD_UID_LABEL, ""), []).append((s.id, s.state))
        for c in containers:
            seen.setdefault(c.labels.get(POD_UID_LABEL, ""), []).append((c.id, c.state))
        for uid, items in seen.items():
            fingerprint = tuple(sorted(items))
            if self._fingerprints.get(uid) != fingerprint:
                self._fingerprints[uid] = fingerprint
                self.wake(uid)
            if uid and uid not in self.workers and self.informer.has_synced:
                await self._remove_orphan(uid)
        for uid in set(self._fingerprints) - set(seen):
            del self._fingerprints[uid]
        live = {c.id for c in containers}
        self._status_cache = {k: v for k, v in self._status_cache.items() if k[0] in live}

    async def _remove_orphan(self, uid: str) -> None:
        """Sandboxes of pods that no longer exist (deleted while the agent was down)."""
        log.info("removing sandboxes of deleted pod %s", uid)
        runtime = await self.runtime_state(uid)
        await self.lifecycle.kill_containers(None, runtime, grace=0)
        await self.remove_pod_resources(uid, runtime)

    # ---- one pod ----------------------------------------------------------------------------

    async def runtime_state(self, uid: str) -> PodRuntime:
        labels = {POD_UID_LABEL: uid}
        sandboxes = await self.cri.list_pod_sandboxes(labels)
        sandboxes.sort(key=lambda s: (s.metadata.attempt, s.created_at), reverse=True)
        listed = await self.cri.list_containers(labels)
        pairs = []
        for c in listed:
            status = await self._container_status(c)
            if status is not None:
                pairs.append((c, status))
        return PodRuntime(sandboxes, pairs)

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

    async def sync(self, w: PodWorker) -> bool:
        """Converges one pod one step; True when the pod is gone and its worker can end."""
        pod = w.pod
        if w.deleted or pod.metadata.HasField("deletion_timestamp"):
            await self._terminate(w)
            return True
        if w.terminal or pod.status.phase in podstatus.TERMINAL_PHASES:
            w.terminal = True
            await self._stop_terminal(w)
            return False
        runtime = await self.runtime_state(w.uid)
        if self._past_deadline(w):
            await self.lifecycle.kill_containers(w, runtime, grace=self._grace(pod))
            await self._report(w, await self.runtime_state(w.uid), terminal=True, reason=(
                "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"))
            return False
        if runtime.sandbox is None and not pod.status.phase:
            await self._report(w, runtime)  # Pending + ContainerCreating while the sandbox comes up
        sandbox = await self.lifecycle.ensure_sandbox(w, runtime)
        if sandbox is not None:
            await self.lifecycle.refresh_volumes(w)
            if await self.lifecycle.converge(w, runtime, sandbox):
                runtime = await self.runtime_state(w.uid)
        await self._report(w, runtime)
        return False

    def _past_deadline(self, w: PodWorker) -> bool:
        """activeDeadlineSeconds, counted from the pod's startTime."""
        pod = w.pod
        if not pod.spec.HasField("active_deadline_seconds") or not pod.status.HasField("start_time"):
            return False
        remaining = pod.status.start_time.seconds + pod.spec.active_deadline_seconds - time.time()
        if remaining > 0:
            w.sync_soon(remaining)
            return False
        self.recorder.event(pod, "Normal", "DeadlineExceeded",
                            "Pod was active on the node longer than the specified deadline")
        return True

    def views(self, w: PodWorker, runtime: PodRuntime) -> tuple[list[ContainerView], list[ContainerView]]:
        sandbox = runtime.sandbox
        def view(spec: pod_pb2.Container) -> ContainerView:
            pairs = runtime.of(spec.name)
            # Containers of an older sandbox are history: they count for lastState, not for state.
            current = [s for c, s in pairs if sandbox is not None and c.pod_sandbox_id == sandbox.id]
            older = [s for c, s in pairs if sandbox is None or c.pod_sandbox_id != sandbox.id]
            reason, message = w.waiting.get(spec.name, ("", ""))
            ids = [s.id for s in current]
            ready, started = self.lifecycle.probe_state(spec, ids[0] if ids else "")
            return ContainerView(spec=spec, attempts=current + older, waiting_reason=reason,
                                 waiting_message=message, ready=ready, started=started,
                                 termination_messages=self.lifecycle.termination_messages(w, spec, current))
        pod = w.pod
        return [view(c) for c in pod.spec.init_containers], [view(c) for c in pod.spec.containers]

    async def _report(self, w: PodWorker, runtime: PodRuntime, terminal: bool = False,
                      reason: tuple[str, str] | None = None) -> pod_pb2.PodStatus:
        init, regular = self.views(w, runtime)
        pod_ip = await self._pod_ip(w.pod, runtime) or w.pod.status.pod_ip
        status = podstatus.pod_status(w.pod, init, regular, pod_ip=pod_ip, host_ip=self.config.node_ip,
                                      runtime=self.runtime_name, terminal=terminal)
        if reason is not None:
            status.phase, status.reason, status.message = "Failed", *reason
        if not terminal and status.phase in podstatus.TERMINAL_PHASES:
            # Every regular container is done for good: stop what is left (sidecars) first.
            await self.lifecycle.kill_containers(w, runtime, grace=self._grace(w.pod))
            return await self._report(w, await self.runtime_state(w.uid), terminal=True)
        await self.write_status(w, status)
        if status.phase in podstatus.TERMINAL_PHASES:
            w.terminal = True
            await self._stop_terminal(w)
        return status

    async def _pod_ip(self, pod: pod_pb2.Pod, runtime: PodRuntime) -> str:
        if pod.spec.host_network:
            return self.config.node_ip
        sandbox = runtime.sandbox
        if sandbox is None or sandbox.state != cri_pb.SANDBOX_READY:
            return ""
        if sandbox.id not in self._sandbox_ips:
            try:
                self._sandbox_ips[sandbox.id] = (await self.cri.pod_sandbox_status(sandbox.id)).network.ip
            except CRIError:
                return ""
        return self._sandbox_ips[sandbox.id]

    async def write_status(self, w: PodWorker, status: pod_pb2.PodStatus) -> None:
        if not podstatus.status_changed(w.pod.status, status):
            return
        pod = pod_pb2.Pod()
        pod.CopyFrom(w.pod)
        pod.status.CopyFrom(status)
        for _ in range(3):
            try:
                w.pod = await self.client.update_status(pod)
                return
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.NOT_FOUND:
                    return
                if e.code() != grpc.StatusCode.ABORTED:
                    raise
                fresh = await self.client.get("Pod", pod.metadata.name, pod.metadata.namespace)
                if fresh.metadata.uid != w.uid:
                    return
                pod.CopyFrom(fresh)
                pod.status.CopyFrom(status)

    async def _stop_terminal(self, w: PodWorker) -> None:
        runtime = await self.runtime_state(w.uid)
        if any(s.state == cri_pb.CONTAINER_RUNNING for _, s in runtime.containers):
            await self.lifecycle.kill_containers(w, runtime, grace=self._grace(w.pod))
        for sandbox in runtime.sandboxes:
            if sandbox.state == cri_pb.SANDBOX_READY:
                await self.cri.stop_pod_sandbox(sandbox.id)

    def _grace(self, pod: pod_pb2.Pod) -> int:
        if pod.metadata.HasField("deletion_grace_period_seconds"):
            return pod.metadata.deletion_grace_period_seconds
        if pod.spec.HasField("termination_grace_period_seconds"):
            return pod.spec.termination_grace_period_seconds
        return DEFAULT_GRACE

    async def _terminate(self, w: PodWorker) -> None:
        """Graceful deletion: preStop hooks, stop with the grace period, remove everything, then the pod."""
        runtime = await self.runtime_state(w.uid)
        await self.lifecycle.kill_containers(w, runtime, grace=self._grace(w.pod))
        await self.remove_pod_resources(w.uid, runtime, w.pod)
        if w.deleted:
            return
        meta = w.pod.metadata
        try:
            await self.client.delete("Pod", meta.name, meta.namespace, grace_period_seconds=0, uid=meta.uid)
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                                grpc.StatusCode.ABORTED):
                raise

    async def remove_pod_resources(self, uid: str, runtime: PodRuntime, pod: pod_pb2.Pod | None = None) -> None:
        for c, _ in runtime.containers:
            await self.cri.remove_container(c.id)
        for sandbox in runtime.sandboxes:
            await self.cri.stop_pod_sandbox(sandbox.id)
            await self.cri.remove_pod_sandbox(sandbox.id)
            self._sandbox_ips.pop(sandbox.id, None)
        await self.lifecycle.cleanup_pod(uid, pod)
        self._fingerprints.pop(uid, None)
        shutil.rmtree(self.pod_dir(uid), ignore_errors=True)

    # ---- paths ------------------------------------------------------------------------------

    def pod_dir(self, uid: str) -> str:
        return os.path.join(self.config.root_dir, "pods", uid)

    def log_dir(self, pod: pod_pb2.Pod) -> str:
        meta = pod.metadata
        return os.path.join(self.config.root_dir, "logs", f"{meta.namespace}_{meta.name}_{meta.uid}")


def _revision(pod: pod_pb2.Pod) -> int:
    text = pod.metadata.resource_version
    return int(text) if text.isdigit() else 0


def _read_resolv_conf(path: str) -> cfg.ResolvConf:
    try:
        with open(path) as f:
            return cfg.parse_resolv_conf(f.read())
    except OSError:
        return cfg.ResolvConf()
