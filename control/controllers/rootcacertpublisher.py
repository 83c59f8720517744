"""The root-ca-cert-publisher controller: every active namespace has the ConfigMap `kube-root-ca.crt`
whose `ca.crt` is the cluster's CA bundle (--root-ca-file), which pods' kube-api-access volumes
project; one changed or deleted is put back."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import grpc
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, option
from control.client.kinds import KINDS
from control.client.wellknown import is_being_deleted

log = logging.getLogger(__name__)
CONFIG_MAP = "kube-root-ca.crt"
KEY = "ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")
IGNORED = (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED)


@dataclass(frozen=True)
class RootCACertPublisherOptions:
    root_ca_file: str = option("", "the cluster's CA bundle, published as ConfigMap kube-root-ca.crt in every "
                                   "namespace (none: nothing is published)")


class RootCACertPublisher(Controller):
    name = "root-ca-cert-publisher"
    Options = RootCACertPublisherOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, 2)
        self.path = ctx.options.root_ca_file
        self.namespaces = ctx.informers.get("Namespace")
        self.config_maps = ctx.informers.get("ConfigMap")
        self.namespaces.add_handler(on_add=self._namespace, on_update=lambda _old, new: self._namespace(new))
        self.config_maps.add_handler(on_update=lambda _old, new: self._config_map(new), on_delete=self._config_map)

    @cached_property
    def bundle(self) -> str:
        with open(self.path) as f:
            return f.read()

    def _namespace(self, ns: Message) -> None:
        self.queue.add(ns.metadata.name)

    def _config_map(self, cm: Message) -> None:
        if cm.metadata.name == CONFIG_MAP:
            self.queue.add(cm.metadata.namespace)

    async def reconcile(self, key: str) -> None:
        ns = self.namespaces.store.get(key)
        if not self.path or ns is None or is_being_deleted(ns):
            return
        current = self.config_maps.store.get(f"{key}/{CONFIG_MAP}")
        try:
            if current is None:
                await self.client.create(self._wanted(key))
            elif current.data.get(KEY) != self.bundle or \
                    current.metadata.annotations.get(DESCRIPTION_ANNOTATION) != DESCRIPTION:
                updated = self._wanted(key)
                updated.metadata.MergeFrom(current.metadata)
                updated.metadata.annotations[DESCRIPTION_ANNOTATION] = DESCRIPTION
                updated.data.update(current.data)
                updated.data[KEY] = self.bundle
                await self.client.update(updated)
        except grpc.aio.AioRpcError as e:
            if e.code() not in IGNORED:
                raise
            log.debug("%s in %s: %s", CONFIG_MAP, key, e.details())
            if e.code() is grpc.StatusCode.ABORTED:
                self.queue.add(key)

    def _wanted(self, namespace: str) -> Message:
        cm = KINDS["ConfigMap"].new()
        cm.metadata.name, cm.metadata.namespace = CONFIG_MAP, namespace
        cm.metadata.annotations[DESCRIPTION_ANNOTATION] = DESCRIPTION
        cm.data[KEY] = self.bundle
        return cm
