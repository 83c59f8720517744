"""Container lifecycle hooks (the kubelet's lifecycle handlers): postStart and preStop, each an exec
in the container, an HTTP GET against the pod, or a sleep."""

from __future__ import annotations

import asyncio
import logging

from node import probes
from node.cri import CRI, CRIError
from skiff.v1 import pod_pb2

log = logging.getLogger(__name__)


async def run_hook(cri: CRI, handler: pod_pb2.LifecycleHandler, target: probes.ProbeTarget, timeout: float) -> bool:
    """Runs one hook against target's container; whether it succeeded."""
    try:
        if handler.HasField("exec"):
            result = await cri.exec_sync(target.container_id, list(handler.exec.command), timeout=timeout)
            return result.exit_code == 0
        if handler.HasField("sleep"):
            await asyncio.sleep(handler.sleep.seconds)
            return True
        if handler.HasField("http_get"):
            return (await probes.http_probe(target, handler.http_get, timeout))[0] == probes.SUCCESS
    except (CRIError, OSError) as e:
        log.info("lifecycle hook in %s failed: %s", target.container_id, e)
        return False
    return True
