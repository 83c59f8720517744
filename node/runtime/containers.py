"""Starting one container (the kubelet's startContainer): pull its image, generate its config (env,
mounts, /etc/hosts, termination log), create and start it, run its postStart hook, start its probes.

A failure before the container exists leaves the container waiting with the kubelet's reason
(ErrImagePull, CreateContainerConfigError, CreateContainerError) and retries soon.
"""

from __future__ import annotations

import contextlib
import functools
import os

from control.client.client import Client
from control.client.events import EventRecorder
from cri.runtime.v1 import api_pb2 as cri_pb
from node import podstatus, probes, volumes
from node.config import AgentConfig
from node.cri import CRI, CRIError
from node.images import ERR_IMAGE_PULL, IMAGE_PULL_BACKOFF, ImageManager, ImagePullError
from node.objects import get_objects, service_link_services
from node.podworkers import PodWorker
from node.probermanager import ProberManager
from node.runtime import security
from node.runtime.config import container_config, etc_hosts
from node.runtime.env import ContainerConfigError, EnvContext, container_env
from node.runtime.ephemeral import target_pid_namespace
from node.runtime.hooks import run_hook
from node.runtime.kill import DEFAULT_GRACE, MIN_STOP_TIMEOUT
from node.runtime.sandbox import Sandboxes
from node.runtime.state import ContainerPair, PodRuntime
from node.runtime.termination import TerminationMessages
from node.runtime.volumes import VolumeManager
from skiff.v1 import pod_pb2


