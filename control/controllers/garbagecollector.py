"""The garbage collector: ownerReferences, with background, foreground and orphan deletion.

It watches every kind in the kind table (any object can name owners), and finds an owner's
dependents through an index of ownerReference UIDs. Keys are `Kind/namespace/name`.
reconcile(key) does one of three things:
- the object waits on the `orphan` finalizer: strip references to it from its
  dependents, then drop the finalizer;
- it waits on `foregroundDeletion`: delete its dependents (in the foreground
  too) and drop the finalizer once none that block owner deletion remain;
- otherwise, if every owner it names is gone (checked against the apiserver,
  not just a cache, before anything is deleted), delete it in the background.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.client.controller import Controller, ControllerContext, option
from control.client.finalizers import without_finalizer
from control.client.informer import copy_of
from control.client.kinds import KINDS, Kind
from control.client.wellknown import FINALIZER_FOREGROUND, FINALIZER_ORPHAN, is_being_deleted

log = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0
MONITORED: list[Kind] = list(KINDS.values())  # Kubernetes' GC monitors every deletable resource
OWNER_UID_INDEX = "ownerUID"


def gc_key(kind: Kind, obj: Message) -> str:
    return f"{kind.kind}/{obj.metadata.namespace}/{obj.metadata.name}"


def _owner_uids(obj: Message) -> list[str]:
    return [ref.uid for ref in obj.metadata.owner_references]


@dataclass(frozen=True)
class GarbageCollectorOptions:
    concurrent_gc_syncs: int = option(20, "garbage collector workers")


class GarbageCollector(Controller):
    name = "garbagecollector"
    Options = GarbageCollectorOptions

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx, ctx.options.concurrent_gc_syncs)
        self.informers = {k.kind: ctx.informers.get(k) for k in MONITORED}
        for kind in MONITORED:
            informer = self.informers[kind.kind]
            informer.store.add_indexers({OWNER_UID_INDEX: _owner_uids})
            informer.add_handler(**self._handlers(kind))

    def _handlers(self, kind: Kind) -> dict:
        def changed(obj: Message) -> None:
            if obj.metadata.owner_references or is_being_deleted(obj):
                self.queue.add(gc_key(kind, obj))

        def deleted(obj: Message) -> None:
            for dep_kind, dep in self._dependents(obj.metadata.uid):
                self.queue.add(gc_key(dep_kind, dep))

        return {"on_add": changed, "on_update": lambda _old, new: changed(new), "on_delete": deleted}

    def _dependents(self, owner_uid: str) -> list[tuple[Kind, Message]]:
        return [(kind, obj) for kind in MONITORED
                for obj in self.informers[kind.kind].store.by_index(OWNER_UID_INDEX, owner_uid)]

    async def reconcile(self, key: str) -> None:
        kind_name, namespace, name = key.split("/", 2)
        kind = KINDS[kind_name]
        obj = self.informers[kind_name].store.get_by_name(namespace, name)
        if obj is None:
            return
        finalizers = set(obj.metadata.finalizers)
        if is_being_deleted(obj) and FINALIZER_ORPHAN in finalizers:
            await self._orphan_dependents(kind, obj)
        elif is_being_deleted(obj) and FINALIZER_FOREGROUND in finalizers:
            await self._delete_dependents(kind, obj)
        elif obj.metadata.owner_references and not is_being_deleted(obj):
            await self._collect_if_owners_gone(kind, obj)

    async def _orphan_dependents(self, kind: Kind, owner: Message) -> None:
        for _, dep in self._dependents(owner.metadata.uid):
            released = copy_of(dep)
            refs = [r for r in released.metadata.owner_references if r.uid != owner.metadata.uid]
            del released.metadata.owner_references[:]
            released.metadata.owner_references.extend(refs)
            await self._tolerate_gone(self.client.update(released))
        await self._drop_finalizer(kind, owner, FINALIZER_ORPHAN)

    async def _delete_dependents(self, kind: Kind, owner: Message) -> None:
        blocking = 0
        for dep_kind, dep in self._dependents(owner.metadata.uid):
            ref = next(r for r in dep.metadata.owner_references if r.uid == owner.metadata.uid)
            if ref.HasField("block_owner_deletion") and ref.block_owner_deletion:
                blocking += 1
            if not is_being_deleted(dep):
                await self._tolerate_gone(self.client.delete(
                    dep_kind, dep.metadata.name, dep.metadata.namespace, propagation_policy="Foreground",
                    uid=dep.metadata.uid))
        if blocking:
            self.queue.add_after(gc_key(kind, owner), RECHECK_SECONDS)
            return
        await self._drop_finalizer(kind, owner, FINALIZER_FOREGROUND)

    async def _collect_if_owners_gone(self, kind: Kind, obj: Message) -> None:
        for ref in obj.metadata.owner_references:
            if await self._owner_exists(ref, obj.metadata.namespace):
                return
        log.info("deleting %s %s/%s: its owners are gone", kind.kind, obj.metadata.namespace, obj.metadata.name)
        await self._tolerate_gone(self.client.delete(kind, obj.metadata.name, obj.metadata.namespace,
                                                     propagation_policy="Background", uid=obj.metadata.uid))

    async def _owner_exists(self, ref, namespace: str) -> bool:
        owner_kind = KINDS.get(ref.kind)
        if owner_kind is None:
            return True  # an owner of a kind we don't serve: never collect on its account
        try:
            owner = await self.client.get(owner_kind, ref.name, namespace if owner_kind.namespaced else "")
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        return owner.metadata.uid == ref.uid

    async def _drop_finalizer(self, kind: Kind, obj: Message, finalizer: str) -> None:
        current = await self._fresh(kind, obj)
        if current is None or finalizer not in current.metadata.finalizers:
            return
        await self._tolerate_gone(self.client.update(without_finalizer(current, finalizer)))

    async def _fresh(self, kind: Kind, obj: Message) -> Message | None:
        try:
            return await self.client.get(kind, obj.metadata.name, obj.metadata.namespace)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    @staticmethod
    async def _tolerate_gone(call) -> None:
        try:
            await call
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED):
                raise
