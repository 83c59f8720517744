"""An in-memory stand-in for Client (client-go's fake clientset), for fast controller tests.

It keeps objects per kind and answers the verbs controllers use — create, get, list, update,
update_status, delete, watch — with the apiserver's rules that controllers depend on:
- uid, creationTimestamp, generateName, a resourceVersion from one counter per fake cluster,
  metadata.generation that moves when the spec changes;
- update and update_status with a stale resourceVersion fail ABORTED ("the object has been
  modified"), writes to missing objects NOT_FOUND, creates of taken names ALREADY_EXISTS;
- update keeps status and update_status keeps everything but status (kinds with a status
  subresource); a write that changes nothing is not a new revision;
- delete: objects with finalizers get a deletionTimestamp and go when the last one is removed;
  Orphan and Foreground add their finalizers; a Namespace turns Terminating and goes once
  spec.finalizers is empty; pods on a node are deleted gracefully (deletionTimestamp and grace
  period; deleting again with grace 0 removes them, as the kubelet does); no new objects in a
  terminating namespace; uid and resourceVersion preconditions.
- watch streams ADDED / MODIFIED / DELETED from a resourceVersion, so the real Informer runs
  on it unchanged.
Unlike the apiserver it applies no defaults, validation or admission, keeps the status given on
create (so tests can seed ready pods), and needs no Namespace object to create in a namespace.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from control.client.client import WatchEvent
from control.client.informer import copy_of, key_of
from control.client.kinds import Kind, kind_of, lookup
from control.client.podutil import deletion_grace
from control.client.printers import selector_string
from control.client.selectors import SelectorError, parse_field_selector, parse_selector
from control.client.wellknown import (
    FINALIZER_FOREGROUND,
    FINALIZER_KUBERNETES,
    FINALIZER_ORPHAN,
    NAMESPACE_DEFAULT,
)
from skiff.v1 import autoscaling_pb2, meta_pb2

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def api_error(code: grpc.StatusCode, message: str) -> grpc.aio.AioRpcError:
    """The error a Client call raises when the apiserver answers with this status."""
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=message)


def _kind(kind: Kind | str) -> Kind:
    return kind if isinstance(kind, Kind) else lookup(kind)


def _now() -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=int(time.time()))


def _spec_bytes(obj: Message) -> bytes:
    return obj.spec.SerializeToString(deterministic=True) if "spec" in obj.DESCRIPTOR.fields_by_name else b""


def _same_apart_from_version(a: Message, b: Message) -> bool:
    a2, b2 = copy_of(a), copy_of(b)
    a2.metadata.ClearField("resource_version")
    b2.metadata.ClearField("resource_version")
    return a2.SerializeToString(deterministic=True) == b2.SerializeToString(deterministic=True)


@dataclass
class _Watcher:
    kind: str
    namespace: str
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)


def _scale_of(obj: Message) -> Message:
    scale = autoscaling_pb2.Scale(api_version="autoscaling/v1", kind="Scale")
    for name in ("name", "namespace", "uid", "resource_version"):
        setattr(scale.metadata, name, getattr(obj.metadata, name))
    scale.spec.replicas = obj.spec.replicas if obj.spec.HasField("replicas") else 1
    scale.status.replicas = obj.status.replicas
    scale.status.selector = selector_string(obj.spec.selector)
    return scale


class FakeClient:
    """Client's verbs on in-memory objects; every object handed out is a copy."""

    def __init__(self, *objects: Message) -> None:
        self.target = "fake"
        self._objects: dict[str, dict[str, Message]] = {}
        self._history: dict[str, list[tuple[int, str, Message]]] = {}
        self._watchers: list[_Watcher] = []
        self._revision = 0
        self._kind_revision: dict[str, int] = {}
        self.actions: list[tuple[str, str, str]] = []  # (verb, kind, key), like client-go's fake Actions()
        # metrics.k8s.io, set by tests: PodMetrics by (namespace, name), NodeMetrics by name.
        self.pod_metrics: dict[tuple[str, str], Message] = {}
        self.node_metrics: dict[str, Message] = {}
        for obj in objects:
            self.add(obj)

    @property
    def revision(self) -> int:
        """The latest resourceVersion handed out."""
        return self._revision

    def kind_revision(self, kind: Kind | str) -> int:
        """The resourceVersion of the latest change to objects of this kind (0 if none)."""
        return self._kind_revision.get(_kind(kind).kind, 0)

    def add(self, obj: Message) -> Message:
        """Stores obj as given (plus uid, timestamps, resourceVersion) without the create rules."""
        kind = kind_of(obj)
        stored = copy_of(obj)
        self._fill_server_fields(kind, stored)
        self._write(kind, "ADDED", stored)
        return copy_of(stored)

    # --- Client's verbs -------------------------------------------------------------------

    async def create(self, obj: Message, dry_run: bool = False) -> Message:
        kind = kind_of(obj)
        new = copy_of(obj)
        meta = new.metadata
        if kind.namespaced and not meta.namespace:
            meta.namespace = NAMESPACE_DEFAULT
        if not meta.name and meta.generate_name:
            meta.name = meta.generate_name + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))
        self.actions.append(("create", kind.kind, key_of(new)))
        if key_of(new) in self._objects.get(kind.kind, {}):
            raise api_error(grpc.StatusCode.ALREADY_EXISTS, f'{kind.resource} "{meta.name}" already exists')
        if kind.namespaced and self._terminating(meta.namespace):
            raise api_error(grpc.StatusCode.PERMISSION_DENIED,
                            f'{kind.resource} "{meta.name}" is forbidden: unable to create new content in '
                            f"namespace {meta.namespace} because it is being terminated")
        meta.ClearField("deletion_timestamp")
        meta.uid = ""
        self._fill_server_fields(kind, new)
        if kind.kind == "Namespace":
            new.status.phase = new.status.phase or "Active"
            if FINALIZER_KUBERNETES not in new.spec.finalizers:
                new.spec.finalizers.append(FINALIZER_KUBERNETES)
        if dry_run:
            return new
        self._write(kind, "ADDED", new)
        return copy_of(new)

    async def get(self, kind: Kind | str, name: str, namespace: str = "") -> Message:
        k = _kind(kind)
        return copy_of(self._stored(k, name, namespace))

    async def list(self, kind: Kind | str, namespace: str = "", label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "") -> Message:
        k = _kind(kind)
        items, revision = await self.list_all(k, namespace, label_selector, field_selector)
        result = k.list_message(items=items)
        result.metadata.resource_version = revision
        return result

    async def list_all(self, kind: Kind | str, namespace: str = "", label_selector: str = "",
                       field_selector: str = "", page_size: int = 500) -> tuple[list[Message], str]:
        k = _kind(kind)
        try:
            labels = parse_selector(label_selector)
            fields = parse_field_selector(field_selector, k)
        except SelectorError as e:
            raise api_error(grpc.StatusCode.INVALID_ARGUMENT, str(e)) from None
        items = [copy_of(o) for key, o in sorted(self._objects.get(k.kind, {}).items())
                 if (not namespace or o.metadata.namespace == namespace)
                 and labels.matches(o.metadata.labels) and fields.matches(o)]
        return items, str(self._revision)

    async def update(self, obj: Message, dry_run: bool = False) -> Message:
        kind = kind_of(obj)
        old = self._checked_for_update(kind, obj, "update")
        new = copy_of(obj)
        meta, prev = new.metadata, old.metadata
        meta.namespace, meta.uid = prev.namespace, prev.uid
        meta.creation_timestamp.CopyFrom(prev.creation_timestamp)
        meta.ClearField("deletion_timestamp")
        meta.ClearField("deletion_grace_period_seconds")
        if prev.HasField("deletion_timestamp"):
            meta.deletion_timestamp.CopyFrom(prev.deletion_timestamp)
            meta.deletion_grace_period_seconds = prev.deletion_grace_period_seconds
        if kind.has_status:
            new.status.CopyFrom(old.status)
        new.metadata.generation = old.metadata.generation
        if kind.has_spec and _spec_bytes(new) != _spec_bytes(old):
            new.metadata.generation += 1
        return self._commit_update(kind, old, new, dry_run)

    async def update_status(self, obj: Message) -> Message:
        kind = kind_of(obj)
        old = self._checked_for_update(kind, obj, "update_status")
        new = copy_of(old)
        new.status.CopyFrom(obj.status)
        return self._commit_update(kind, old, new, False)

    async def delete(self, kind: Kind | str, name: str, namespace: str = "", propagation_policy: str = "",
                     grace_period_seconds: int | None = None, dry_run: bool = False, uid: str = "",
                     resource_version: str = "") -> Message:
        k = _kind(kind)
        old = self._stored(k, name, namespace)
        self.actions.append(("delete", k.kind, key_of(old)))
        if uid and uid != old.metadata.uid:
            raise api_error(grpc.StatusCode.ABORTED, f'Operation cannot be fulfilled on {k.resource} "{name}": '
                            f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                            f"{old.metadata.uid}")
        if resource_version and resource_version != old.metadata.resource_version:
            raise api_error(grpc.StatusCode.ABORTED, f'Operation cannot be fulfilled on {k.resource} "{name}": '
                            f"Precondition failed: ResourceVersion in precondition: {resource_version}, "
                            f"ResourceVersion in object meta: {old.metadata.resource_version}")
        marked = copy_of(old)
        finalizer = {"Orphan": FINALIZER_ORPHAN, "Foreground": FINALIZER_FOREGROUND}.get(propagation_policy)
        if finalizer and finalizer not in marked.metadata.finalizers:
            marked.metadata.finalizers.append(finalizer)
        grace = deletion_grace(marked, grace_period_seconds) if k.kind == "Pod" else 0
        meta = marked.metadata
        first = not meta.HasField("deletion_timestamp")
        if first or grace < meta.deletion_grace_period_seconds:
            meta.deletion_timestamp.CopyFrom(timestamp_pb2.Timestamp(seconds=_now().seconds + grace))
            meta.deletion_grace_period_seconds = grace
        if k.kind == "Namespace" and first:
            marked.status.phase = "Terminating"
        elif self._finished(marked):
            if not dry_run:
                self._remove(k, old)
            return copy_of(old)
        if dry_run or _same_apart_from_version(marked, old):
            return copy_of(old)
        self._write(k, "MODIFIED", marked)
        return copy_of(marked)

    async def watch(self, kind: Kind | str, namespace: str = "", label_selector: str = "",
                    field_selector: str = "", resource_version: str = "",
                    allow_bookmarks: bool = True) -> AsyncIterator[WatchEvent]:
        k = _kind(kind)
        labels = parse_selector(label_selector)
        fields = parse_field_selector(field_selector, k)
        watcher = _Watcher(k.kind, namespace)
        since = int(resource_version or self._revision)
        for revision, type_, obj in self._history.get(k.kind, []):  # replayed before any await: no gap
            if revision > since:
                watcher.queue.put_nowait((type_, obj))
        self._watchers.append(watcher)
        try:
            while True:
                type_, obj = await watcher.queue.get()
                if (not namespace or obj.metadata.namespace == namespace) and \
                        labels.matches(obj.metadata.labels) and fields.matches(obj):
                    yield WatchEvent(type_, copy_of(obj))
        finally:
            self._watchers.remove(watcher)

    async def get_scale(self, kind: Kind | str, name: str, namespace: str = "") -> Message:
        k = _kind(kind)
        if not k.scale:
            raise api_error(grpc.StatusCode.NOT_FOUND, "the server could not find the requested resource")
        return _scale_of(self._stored(k, name, namespace))

    async def update_scale(self, kind: Kind | str, scale: Message) -> Message:
        k = _kind(kind)
        obj = copy_of(self._stored(k, scale.metadata.name, scale.metadata.namespace))
        if scale.metadata.resource_version:
            obj.metadata.resource_version = scale.metadata.resource_version
        obj.spec.replicas = scale.spec.replicas
        return _scale_of(await self.update(obj))

    async def list_pod_metrics(self, namespace: str = "", label_selector: str = "") -> list[Message]:
        labels = parse_selector(label_selector)
        return [copy_of(m) for (ns, _), m in sorted(self.pod_metrics.items())
                if (not namespace or ns == namespace) and labels.matches(m.metadata.labels)]

    async def get_pod_metrics(self, namespace: str, name: str) -> Message:
        if (namespace, name) not in self.pod_metrics:
            raise api_error(grpc.StatusCode.NOT_FOUND, f'podmetrics.metrics.k8s.io "{namespace}/{name}" not found')
        return copy_of(self.pod_metrics[(namespace, name)])

    async def list_node_metrics(self, label_selector: str = "") -> list[Message]:
        labels = parse_selector(label_selector)
        return [copy_of(m) for _, m in sorted(self.node_metrics.items()) if labels.matches(m.metadata.labels)]

    async def get_node_metrics(self, name: str) -> Message:
        if name not in self.node_metrics:
            raise api_error(grpc.StatusCode.NOT_FOUND, f'nodemetrics.metrics.k8s.io "{name}" not found')
        return copy_of(self.node_metrics[name])

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> FakeClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- the store ------------------------------------------------------------------------

    def objects(self, kind: Kind | str, namespace: str = "") -> list[Message]:
        """Copies of what is stored now, for assertions (no action is recorded)."""
        k = _kind(kind)
        return [copy_of(o) for _, o in sorted(self._objects.get(k.kind, {}).items())
                if not namespace or o.metadata.namespace == namespace]

    def _stored(self, kind: Kind, name: str, namespace: str) -> Message:
        key = f"{namespace}/{name}" if kind.namespaced and namespace else name
        obj = self._objects.get(kind.kind, {}).get(key)
        if obj is None:
            raise api_error(grpc.StatusCode.NOT_FOUND, f'{kind.resource} "{name}" not found')
        return obj

    def _checked_for_update(self, kind: Kind, obj: Message, verb: str) -> Message:
        old = self._stored(kind, obj.metadata.name, obj.metadata.namespace)
        self.actions.append((verb, kind.kind, key_of(old)))
        requested = obj.metadata.resource_version
        if requested and requested != old.metadata.resource_version:
            raise api_error(grpc.StatusCode.ABORTED,
                            f'Operation cannot be fulfilled on {kind.resource} "{obj.metadata.name}": {_MODIFIED}')
        return old

    def _commit_update(self, kind: Kind, old: Message, new: Message, dry_run: bool) -> Message:
        new.metadata.resource_version = old.metadata.resource_version
        if _same_apart_from_version(new, old) or dry_run:
            return copy_of(new if dry_run else old)
        if new.metadata.HasField("deletion_timestamp") and self._finished(new):
            self._remove(kind, new)
            return copy_of(new)
        self._write(kind, "MODIFIED", new)
        return copy_of(new)

    @staticmethod
    def _finished(obj: Message) -> bool:
        """A deleted object goes once no finalizer holds it (a pod once its grace period is 0)."""
        if obj.metadata.finalizers or obj.metadata.deletion_grace_period_seconds > 0:
            return False
        return not (kind_of(obj).kind == "Namespace" and obj.spec.finalizers)

    def _terminating(self, namespace: str) -> bool:
        ns = self._objects.get("Namespace", {}).get(namespace)
        return ns is not None and ns.metadata.HasField("deletion_timestamp")

    def _fill_server_fields(self, kind: Kind, obj: Message) -> None:
        meta = obj.metadata
        meta.uid = meta.uid or str(uuid.uuid4())
        if not meta.HasField("creation_timestamp"):
            meta.creation_timestamp.CopyFrom(_now())
        if kind.has_spec and not meta.generation:
            meta.generation = 1
        obj.api_version, obj.kind = kind.api_version, kind.kind

    def _write(self, kind: Kind, type_: str, obj: Message) -> None:
        self._revision += 1
        obj.metadata.resource_version = str(self._revision)
        self._objects.setdefault(kind.kind, {})[key_of(obj)] = obj
        self._notify(kind, type_, obj)

    def _remove(self, kind: Kind, obj: Message) -> None:
        self._objects.get(kind.kind, {}).pop(key_of(obj), None)
        self._revision += 1
        gone = copy_of(obj)
        gone.metadata.resource_version = str(self._revision)
        self._notify(kind, "DELETED", gone)

    def _notify(self, kind: Kind, type_: str, obj: Message) -> None:
        self._kind_revision[kind.kind] = self._revision
        self._history.setdefault(kind.kind, []).append((self._revision, type_, obj))
        for watcher in self._watchers:
            if watcher.kind == kind.kind:
                watcher.queue.put_nowait((type_, obj))


def owner_reference(owner: Message, controller: bool = True) -> meta_pb2.OwnerReference:
    """An ownerReference to owner, for seeding dependents in tests."""
    kind = kind_of(owner)
    return meta_pb2.OwnerReference(api_version=kind.api_version, kind=kind.kind, name=owner.metadata.name,
                                   uid=owner.metadata.uid, controller=controller,
                                   block_owner_deletion=controller)