class ContainerStarter:
    def __init__(self, cri: CRI, client: Client, config: AgentConfig, recorder: EventRecorder,
                 images: ImageManager, sandboxes: Sandboxes, volume_manager: VolumeManager,
                 probers: ProberManager) -> None:
        self.cri = cri
        self.client = client
        self.config = config
        self.recorder = recorder
        self.images = images
        self.sandboxes = sandboxes
        self.volumes = volume_manager
        self.probers = probers
        self.terminations = TerminationMessages(functools.partial(volumes.pod_dir, config.root_dir))

    async def start(self, w: PodWorker, runtime: PodRuntime, sandbox: cri_pb.PodSandbox, spec: pod_pb2.Container,
                    init: bool, pod_ip: str, attempt: int | None = None, target_id: str = "") -> bool:
        """Creates and starts one attempt of the container; True if the runtime changed. With target_id it
        shares that container's process namespace (an ephemeral container's target)."""
        pod = w.pod
        if attempt is None:
            attempt = max((podstatus.restart_count(s) + 1 for _, s in runtime.of(spec.name)), default=0)
        container_id = await self._create(w, sandbox, spec, init, attempt, target_id)
        if container_id is None:
            return False
        w.waiting.pop(spec.name, None)
        self.recorder.event(pod, "Normal", "Created", f"Created container {spec.name}")
        await self.prune(runtime.of(spec.name))
        try:
            await self.cri.start_container(container_id)
        except CRIError as e:
            self.recorder.event(pod, "Warning", "Failed", f"Error: {e.details}")
            return True  # it is now an exited container: the restart policy and back-off take over
        self.recorder.event(pod, "Normal", "Started", f"Started container {spec.name}")
        target = probes.ProbeTarget(pod=pod, container=spec, container_id=container_id, pod_ip=pod_ip, cri=self.cri)
        if spec.lifecycle.HasField("post_start") and not await run_hook(
                self.cri, spec.lifecycle.post_start, target, DEFAULT_GRACE):
            self.recorder.event(pod, "Warning", "FailedPostStartHook", f"PostStartHook failed for {spec.name}")
            await self.cri.stop_container(container_id, timeout=MIN_STOP_TIMEOUT)
            return True
        with contextlib.suppress(CRIError):
            self.probers.add_container(pod, spec, await self.cri.container_status(container_id), pod_ip)
        return True

    async def _create(self, w: PodWorker, sandbox: cri_pb.PodSandbox, spec: pod_pb2.Container, init: bool,
                      attempt: int, target_id: str = "") -> str | None:
        """The new container's id, or None with the container left waiting and a retry scheduled."""
        pod = w.pod
        sandbox_config = self.sandboxes.sandbox_config(pod, sandbox.metadata.attempt)
        try:
            image = await self.images.ensure_image(spec.image, spec.image_pull_policy, sandbox_config=sandbox_config,
                                                   backoff_key=f"{w.uid}/{spec.image}")
            user = security.image_user(await self.cri.image_status(image))
            refusal = security.verify_run_as_non_root(pod, spec, user)
            if refusal:
                raise ContainerConfigError(refusal)
            config = await self._container_config(w, spec, sandbox, attempt, image, init, user)
            if target_id:
                target_pid_namespace(config, target_id)
            # The containers share the sandbox's user namespace, as the kubelet asks for it.
            pod_userns = sandbox_config.linux.security_context.namespace_options.userns_options
            config.linux.security_context.namespace_options.userns_options.CopyFrom(pod_userns)
            return await self.cri.create_container(sandbox.id, config, sandbox_config)
        except ImagePullError as e:
            w.waiting[spec.name] = (e.reason, e.message)
            backoff = e.reason == IMAGE_PULL_BACKOFF
            self.recorder.event(pod, "Normal" if backoff else "Warning", "BackOff" if backoff else "Failed", e.message)
            w.sync_soon(1.0 if e.reason == ERR_IMAGE_PULL else 5.0)
        except (ContainerConfigError, volumes.VolumeError) as e:
            w.waiting[spec.name] = ("CreateContainerConfigError", str(e))
            self.recorder.event(pod, "Warning", "Failed", f"Error: {e}")
            w.sync_soon(2.0)
        except CRIError as e:
            w.waiting[spec.name] = ("CreateContainerError", e.details)
            self.recorder.event(pod, "Warning", "Failed", f"Error: {e.details}")
            w.sync_soon(2.0)
        return None

    async def _container_config(self, w: PodWorker, spec: pod_pb2.Container, sandbox: cri_pb.PodSandbox,
                                attempt: int, image: str, init: bool,
                                user: security.ImageUser) -> cri_pb.ContainerConfig:
        pod = w.pod
        pod_ip = await self.sandboxes.ip(sandbox.id)
        env = container_env(pod, spec, await self._env_context(pod, spec, pod_ip))
        paths = self.volumes.paths(w.uid)
        if paths is None:
            if not await self.volumes.setup(w):
                raise volumes.VolumeError("volumes are not ready")
            paths = self.volumes.paths(w.uid) or {}
        mounts = volumes.container_mounts(pod, spec, paths, dict(env))
        mounts.append(self.terminations.mount(w.uid, spec, attempt))
        if all(m.container_path != "/etc/hosts" for m in mounts):
            mounts.append(self._etc_hosts_mount(w, pod_ip))
        return container_config(pod, spec, attempt=attempt, image=image, env=env, mounts=mounts, init=init,
                                memory_capacity=self.config.memory_capacity,
                                seccomp_root=self.config.security.seccomp_root, image_user=user)

    async def _env_context(self, pod: pod_pb2.Pod, spec: pod_pb2.Container, pod_ip: str) -> EnvContext:
        """What the container's env may refer to: ConfigMaps, Secrets, Services, the pod's and node's IPs."""
        config_maps = [e.config_map_ref.name for e in spec.env_from if e.HasField("config_map_ref")]
        config_maps += [v.value_from.config_map_key_ref.name for v in spec.env
                        if v.value_from.HasField("config_map_key_ref")]
        secrets = [e.secret_ref.name for e in spec.env_from if e.HasField("secret_ref")]
        secrets += [v.value_from.secret_key_ref.name for v in spec.env if v.value_from.HasField("secret_key_ref")]
        namespace = pod.metadata.namespace
        return EnvContext(config_maps=await get_objects(self.client, "ConfigMap", namespace, config_maps),
                              secrets=await get_objects(self.client, "Secret", namespace, secrets),
                              pod_ip=pod_ip, host_ip=self.config.node_ip,
                              node_allocatable=self.config.allocatable,
                              services=await service_link_services(self.client, pod))

    def _etc_hosts_mount(self, w: PodWorker, pod_ip: str) -> cri_pb.Mount:
        path = os.path.join(volumes.pod_dir(self.config.root_dir, w.uid), "etc-hosts")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        node_hosts = None
        if w.pod.spec.host_network:
            with open(self.config.hosts_file) as f:
                node_hosts = f.read()
        with open(path + ".tmp", "w") as f:
            f.write(etc_hosts(w.pod, pod_ip, self.config.cluster_domain, node_hosts))
        os.replace(path + ".tmp", path)
        return cri_pb.Mount(container_path="/etc/hosts", host_path=path)

    async def prune(self, pairs: list[ContainerPair]) -> None:
        """Keeps one dead attempt per container (for lastState and `logs --previous`)."""
        for c, s in pairs[1:]:
            if s.state == cri_pb.CONTAINER_EXITED:
                await self.cri.remove_container(c.id)
                self.terminations.forget(c.id)
                self.probers.remove_container(c.id)
                with contextlib.suppress(OSError):
                    os.remove(s.log_path)
