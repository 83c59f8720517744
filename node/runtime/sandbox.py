"""The pod sandbox (the kubelet's kuberuntime_sandbox.go): its config, creating a new one when the
pod has none that is ready, stopping and removing them, and the pod-IP cache."""

from __future__ import annotations

import os

from control.client.events import EventRecorder
from cri.runtime.v1 import api_pb2 as cri_pb
from node.config import AgentConfig
from node.cri import CRI, CRIError
from node.podworkers import PodWorker
from node.registration import MAX_PODS
from node.runtime import config as runtime_config
from node.runtime import dns, userns
from node.runtime.state import PodRuntime
from node.runtime.volumes import VolumeManager
from skiff.v1 import pod_pb2


class Sandboxes:
    def __init__(self, cri: CRI, config: AgentConfig, recorder: EventRecorder, volumes: VolumeManager) -> None:
        self.cri = cri
        self.config = config
        self.recorder = recorder
        self.volumes = volumes
        self.host_resolv = dns.ResolvConf()
        self._ips: dict[str, str] = {}  # sandbox id -> its IP, the one pod-IP cache
        self.user_namespaces = userns.UserNamespaces(config.root_dir, MAX_PODS)

    def load_resolv_conf(self) -> None:
        """The node's resolver, for pods with dnsPolicy Default."""
        try:
            with open(self.config.resolv_conf) as f:
                self.host_resolv = dns.parse_resolv_conf(f.read())
        except OSError:
            self.host_resolv = dns.ResolvConf()

    def log_dir(self, pod: pod_pb2.Pod) -> str:
        meta = pod.metadata
        return os.path.join(self.config.root_dir, "logs", f"{meta.namespace}_{meta.name}_{meta.uid}")

    def sandbox_config(self, pod: pod_pb2.Pod, attempt: int) -> cri_pb.PodSandboxConfig:
        c = self.config
        dns_config = dns.pod_dns_config(pod, c.cluster_dns, c.cluster_domain, self.host_resolv)
        config = runtime_config.sandbox_config(pod, attempt=attempt, log_directory=self.log_dir(pod),
                                               dns=dns_config, node_hostname=c.hostname or c.node_name,
                                               seccomp_root=c.security.seccomp_root,
                                               cluster_domain=c.cluster_domain)
        if userns.wants_user_namespace(pod):
            options = config.linux.security_context.namespace_options.userns_options
            options.CopyFrom(self.user_namespaces.options(pod.metadata.uid))
        return config

    async def ensure(self, w: PodWorker, runtime: PodRuntime) -> cri_pb.PodSandbox | None:
        """The pod's ready sandbox, created (after its volumes) when there is none; None when it cannot be."""
        sandbox, pod = runtime.sandbox, w.pod
        if sandbox is not None and sandbox.state == cri_pb.SANDBOX_READY:
            return sandbox
        if sandbox is not None and pod.spec.restart_policy == "Never" and runtime.containers:
            return None  # the kubelet does not bring a Never pod back once its containers ran
        if not await self.volumes.setup(w):
            return None
        if userns.wants_user_namespace(pod) and not await userns.handler_supports(self.cri):
            # As the kubelet: no sandbox while the runtime cannot make user namespaces (retried).
            self.recorder.event(pod, "Warning", "FailedCreatePodSandBox",
                                f"Failed to create pod sandbox: {userns.UNSUPPORTED}")
            w.sync_soon(10.0)
            return None
        attempt = sandbox.metadata.attempt + 1 if sandbox is not None else 0
        try:
            config = self.sandbox_config(pod, attempt)
            os.makedirs(config.log_directory, exist_ok=True)
            sandbox_id = await self.cri.run_pod_sandbox(config)
        except (CRIError, runtime_config.SandboxConfigError) as e:
            details = e.details if isinstance(e, CRIError) else str(e)
            self.recorder.event(pod, "Warning", "FailedCreatePodSandBox", f"Failed to create pod sandbox: {details}")
            w.sync_soon(2.0)
            return None
        for old in runtime.sandboxes:
            await self.cri.stop_pod_sandbox(old.id)
        created = cri_pb.PodSandbox(id=sandbox_id, metadata=config.metadata, state=cri_pb.SANDBOX_READY,
                                    labels=config.labels)
        runtime.sandboxes.insert(0, created)
        return created

    async def ip(self, sandbox_id: str) -> str:
        """The sandbox's IP as its network reports it (CRIError when the runtime cannot say)."""
        if sandbox_id not in self._ips:
            self._ips[sandbox_id] = (await self.cri.pod_sandbox_status(sandbox_id)).network.ip
        return self._ips[sandbox_id]

    async def pod_ip(self, pod: pod_pb2.Pod, sandbox: cri_pb.PodSandbox | None) -> str:
        """The pod's IP: the node's for hostNetwork pods, else its ready sandbox's ("" when it has none)."""
        if pod.spec.host_network:
            return self.config.node_ip
        if sandbox is None or sandbox.state != cri_pb.SANDBOX_READY:
            return ""
        try:
            return await self.ip(sandbox.id)
        except CRIError:
            return ""

    async def stop(self, runtime: PodRuntime) -> None:
        for sandbox in runtime.sandboxes:
            if sandbox.state == cri_pb.SANDBOX_READY:
                await self.cri.stop_pod_sandbox(sandbox.id)

    async def remove(self, runtime: PodRuntime) -> None:
        for sandbox in runtime.sandboxes:
            await self.cri.stop_pod_sandbox(sandbox.id)
            await self.cri.remove_pod_sandbox(sandbox.id)
            self._ips.pop(sandbox.id, None)
