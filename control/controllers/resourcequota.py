"""Resource quota: keeps each ResourceQuota's status.hard (its spec's) and status.used (what the
objects of its namespace that it covers use) current.

Admission raises status.used as objects are created; only this controller lowers it, when objects
go or finish (pods in a terminal phase use no compute resources and no `pods`). Usage is counted
from paginated lists, which the apiserver reads from etcd, never from informer caches: a cache
behind the quota would count less than admission has charged and let creates overshoot. The
status is written at the resourceVersion the quota was read at, so a charge made meanwhile makes
the write fail and the quota is counted again. A quota is recounted when it changes, when an
object of a kind with a name of its own in quotas (pods, services, configmaps, ...) is deleted or
a pod finishes (and any kind a quota counts as `count/<resource>`, once a quota does), and every
--resource-quota-sync-period.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from google.protobuf.message import Message

from control.client import quota
from control.client.component import duration
from control.client.controller import Controller, ControllerContext, option
from control.client.informer import split_key
from control.client.kinds import KINDS

log = logging.getLogger(__name__)

_NAMESPACE_INDEX = "namespace"
_PAGE = 500


@dataclass(frozen=True)
class ResourceQuotaOptions:
    concurrent_resource_quota_syncs: int = option(5, "ResourceQuotas synced at once")
    resource_quota_sync_period: float = option(300.0, "how often every quota's usage is recounted", duration)


class ResourceQuotaController(Controller):
    name = "resourcequota"
    Options = ResourceQuotaOptions

    def __init__(self, ctx: ControllerContext) -> None:
        options: ResourceQuotaOptions = ctx.options
        super().__init__(ctx, options.concurrent_resource_quota_syncs)
        self.period = options.resource_quota_sync_period
        self.informers = ctx.informers
        self.watched: set[str] = set()
        self.quotas = ctx.informers.get("ResourceQuota")
        self.quotas.add_handler(on_add=self._quota_changed, on_update=lambda _old, new: self._quota_changed(new),
                                on_delete=self.enqueue)
        for kind in quota.LEGACY_COUNT:
            if kind in KINDS and kind != "ResourceQuota":
                self._watch(kind)

    def _watch(self, kind: str) -> None:
        """Recount the namespace's quotas when an object of the kind goes or frees usage (Kubernetes'
        quota monitor): the legacy-named kinds from the start, any other once a quota counts it."""
        if kind in self.watched:
            return
        self.watched.add(kind)
        self.informers.get(kind).add_handler(on_update=lambda old, new: self._updated(kind, old, new),
                                             on_delete=self._enqueue_namespace)

    def _quota_changed(self, q: Message) -> None:
        for kind in quota.kinds_counted(q.spec.hard):
            self._watch(kind.kind)
        self.enqueue(q)

    def _enqueue_namespace(self, obj: Message) -> None:
        for q in self.quotas.store.by_index(_NAMESPACE_INDEX, obj.metadata.namespace):
            self.enqueue(q)

    def _updated(self, kind: str, old: Message, new: Message) -> None:
        """Kubernetes recounts on updates that can free usage: a pod finishing, a Service changing
        type or ports, a claim changing its request."""
        if _released(kind, old, new):
            self._enqueue_namespace(new)

    async def run(self) -> None:
        ticker = asyncio.create_task(self._resync())
        try:
            await super().run()
        finally:
            ticker.cancel()

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            for key in self.quotas.store.keys():
                self.queue.add(key)

    async def reconcile(self, key: str) -> None:
        q = self.quotas.store.get(key)
        if q is None:
            return
        namespace, _ = split_key(key)
        hard = list(q.spec.hard)
        used = quota.parse_list(q.status.used)
        for kind in quota.kinds_counted(hard):
            objects, _ = await self.client.list_all(kind, namespace, page_size=_PAGE)
            used.update(quota.usage_of(q, hard, kind, objects))
        status = type(q.status)(hard=dict(q.spec.hard), used=quota.render(quota.mask(used, hard)))
        if status.SerializeToString(deterministic=True) != q.status.SerializeToString(deterministic=True):
            await self.write_status(q, status)


def _released(kind: str, old: Message, new: Message) -> bool:
    if kind == "Pod":
        return quota.pod_counts(old) and not quota.pod_counts(new)
    if kind in ("Service", "PersistentVolumeClaim"):
        return quota.usage(KINDS[kind], old) != quota.usage(KINDS[kind], new)
    return False
