"""The ResourceQuota admission plugin: an object created in a namespace (and a Service or claim
updated) is charged to every quota of the namespace that covers it, or refused as Kubernetes
refuses it (Forbidden):

    pods "web" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2
    pods "web" is forbidden: failed quota: compute: must specify limits.cpu for: app
    pods "web" is forbidden: status unknown for quota: compute, resources: pods

Kubernetes charges by updating each quota's status.used with optimistic concurrency before the
object is stored. Here the charged quotas are written in the object's own etcd transaction, each
only if still at the revision the charge was computed from (storage Claims `writes`): creates never
overshoot a quota, whichever apiserver takes them, and a create that fails charges nothing. A
stale quota fails the transaction and the charge is computed again from etcd. Within one
apiserver the charges of one namespace are serialized, so concurrent creates queue rather than
collide. Usage only goes down through the resource-quota controller, which recounts it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.storage import Claims, object_key
from control.client import quota
from control.client.kinds import KINDS, Kind
from control.client.quota import ResourceList

# Kinds whose updates are charged too (what they use can grow in place), as in Kubernetes.
UPDATE_CHARGED = ("Service", "PersistentVolumeClaim")
_NAMESPACE_INDEX = "namespace"


@dataclass
class Charge:
    """The quotas one write is charged to, as guarded writes for its transaction."""
    claims: Claims | None

    @property
    def charged(self) -> bool:
        return bool(self.claims and self.claims.writes)


@dataclass
class QuotaAdmission:
    api: object  # ApiContext
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    @property
    def kind(self) -> Kind:
        return KINDS["ResourceQuota"]

    def _cache(self):
        cache = self.api.cache.caches[self.kind.kind]
        cache.add_index(_NAMESPACE_INDEX, lambda o: o.metadata.namespace)
        return cache

    async def quotas(self, namespace: str, fresh: bool = False) -> list[Message]:
        """The namespace's quotas: from the watch cache (with this apiserver's own writes), or
        read from etcd after a charge found the cache stale."""
        items = None
        if not fresh:
            cache = self._cache()
            with contextlib.suppress(TimeoutError):  # the cache is behind: read etcd instead
                await cache.wait_fresh()
                items = cache.by_index(_NAMESPACE_INDEX, namespace)
        if items is None:
            items, _ = await self.api.storage.list(self.kind, namespace)
        return sorted(items, key=lambda q: q.metadata.name)

    @contextlib.asynccontextmanager
    async def serialized(self, namespace: str) -> AsyncIterator[None]:
        async with self._locks.setdefault(namespace, asyncio.Lock()):
            yield

    async def charge(self, kind: Kind, obj: Message, old: Message | None = None, fresh: bool = False,
                     subresource: str = "") -> Charge:
        """Checks the write against the namespace's quotas; the quotas it is charged to, or
        Forbidden in Kubernetes' words. A pod is charged on create and on its resize."""
        charged_update = kind.kind in UPDATE_CHARGED or (kind.kind, subresource) == ("Pod", "resize")
        if not kind.namespaced or (old is not None and (not charged_update or
                                                        obj.metadata.HasField("deletion_timestamp"))):
            return Charge(None)
        quotas = await self.quotas(obj.metadata.namespace, fresh)
        if not quotas:
            return Charge(None)
        writes = dict(self._write(q) for q in evaluate(kind, obj, old, quotas))
        return Charge(Claims(writes=writes) if writes else None)

    def _write(self, q: Message) -> tuple[str, tuple[int, bytes]]:
        revision = int(q.metadata.resource_version)
        q.metadata.ClearField("resource_version")
        key = object_key(self.kind, q.metadata.namespace, q.metadata.name)
        return key, (revision, self.api.storage.encode(self.kind, q))

    def charged(self, revision: int) -> None:
        """The charge landed at this revision: later charges wait for the cache to show it."""
        self.api.cache[self.kind].note_write(revision)


def _refuse(kind: Kind, obj: Message, message: str) -> errors.ApiError:
    name = obj.metadata.name or obj.metadata.generate_name
    return errors.forbidden(f'{kind.resource} "{name}" is forbidden: {message}')


def _delta(kind: Kind, obj: Message, old: Message | None) -> ResourceList:
    delta = quota.usage(kind, obj)
    if old is not None:
        before = quota.usage(kind, old)
        delta = {k: v - before[k] if k in before else v for k, v in delta.items()}
        delta = {k: v for k, v in delta.items() if v.value > 0}
    return {k: v for k, v in delta.items() if v.value != 0}


def evaluate(kind: Kind, obj: Message, old: Message | None, quotas: list[Message]) -> list[Message]:
    """Kubernetes' checkRequest: the quotas covering the object, with status.used raised by what
    it adds; ApiError Forbidden when one is exceeded, lacks status, or the pod leaves a limited
    compute resource unstated."""
    covering = []
    for q in quotas:
        hard = list(q.status.hard)
        if not quota.matches(q, hard, kind, obj):
            continue
        limited = quota.matching_resources(kind, hard)
        if kind.kind == "Pod" and (missing := quota.missing_constraints(obj, limited)):
            raise _refuse(kind, obj, f"failed quota: {q.metadata.name}: {missing}")
        unknown = [r for r in limited if r not in q.status.used]
        if unknown:
            raise _refuse(kind, obj, f"status unknown for quota: {q.metadata.name}, resources: {','.join(unknown)}")
        covering.append(q)
    delta = _delta(kind, obj, old)
    if not covering or not delta:
        return []
    return [_raised(kind, obj, q, delta) for q in covering]


def _raised(kind: Kind, obj: Message, q: Message, delta: ResourceList) -> Message:
    hard, used = quota.parse_list(q.status.hard), quota.parse_list(q.status.used)
    requested = quota.mask(delta, hard)
    new_used = quota.add(used, requested)
    over = quota.exceeded(quota.mask(new_used, requested), hard)
    if over:
        shown = [quota.pretty(quota.mask(values, over)) for values in (requested, used, hard)]
        raise _refuse(kind, obj, f"exceeded quota: {q.metadata.name}, requested: {shown[0]}, used: {shown[1]}, "
                                 f"limited: {shown[2]}")
    charged = type(q)()
    charged.CopyFrom(q)
    for k, v in quota.render(new_used).items():
        charged.status.used[k] = v
    return charged
