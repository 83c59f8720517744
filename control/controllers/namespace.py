"""The Namespace controller: a deleted namespace's content goes first, then the namespace.

A Namespace being deleted is Terminating and holds the `kubernetes` entry in
spec.finalizers. reconcile deletes every namespaced object in it and, once a
fresh list shows nothing left, clears spec.finalizers so the apiserver removes
the namespace. Objects that wait on their own finalizers (pods shutting down
gracefully) are waited for, as Kubernetes does.
"""

from __future__ import annotations

import logging

import grpc

from control.client.controller import Controller, ControllerContext, copy_of, is_being_deleted
from control.client.kinds import KINDS

log = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0
# Dependents before their owners, so the garbage collector has less to chase.
_ORDER = ["Pod", "ReplicaSet", "Deployment", "Endpoints", "Service", "ConfigMap", "Secret", "Lease", "Event",
          "RoleBinding", "Role"]
NAMESPACED = [KINDS[k] for k in _ORDER if KINDS[k].namespaced]


class NamespaceController(Controller):
    name = "namespace"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx.options.get("concurrent_namespace_syncs", ctx.workers))
        self.client = ctx.client
        self.namespaces = ctx.informers.get("Namespace")
        self.namespaces.add_handler(**self.enqueue_handlers())

    async def reconcile(self, key: str) -> None:
        ns = self.namespaces.store.get(key)
        if ns is None or not is_being_deleted(ns):
            return
        remaining = 0
        for kind in NAMESPACED:
            items, _ = await self.client.list_all(kind, key)
            remaining += len(items)
            for obj in items:
                if not is_being_deleted(obj) or kind.kind != "Pod":
                    await self._delete(kind, obj)
        if remaining:
            self.queue.add_after(key, RECHECK_SECONDS)
            return
        if ns.spec.finalizers:
            finished = copy_of(ns)
            del finished.spec.finalizers[:]
            try:
                await self.client.update(finished)
            except grpc.aio.AioRpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            log.info("namespace %s emptied and finalized", key)

    async def _delete(self, kind, obj) -> None:
        try:
            await self.client.delete(kind, obj.metadata.name, obj.metadata.namespace, propagation_policy="Background")
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.NOT_FOUND:
                raise
