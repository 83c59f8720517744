"""The controller manager: runs the enabled controllers over shared informers.

How a controller plugs in (one file per controller, no controller imports another):

    # control/controllers/endpoints.py
    class EndpointsController(Controller):          # control.client.controller.Controller
        name = "endpoints"
        def __init__(self, ctx: ControllerContext):
            super().__init__(ctx.workers)
            self.services = ctx.informers.get("Service")   # shared, started by the manager
            self.services.add_handler(**self.enqueue_handlers())   # handlers only enqueue keys
        async def reconcile(self, key: str) -> None: ...   # level-triggered, idempotent

    # and one line in CONTROLLERS below:
    "endpoints": EndpointsController,

The manager builds every enabled controller first (so that they all register
their informers and handlers), then starts each informer once, waits for the
caches to sync and runs every controller's workers. Each controller gets its
own EventRecorder (source `<name>-controller`, as in Kubernetes) and the
component's flags in `ctx.options`. Failures in reconcile are retried by the
work queue with back-off; a controller that crashes outright stops the manager
(so the process exits and is restarted, as Kubernetes' would).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from control.client.client import Client
from control.client.controller import Controller, ControllerContext, SharedInformers
from control.client.events import EventRecorder
from control.controllers.deployment import DeploymentController
from control.controllers.endpoints import EndpointsController
from control.controllers.garbagecollector import GarbageCollector
from control.controllers.namespace import NamespaceController
from control.controllers.nodeipam import NodeIpamController
from control.controllers.nodelifecycle import NodeLifecycleController
from control.controllers.replicaset import ReplicaSetController

log = logging.getLogger(__name__)

CONTROLLERS: dict[str, Callable[[ControllerContext], Controller]] = {
    "replicaset": ReplicaSetController,
    "deployment": DeploymentController,
    "endpoints": EndpointsController,
    "garbagecollector": GarbageCollector,
    "namespace": NamespaceController,
    "nodeipam": NodeIpamController,
    "nodelifecycle": NodeLifecycleController,
}


def enabled_controllers(spec: list[str]) -> list[str]:
    """kube-controller-manager's --controllers: `*` is every controller, `foo` enables, `-foo` disables."""
    unknown = [n.lstrip("-") for n in spec if n != "*" and n.lstrip("-") not in CONTROLLERS]
    if unknown:
        raise ValueError(f"unknown controllers: {', '.join(unknown)} (known: {', '.join(CONTROLLERS)})")
    names = set(CONTROLLERS) if "*" in spec else set()
    names |= {n for n in spec if n in CONTROLLERS}
    names -= {n[1:] for n in spec if n.startswith("-")}
    return [n for n in CONTROLLERS if n in names]


class ControllerManager:
    def __init__(self, client: Client, controllers: list[str] | None = None,
                 workers: dict[str, int] | None = None, options: dict[str, Any] | None = None,
                 informer_options: dict[str, Any] | None = None, host: str = "") -> None:
        self.client = client
        self.names = enabled_controllers(controllers or ["*"])
        self.workers = workers or {}
        self.options = options or {}
        self.informer_options = informer_options or {}
        self.host = host
        self.controllers: dict[str, Controller] = {}

    async def run(self) -> None:
        """Runs until cancelled (e.g. when leadership is lost)."""
        informers = SharedInformers(self.client, **self.informer_options)
        recorders = []
        try:
            for name in self.names:
                recorder = EventRecorder(self.client, f"{name}-controller", self.host)
                recorders.append(recorder)
                ctx = ControllerContext(self.client, informers, recorder, self.workers.get(name, 1),
                                        self.options)
                self.controllers[name] = CONTROLLERS[name](ctx)
            informers.start()
            await informers.wait_synced()
            log.info("caches synced; starting controllers: %s", ", ".join(self.names))
            await asyncio.gather(*(c.run() for c in self.controllers.values()))
        finally:
            for controller in self.controllers.values():
                controller.queue.shutdown()
            await informers.stop()
            for recorder in recorders:
                await recorder.close()
