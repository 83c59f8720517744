"""The raw-CRI baseline of the podstart benchmark: what starting a pod costs containerd alone.

raw_cri_start_times(cri, n) starts n one-container busybox pods straight through CRI
(RunPodSandbox + CreateContainer + StartContainer, the image already present), one after
another, returns each pod's wall time in seconds, then removes the pods again.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid

from cri.runtime.v1 import api_pb2 as pb
from node.cri import CRI, container_labels, pod_labels

IMAGE = "localhost:5000/busybox:1"


def _sandbox_config(name: str, log_root: str, host_network: bool) -> pb.PodSandboxConfig:
    uid = str(uuid.uuid4())
    mode = pb.NODE if host_network else pb.POD
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace="bench"), hostname=name,
        log_directory=f"{log_root}/bench_{name}_{uid}", labels=pod_labels("bench", name, uid),
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=mode))))


async def _start_one(cri: CRI, name: str, image: str, log_root: str, host_network: bool) -> tuple[str, float]:
    config = _sandbox_config(name, log_root, host_network)
    t0 = time.perf_counter()
    sandbox_id = await cri.run_pod_sandbox(config)
    container = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="main"), image=pb.ImageSpec(image=image),
        command=["sleep", "3600"], log_path="main/0.log",
        labels=container_labels("bench", name, config.metadata.uid, "main"))
    container_id = await cri.create_container(sandbox_id, container, config)
    await cri.start_container(container_id)
    return sandbox_id, time.perf_counter() - t0


async def raw_cri_start_times(cri: CRI, n: int, *, image: str = IMAGE, host_network: bool = False) -> list[float]:
    """Seconds per pod for n pods started sequentially through CRI; the pods are removed afterwards."""
    log_root = tempfile.mkdtemp(prefix="skiff-bench-cri-")
    sandboxes, times = [], []
    try:
        for i in range(n):
            sandbox_id, seconds = await _start_one(cri, f"raw-{i}-{uuid.uuid4().hex[:6]}", image, log_root,
                                                   host_network)
            sandboxes.append(sandbox_id)
            times.append(seconds)
    finally:
        for sandbox_id in sandboxes:
            await cri.stop_pod_sandbox(sandbox_id)
            await cri.remove_pod_sandbox(sandbox_id)
        shutil.rmtree(log_root, ignore_errors=True)
    return times
