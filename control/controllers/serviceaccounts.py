"""The ServiceAccounts controller: every active namespace has a ServiceAccount named `default`.

As Kubernetes' serviceaccounts-controller: a new namespace gets one, and a deleted one is made
again; terminating namespaces are left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, option
from control.client.kinds import KINDS
from control.client.wellknown import is_being_deleted

log = logging.getLogger(__name__)
DEFAULT_NAME = "default"


@dataclass(frozen=True)
class ServiceAccountsOptions:
    concurrent_serviceaccount_syncs: int = option(5, "namespaces whose default ServiceAccount is synced at once")


class ServiceAccountsController(Controller):
    name = "serviceaccount"
    Options = ServiceAccountsOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_serviceaccount_syncs)
        self.namespaces = ctx.informers.get("Namespace")
        self.accounts = ctx.informers.get("ServiceAccount")
        self.namespaces.add_handler(on_add=self.enqueue, on_update=lambda _old, new: self.enqueue(new))
        self.accounts.add_handler(on_delete=self._account_deleted)

    def _account_deleted(self, sa: Message) -> None:
        if sa.metadata.name == DEFAULT_NAME:
            self.queue.add(sa.metadata.namespace)

    async def reconcile(self, key: str) -> None:
        ns = self.namespaces.store.get(key)
        if ns is None or is_being_deleted(ns) or self.accounts.store.get(f"{key}/{DEFAULT_NAME}") is not None:
            return
        sa = KINDS["ServiceAccount"].new()
        sa.metadata.name, sa.metadata.namespace = DEFAULT_NAME, key
        try:
            await self.client.create(sa)
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.NOT_FOUND,
                                grpc.StatusCode.PERMISSION_DENIED):
                raise
            log.debug("default ServiceAccount in %s: %s", key, e.details())
