"""The Namespace controller: a deleted namespace's content goes first, then the namespace.

A Namespace being deleted is Terminating and holds the `kubernetes` entry in
spec.finalizers. reconcile deletes every namespaced object in it and, once a
fresh list shows nothing left, clears spec.finalizers so the apiserver removes
the namespace. Objects that wait on their own finalizers (pods shutting down
gracefully) are waited for, as Kubernetes does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc

from control.client.controller import Controller, ControllerContext, option
from control.client.informer import copy_of
from control.client.kinds import KINDS, Kind
from control.client.wellknown import is_being_deleted

log = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0
# Every namespaced kind of the table; Pods first, as Kubernetes' deleter does, so that their
# graceful shutdown starts early and their owners find nothing left to recreate.
NAMESPACED: list[Kind] = sorted((k for k in KINDS.values() if k.namespaced), key=lambda k: k.kind != "Pod")


@dataclass(frozen=True)
class NamespaceOptions:
    concurrent_namespace_syncs: int = option(10, "namespaces synced at once")


class NamespaceController(Controller):
    name = "namespace"
    Options = NamespaceOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_namespace_syncs)
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
