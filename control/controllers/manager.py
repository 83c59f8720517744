"""The controller manager: runs the enabled controllers over shared informers.

Adding a controller is adding its module here, in control/controllers/ (and its tests):

    # control/controllers/endpoints.py
    @dataclass(frozen=True)
    class EndpointsOptions:                          # each field becomes a flag of the manager
        concurrent_endpoint_syncs: int = option(5, "Services whose endpoints are synced at once")

    class EndpointsController(Controller):          # control.client.controller.Controller
        name = "endpoints"                           # its name in --controllers
        Options = EndpointsOptions
        def __init__(self, ctx: ControllerContext):
            super().__init__(ctx, ctx.options.concurrent_endpoint_syncs)   # workers
            self.services = ctx.informers.get("Service")   # shared, started by the manager
            self.services.add_handler(**self.enqueue_handlers())   # handlers only enqueue keys
        async def reconcile(self, key: str) -> None: ...   # level-triggered, idempotent

The manager finds every Controller subclass with a name in the modules of this package. It
builds every enabled controller first (so that they all register their informers and
handlers), then starts each informer once, waits for the caches to sync and runs every
controller's workers. Each controller gets its own EventRecorder (source `<name>-controller`,
as in Kubernetes) and its typed options. Failures in reconcile are retried by the work queue
with back-off; a controller that crashes outright stops the manager (so the process exits and
is restarted, as Kubernetes' would).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import logging
import pkgutil
from typing import Any

import control.controllers
from control.client.client import Client
from control.client.controller import Controller, ControllerContext, SharedInformers, build_options
from control.client.events import EventRecorder
from control.client.informer import strip_managed_fields

log = logging.getLogger(__name__)

_NOT_CONTROLLER_MODULES = {"main", "manager"}  # the command itself (importing it would be a cycle)


def discover_controllers() -> dict[str, type[Controller]]:
    """Every named Controller subclass defined in the modules of control/controllers/, by name."""
    found: dict[str, type[Controller]] = {}
    for module_info in sorted(pkgutil.iter_modules(control.controllers.__path__), key=lambda m: m.name):
        if module_info.name in _NOT_CONTROLLER_MODULES:
            continue
        module = importlib.import_module(f"control.controllers.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Controller) and cls.__module__ == module.__name__ and cls.name:
                if cls.name in found:
                    raise RuntimeError(f"two controllers named {cls.name!r}: {found[cls.name]} and {cls}")
                found[cls.name] = cls
    return found


CONTROLLERS: dict[str, type[Controller]] = discover_controllers()


def option_fields() -> dict[str, dataclasses.Field]:
    """Every option of every controller, by field name; a name shared by two must agree."""
    fields: dict[str, dataclasses.Field] = {}
    for cls in CONTROLLERS.values():
        for f in dataclasses.fields(cls.Options):
            other = fields.get(f.name)
            if other is not None and (other.default, other.type) != (f.default, f.type):
                raise RuntimeError(f"option {f.name!r} declared differently by two controllers")
            fields[f.name] = f
    return fields


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
                 options: dict[str, Any] | None = None, informer_options: dict[str, Any] | None = None,
                 host: str = "") -> None:
        """options: values of the controllers' Options fields by name (the rest keep their defaults)."""
        self.client = client
        self.names = enabled_controllers(controllers or ["*"])
        self.options = options or {}
        unknown = set(self.options) - set(option_fields())
        if unknown:
            raise ValueError(f"unknown controller options: {', '.join(sorted(unknown))}")
        self.informer_options = informer_options or {}
        self.host = host
        self.controllers: dict[str, Controller] = {}

    async def run(self) -> None:
        """Runs until cancelled (e.g. when leadership is lost)."""
        # As kube-controller-manager: no informer keeps managedFields, which no controller reads.
        informers = SharedInformers(self.client, **{"transform": strip_managed_fields, **self.informer_options})
        recorders = []
        try:
            for name in self.names:
                cls = CONTROLLERS[name]
                recorder = EventRecorder(self.client, cls.source(), self.host)
                recorders.append(recorder)
                ctx = ControllerContext(self.client, informers, recorder, build_options(cls, self.options))
                self.controllers[name] = cls(ctx)
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
