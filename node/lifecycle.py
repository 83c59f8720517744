"""Sandbox and container actions for the pods' workers: start, restart, probe, stop.

The agent's sync loop (node/agent.py) decides when; this decides how, through CRI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc

from cri.runtime.v1 import api_pb2 as cri_pb
from node import containers as cfg
from node import podstatus, probes, volumes
from node.cri import CRIError
from node.images import ImagePullError
from node.termination import TerminationMessages
from skiff.v1 import pod_pb2

log = logging.getLogger(__name__)

VOLUME_REFRESH_PERIOD = 10.0
DEFAULT_GRACE = 30


@dataclass
class PodWorker:
    uid: str
    pod: pod_pb2.Pod
    deleted: bool = False  # gone from the apiserver
    terminal: bool = False  # Succeeded/Failed: containers stopped, waiting for deletion
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    next_sync: float = 0.0
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)  # container -> (reason, message)
    task: asyncio.Task | None = None

    def sync_soon(self, delay: float) -> None:
        at = time.monotonic() + delay
        self.next_sync = at if not self.next_sync else min(self.next_sync, at)


@dataclass
class PodRuntime:
    sandboxes: list[cri_pb.PodSandbox]  # newest first
    containers: list[tuple[cri_pb.Container, cri_pb.ContainerStatus]]

    @property
    def sandbox(self) -> cri_pb.PodSandbox | None:
        return self.sandboxes[0] if self.sandboxes else None

    def of(self, name: str) -> list[tuple[cri_pb.Container, cri_pb.ContainerStatus]]:
        mine = [(c, s) for c, s in self.containers if c.metadata.name == name]
        return sorted(mine, key=lambda cs: podstatus.restart_count(cs[1]), reverse=True)


if TYPE_CHECKING:
    from node.agent import Agent


class Lifecycle:
    """Sandbox and container actions for the pods' workers: start, restart, probe, stop."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.cri = agent.cri
        self.volume_paths: dict[str, dict[str, str]] = {}
        self.pod_ips: dict[str, str] = {}
        self.unhealthy: set[str] = set()  # containers whose liveness/startup probe failed for good
        self.probers: dict[str, probes.ContainerProbes] = {}
        self.terminations = TerminationMessages(agent.pod_dir)
        self._volumes_synced: dict[str, float] = {}

    async def close(self) -> None:
        for probers in self.probers.values():
            await probers.stop()
        self.probers.clear()

    # ---- sandbox ----

    def sandbox_config(self, pod: pod_pb2.Pod, attempt: int) -> cri_pb.PodSandboxConfig:
        a = self.agent
        dns = cfg.pod_dns_config(pod, a.config.cluster_dns, a.config.cluster_domain, a.host_resolv)
        return cfg.sandbox_config(pod, attempt=attempt, log_directory=a.log_dir(pod), dns=dns,
                                  node_hostname=a.config.hostname or a.config.node_name)

    async def ensure_sandbox(self, w: PodWorker, runtime: PodRuntime) -> cri_pb.PodSandbox | None:
        sandbox, pod = runtime.sandbox, w.pod
        if sandbox is not None and sandbox.state == cri_pb.SANDBOX_READY:
            return sandbox
        if sandbox is not None and pod.spec.restart_policy == "Never" and runtime.containers:
            return None  # the kubelet does not bring a Never pod back once its containers ran
        if not await self._setup_volumes(w):
            return None
        attempt = sandbox.metadata.attempt + 1 if sandbox is not None else 0
        config = self.sandbox_config(pod, attempt)
        os.makedirs(config.log_directory, exist_ok=True)
        try:
            sandbox_id = await self.cri.run_pod_sandbox(config)
        except CRIError as e:
            self.agent.recorder.event(pod, "Warning", "FailedCreatePodSandBox",
                                      f"Failed to create pod sandbox: {e.details}")
            w.sync_soon(2.0)
            return None
        for old in runtime.sandboxes:
            await self.cri.stop_pod_sandbox(old.id)
        created = cri_pb.PodSandbox(id=sandbox_id, metadata=config.metadata, state=cri_pb.SANDBOX_READY,
                                    labels=config.labels)
        runtime.sandboxes.insert(0, created)
        return created

    async def _setup_volumes(self, w: PodWorker) -> bool:
        pod = w.pod
        try:
            cms = await self._fetch("ConfigMap", pod, volumes.referenced_config_maps(pod))
            secrets = await self._fetch("Secret", pod, volumes.referenced_secrets(pod))
            self.volume_paths[w.uid] = await volumes.setup_volumes(self.agent.config.root_dir, pod, cms, secrets)
        except volumes.VolumeError as e:
            self.agent.recorder.event(pod, "Warning", "FailedMount", str(e))
            for c in [*pod.spec.init_containers, *pod.spec.containers]:
                w.waiting[c.name] = ("ContainerCreating", str(e))
            w.sync_soon(2.0)
            return False
        self._volumes_synced[w.uid] = time.monotonic()
        for name in [n for n, (reason, _) in w.waiting.items() if reason == "ContainerCreating"]:
            del w.waiting[name]
        return True

    async def refresh_volumes(self, w: PodWorker) -> None:
        """configMap and secret volumes follow their objects, as the kubelet's periodic sync does."""
        pod = w.pod
        if not (volumes.referenced_config_maps(pod) or volumes.referenced_secrets(pod)):
            return
        if time.monotonic() - self._volumes_synced.get(w.uid, 0.0) >= VOLUME_REFRESH_PERIOD:
            await self._setup_volumes(w)
        w.sync_soon(VOLUME_REFRESH_PERIOD)

    async def _fetch(self, kind: str, pod: pod_pb2.Pod, names: list[str]) -> dict:
        found = {}
        for name in dict.fromkeys(names):
            try:
                found[name] = await self.agent.client.get(kind, name, pod.metadata.namespace)
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
        return found

    async def cleanup_pod(self, uid: str, pod: pod_pb2.Pod | None) -> None:
        self.volume_paths.pop(uid, None)
        self.pod_ips.pop(uid, None)
        self._volumes_synced.pop(uid, None)
        await volumes.cleanup_volumes(self.agent.config.root_dir, uid)
        if pod is not None:
            shutil.rmtree(self.agent.log_dir(pod), ignore_errors=True)

    # ---- containers ----

    async def converge(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox) -> bool:
        """Starts, restarts or kills containers toward the spec; True if anything changed."""
        if await self._kill_unhealthy(w, runtime):
            return True
        pod = w.pod
        changed = False
        # As the kubelet: once a regular container exists, initialization is over and only
        # sidecars (restartable init containers) are still looked after.
        initialized = any(self._current(runtime, c.name, sandbox) for c in pod.spec.containers)
        finished = self._regular_done(pod, runtime, sandbox)
        for spec in pod.spec.init_containers:
            if initialized:
                if spec.restart_policy == "Always" and not finished:
                    changed |= await self._converge_one(w, runtime, sandbox, spec, init=True)
                continue
            done, did = await self._converge_init(w, runtime, sandbox, spec)
            changed |= did
            if not done:
                return changed
        for spec in pod.spec.containers:
            changed |= await self._converge_one(w, runtime, sandbox, spec, init=False)
        if finished:
            changed |= await self._stop_sidecars(w, runtime)
        return changed

    def _regular_done(self, pod: pod_pb2.Pod, runtime: PodRuntime, sandbox: cri_pb.PodSandbox) -> bool:
        """Every regular container exited and its restart policy keeps it down."""
        for spec in pod.spec.containers:
            current = self._current(runtime, spec.name, sandbox)
            if not current or current[0].state != cri_pb.CONTAINER_EXITED:
                return False
            if self._should_restart(pod, spec, current[0], init=False):
                return False
        return bool(pod.spec.containers)

    async def _stop_sidecars(self, w: PodWorker, runtime: PodRuntime) -> bool:
        sidecars = {c.name for c in w.pod.spec.init_containers if c.restart_policy == "Always"}
        live = [(c, s) for c, s in runtime.containers
                if c.metadata.name in sidecars and s.state == cri_pb.CONTAINER_RUNNING]
        if live:
            await self.kill_containers(w, PodRuntime(runtime.sandboxes, live), grace=self.agent._grace(w.pod))
        return bool(live)

    def _current(self, runtime: PodRuntime, name: str, sandbox: cri_pb.PodSandbox) -> list[cri_pb.ContainerStatus]:
        return [s for c, s in runtime.of(name) if c.pod_sandbox_id == sandbox.id]

    async def _converge_init(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox,
                             spec: pod_pb2.Container) -> tuple[bool, bool]:
        """(initialization may go on past this container, anything changed)."""
        sidecar = spec.restart_policy == "Always"
        current = self._current(runtime, spec.name, sandbox)
        latest = current[0] if current else None
        if not sidecar and latest is not None and latest.state == cri_pb.CONTAINER_EXITED:
            if latest.exit_code == 0:
                return True, False
            if w.pod.spec.restart_policy == "Never":
                return False, False
        changed = await self._converge_one(w, runtime, sandbox, spec, init=True)
        if changed or latest is None or latest.state != cri_pb.CONTAINER_RUNNING:
            return False, changed
        return sidecar and self.probe_state(spec, latest.id)[1], False

    async def _converge_one(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox,
                            spec: pod_pb2.Container, init: bool) -> bool:
        current = self._current(runtime, spec.name, sandbox)
        latest = current[0] if current else None
        if latest is None:
            if w.pod.spec.restart_policy == "Never" and runtime.of(spec.name) and not init:
                return False  # it ran in an earlier sandbox
            return await self._start(w, runtime, sandbox, spec, init)
        if latest.state == cri_pb.CONTAINER_RUNNING:
            w.waiting.pop(spec.name, None)
            if latest.annotations.get(cfg.HASH_ANNOTATION, "") not in ("", cfg.container_hash(spec)):
                self.agent.recorder.event(w.pod, "Normal", "Killing",
                                          f"Container {spec.name} definition changed, will be restarted")
                await self._kill_one(w, spec, latest.id, time.monotonic() + self.agent._grace(w.pod))
                return True
            self.ensure_probes(w, spec, latest)
            return False
        if latest.state == cri_pb.CONTAINER_EXITED and self._should_restart(w.pod, spec, latest, init):
            return await self._restart(w, runtime, sandbox, spec, latest, init)
        if latest.state in (cri_pb.CONTAINER_CREATED, cri_pb.CONTAINER_UNKNOWN):
            # Left half-done by an agent that died between create and start: replace it.
            await self.cri.remove_container(latest.id)
            return True
        return False

    @staticmethod
    def _should_restart(pod: pod_pb2.Pod, spec: pod_pb2.Container, status: cri_pb.ContainerStatus,
                        init: bool) -> bool:
        if spec.restart_policy == "Always":
            return True
        policy = pod.spec.restart_policy or "Always"
        if init:
            return policy != "Never" and status.exit_code != 0
        return policy == "Always" or (policy == "OnFailure" and status.exit_code != 0)

    async def _restart(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox,
                       spec: pod_pb2.Container, latest: cri_pb.ContainerStatus, init: bool) -> bool:
        key, finished = f"{w.uid}/{spec.name}", latest.finished_at / 1e9
        backoff = self.agent.backoff
        remaining = backoff.remaining(key, finished)
        if remaining > 0:
            meta = w.pod.metadata
            w.waiting[spec.name] = ("CrashLoopBackOff", f"back-off {backoff.get(key):.0f}s restarting failed "
                                    f"container={spec.name} pod={meta.name}_{meta.namespace}({meta.uid})")
            self.agent.recorder.event(w.pod, "Warning", "BackOff", f"Back-off restarting failed container "
                                      f"{spec.name} in pod {meta.name}_{meta.namespace}({meta.uid})")
            w.sync_soon(remaining)
            return False
        backoff.next(key, finished)
        return await self._start(w, runtime, sandbox, spec, init, podstatus.restart_count(latest) + 1)

    async def _start(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox,
                     spec: pod_pb2.Container, init: bool, attempt: int | None = None) -> bool:
        pod, a = w.pod, self.agent
        if attempt is None:
            attempt = max((podstatus.restart_count(s) + 1 for _, s in runtime.of(spec.name)), default=0)
        sandbox_config = self.sandbox_config(pod, sandbox.metadata.attempt)
        try:
            image = await a.images.ensure_image(spec.image, spec.image_pull_policy, sandbox_config=sandbox_config,
                                                backoff_key=f"{w.uid}/{spec.image}")
            config = await self._container_config(w, spec, sandbox, attempt, image, init)
            container_id = await self.cri.create_container(sandbox.id, config, sandbox_config)
        except ImagePullError as e:
            w.waiting[spec.name] = (e.reason, e.message)
            a.recorder.event(pod, "Warning" if e.reason != "ImagePullBackOff" else "Normal",
                             "Failed" if e.reason != "ImagePullBackOff" else "BackOff", e.message)
            w.sync_soon(1.0 if e.reason == "ErrImagePull" else 5.0)
            return False
        except (cfg.ContainerConfigError, volumes.VolumeError) as e:
            w.waiting[spec.name] = ("CreateContainerConfigError", str(e))
            a.recorder.event(pod, "Warning", "Failed", f"Error: {e}")
            w.sync_soon(2.0)
            return False
        except CRIError as e:
            w.waiting[spec.name] = ("CreateContainerError", e.details)
            a.recorder.event(pod, "Warning", "Failed", f"Error: {e.details}")
            w.sync_soon(2.0)
            return False
        w.waiting.pop(spec.name, None)
        a.recorder.event(pod, "Normal", "Created", f"Created container {spec.name}")
        await self._prune(runtime.of(spec.name))
        try:
            await self.cri.start_container(container_id)
        except CRIError as e:
            a.recorder.event(pod, "Warning", "Failed", f"Error: {e.details}")
            return True  # it is now an exited container: the restart policy and back-off take over
        a.recorder.event(pod, "Normal", "Started", f"Started container {spec.name}")
        if spec.lifecycle.HasField("post_start") and not await self._run_hook(
                spec.lifecycle.post_start, container_id, w, spec.name, DEFAULT_GRACE):
            a.recorder.event(pod, "Warning", "FailedPostStartHook", f"PostStartHook failed for {spec.name}")
            await self.cri.stop_container(container_id, timeout=2)
            return True
        with contextlib.suppress(CRIError):
            self.ensure_probes(w, spec, await self.cri.container_status(container_id))
        return True

    async def _container_config(self, w: PodWorker, spec: pod_pb2.Container, sandbox: cri_pb.PodSandbox,
                                attempt: int, image: str, init: bool) -> cri_pb.ContainerConfig:
        pod, a = w.pod, self.agent
        config_maps = [e.config_map_ref.name for e in spec.env_from if e.HasField("config_map_ref")]
        config_maps += [v.value_from.config_map_key_ref.name for v in spec.env
                        if v.value_from.HasField("config_map_key_ref")]
        secrets = [e.secret_ref.name for e in spec.env_from if e.HasField("secret_ref")]
        secrets += [v.value_from.secret_key_ref.name for v in spec.env if v.value_from.HasField("secret_key_ref")]
        sandbox_status = await self.cri.pod_sandbox_status(sandbox.id)
        self.pod_ips[w.uid] = sandbox_status.network.ip
        ctx = cfg.EnvContext(config_maps=await self._fetch("ConfigMap", pod, config_maps),
                             secrets=await self._fetch("Secret", pod, secrets),
                             pod_ip=sandbox_status.network.ip, host_ip=a.config.node_ip,
                             node_allocatable=a.config.allocatable, services=await self._services(pod))
        env = cfg.container_env(pod, spec, ctx)
        if w.uid not in self.volume_paths and not await self._setup_volumes(w):
            raise volumes.VolumeError("volumes are not ready")
        mounts = volumes.container_mounts(pod, spec, self.volume_paths[w.uid])
        mounts.append(self.terminations.mount(w.uid, spec, attempt))
        if not pod.spec.host_network and all(m.container_path != "/etc/hosts" for m in mounts):
            mounts.append(self._etc_hosts_mount(w, sandbox_status.network.ip))
        return cfg.container_config(pod, spec, attempt=attempt, image=image, env=env, mounts=mounts,
                                    init=init, memory_capacity=a.config.memory_capacity)

    async def _services(self, pod: pod_pb2.Pod) -> list:
        """Services whose variables the pod gets: its namespace's (enableServiceLinks, on by default)
        and always the apiserver's own `kubernetes` Service in default."""
        spec = pod.spec
        links = not spec.HasField("enable_service_links") or spec.enable_service_links
        found = {}
        namespaces = ["default", pod.metadata.namespace] if links else ["default"]
        for namespace in dict.fromkeys(namespaces):
            items, _ = await self.agent.client.list_all("Service", namespace)
            for svc in items:
                if (namespace == pod.metadata.namespace and links) or svc.metadata.name == "kubernetes":
                    found[svc.metadata.name] = svc
        return list(found.values())

    def _etc_hosts_mount(self, w: PodWorker, pod_ip: str) -> cri_pb.Mount:
        path = os.path.join(self.agent.pod_dir(w.uid), "etc-hosts")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as f:
            f.write(cfg.etc_hosts(w.pod, pod_ip, self.agent.config.cluster_domain))
        os.replace(path + ".tmp", path)
        return cri_pb.Mount(container_path="/etc/hosts", host_path=path)

    def termination_messages(self, w: PodWorker, spec: pod_pb2.Container,
                             statuses: list[cri_pb.ContainerStatus]) -> dict[str, str]:
        return self.terminations.messages(w.uid, spec, statuses)

    async def _prune(self, pairs: list[tuple[cri_pb.Container, cri_pb.ContainerStatus]]) -> None:
        """Keeps one dead attempt per container (for lastState and `logs --previous`)."""
        for c, s in pairs[1:]:
            if s.state == cri_pb.CONTAINER_EXITED:
                await self.cri.remove_container(c.id)
                self.terminations.forget(c.id)
                with contextlib.suppress(OSError):
                    os.remove(s.log_path)

    async def _kill_unhealthy(self, w: PodWorker, runtime: PodRuntime) -> bool:
        victims = [c for c, s in runtime.containers if c.id in self.unhealthy and s.state == cri_pb.CONTAINER_RUNNING]
        for c in victims:
            log.info("pod %s: container %s failed its probe, restarting it", w.pod.metadata.name, c.metadata.name)
            spec = _spec(w.pod, c.metadata.name)
            await self._kill_one(w, spec, c.id, time.monotonic() + self.agent._grace(w.pod))
        self.unhealthy -= {c.id for c in victims}
        return bool(victims)

    async def kill_containers(self, w: PodWorker | None, runtime: PodRuntime, grace: int) -> None:
        """Stops running containers: regular ones first, then sidecars, each after its preStop hook."""
        live = [(c, s) for c, s in runtime.containers
                if s.state in (cri_pb.CONTAINER_RUNNING, cri_pb.CONTAINER_CREATED)]
        sidecars = {c.name for c in w.pod.spec.init_containers if c.restart_policy == "Always"} if w else set()
        deadline = time.monotonic() + grace
        for group in ([c for c, _ in live if c.metadata.name not in sidecars],
                      [c for c, _ in live if c.metadata.name in sidecars]):
            await asyncio.gather(*(self._kill_one(w, _spec(w.pod, c.metadata.name) if w else None, c.id, deadline)
                                   for c in group))

    async def _kill_one(self, w: PodWorker | None, spec: pod_pb2.Container | None, container_id: str,
                        deadline: float) -> None:
        self.forget_probes(container_id)
        if w is not None and spec is not None:
            self.agent.recorder.event(w.pod, "Normal", "Killing", f"Stopping container {spec.name}")
        if w is not None and spec is not None and spec.lifecycle.HasField("pre_stop"):
            budget = max(0.0, deadline - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._run_hook(spec.lifecycle.pre_stop, container_id, w, spec.name, budget), budget)
        # The kubelet's floor: a container always gets 2 s between SIGTERM and SIGKILL.
        await self.cri.stop_container(container_id, timeout=max(2, math.ceil(deadline - time.monotonic())))

    async def _run_hook(self, handler: pod_pb2.LifecycleHandler, container_id: str, w: PodWorker,
                        name: str, timeout: float) -> bool:
        try:
            if handler.HasField("exec"):
                result = await self.cri.exec_sync(container_id, list(handler.exec.command), timeout=timeout)
                return result.exit_code == 0
            if handler.HasField("sleep"):
                await asyncio.sleep(handler.sleep.seconds)
                return True
            if handler.HasField("http_get"):
                target = self._target(w, _spec(w.pod, name) or pod_pb2.Container(), container_id)
                return (await probes.http_probe(target, handler.http_get, timeout))[0] == probes.SUCCESS
        except (CRIError, OSError) as e:
            log.info("lifecycle hook in %s failed: %s", container_id, e)
            return False
        return True

    # ---- probes ----

    def probe_state(self, spec: pod_pb2.Container, container_id: str) -> tuple[bool, bool]:
        """(ready, started) of a running container from its probes' latest results."""
        probers = self.probers.get(container_id)
        if probers is None:
            plain = not spec.HasField("startup_probe") and not spec.HasField("readiness_probe")
            return plain, not spec.HasField("startup_probe")
        return probers.ready, probers.started()

    def _target(self, w: PodWorker, spec: pod_pb2.Container, container_id: str) -> probes.ProbeTarget:
        return probes.ProbeTarget(pod=w.pod, container=spec, container_id=container_id,
                                  pod_ip=self.pod_ips.get(w.uid, w.pod.status.pod_ip), cri=self.cri)

    def ensure_probes(self, w: PodWorker, spec: pod_pb2.Container, status: cri_pb.ContainerStatus) -> None:
        if status.id in self.probers:
            return
        started_at = status.started_at / 1e9 if status.started_at else None
        probers = probes.ContainerProbes(self._target(w, spec, status.id), self._on_probe_update,
                                         started_at=started_at)
        self.probers[status.id] = probers
        probers.start()

    def forget_probes(self, container_id: str) -> None:
        probers = self.probers.pop(container_id, None)
        if probers is not None:
            asyncio.ensure_future(probers.stop())

    def _on_probe_update(self, update: probes.ProbeUpdate) -> None:
        if update.kind in (probes.LIVENESS, probes.STARTUP) and update.result == probes.FAILURE:
            self.unhealthy.add(update.container_id)
        worker = self.agent.workers.get(update.pod_uid)
        if worker is not None and update.result == probes.FAILURE:
            self.agent.recorder.event(worker.pod, "Warning", "Unhealthy",
                                      f"{update.kind} probe failed: {update.message}")
        self.agent.wake(update.pod_uid)


def _spec(pod: pod_pb2.Pod, name: str) -> pod_pb2.Container | None:
    for c in [*pod.spec.init_containers, *pod.spec.containers]:
        if c.name == name:
            return c
    return None

