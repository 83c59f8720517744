"""Storage: objects as serialized protobuf in etcd, the only module that talks to etcd.

Keys are `/registry/<resource>/<namespace>/<name>` (cluster-scoped kinds omit the
namespace). An object's resourceVersion is its etcd mod revision; every write
is one etcd transaction, so a write either lands whole or not at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import grpc
from aetcd import rpc
from google.protobuf.message import Message

from control.apiserver.encryption import Transformer
from control.apiserver.etcdclient import CONNECT_SECONDS, EtcdCluster, EtcdTLS
from control.apiserver.etcdleases import LeaseManager
from control.apiserver.metrics import etcd_timed
from control.client.kinds import Kind

log = logging.getLogger(__name__)

# etcd refuses requests over 1.5 MiB (its --max-request-bytes default).
MAX_OBJECT_BYTES = 1536 * 1024
PREFIX = "/registry"


class StorageError(Exception):
    pass


class ConflictError(StorageError):
    """The object changed since the given resourceVersion (or already exists)."""


class NotFoundError(StorageError):
    pass


class ClaimTakenError(ConflictError):
    """A claim a write wanted to take is held already (by another object, maybe another apiserver)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"claimed: {key}")
        self.key = key


class StaleWriteError(ConflictError):
    """A guarded write's key changed since the revision it was based on (e.g. a ResourceQuota)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"modified: {key}")
        self.key = key


@dataclass
class Claims:
    """Keys written in the same etcd transaction as an object, so that what the object holds (a
    Service's ClusterIP, its NodePorts) is taken and given back atomically with it, whichever
    apiserver writes: `take` must not exist yet (key -> value), `release` is removed. `writes` are
    other objects updated with it, each only if still at the revision it was read at (key ->
    (mod revision, encoded object)): the charge of a ResourceQuota for the object created."""
    take: dict[str, str] = field(default_factory=dict)
    release: list[str] = field(default_factory=list)
    writes: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def merged(self, other: Claims | None) -> Claims:
        if other is None:
            return self
        return Claims({**self.take, **other.take}, [*self.release, *other.release], {**self.writes, **other.writes})

    def compares(self) -> list[rpc.Compare]:
        absent = [rpc.Compare(key=k.encode(), target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL,
                              create_revision=0) for k in self.take]
        return absent + [rpc.Compare(key=k.encode(), target=rpc.Compare.MOD, result=rpc.Compare.EQUAL,
                                     mod_revision=rev) for k, (rev, _) in self.writes.items()]

    def ops(self) -> list[rpc.RequestOp]:
        puts = [rpc.RequestOp(request_put=rpc.PutRequest(key=k.encode(), value=v.encode()))
                for k, v in self.take.items()]
        puts += [rpc.RequestOp(request_put=rpc.PutRequest(key=k.encode(), value=value))
                 for k, (_, value) in self.writes.items()]
        return puts + [rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=k.encode()))
                       for k in self.release]

    def reads(self) -> list[rpc.RequestOp]:
        """Run when the transaction fails: which wanted claims exist already, where the guarded
        writes' keys are now."""
        return [rpc.RequestOp(request_range=rpc.RangeRequest(key=k.encode(), count_only=True)) for k in self.take] + [
            rpc.RequestOp(request_range=rpc.RangeRequest(key=k.encode(), keys_only=True)) for k in self.writes]



class CompactedError(StorageError):
    """The requested revision is older than etcd's compaction."""


def resource_prefix(kind: Kind, namespace: str = "") -> str:
    base = f"{PREFIX}/{kind.plural}/"
    return f"{base}{namespace}/" if kind.namespaced and namespace else base


def object_key(kind: Kind, namespace: str, name: str) -> str:
    if kind.namespaced:
        return f"{PREFIX}/{kind.plural}/{namespace}/{name}"
    return f"{PREFIX}/{kind.plural}/{name}"


def prefix_end(prefix: bytes) -> bytes:
    return prefix[:-1] + bytes([prefix[-1] + 1])


@dataclass
class RawEvent:
    type: str  # PUT or DELETE
    key: str
    revision: int
    value: bytes | None  # the serialized object without resourceVersion (decrypted); None for DELETE


class Storage:
    def __init__(self, etcd_servers: list[str], transformers: dict[str, Transformer] | None = None,
                 tls: EtcdTLS | None = None, ttls: dict[str, int] | None = None) -> None:
        self.servers = etcd_servers
        self.transformers = transformers or {}
        self.tls = tls
        self.ttls = ttls or {}  # resource (plural) -> seconds an object lives after its last write
        self.etcd: EtcdCluster | None = None
        self.leases = LeaseManager(self.grant_lease)

    async def connect(self, patience: float = CONNECT_SECONDS) -> None:
        cluster = EtcdCluster(self.servers, self.tls)
        try:
            await cluster.connect(patience)
        except ConnectionError as e:
            raise StorageError(str(e)) from None
        self.etcd = cluster

    async def close(self) -> None:
        if self.etcd:
            await self.etcd.close()

    async def grant_lease(self, ttl: int) -> int:
        """A new etcd lease of ttl seconds (keys written under it go when it expires)."""
        return (await self.etcd.lease.LeaseGrant(rpc.LeaseGrantRequest(TTL=ttl))).ID

    async def _put(self, kind: Kind, key: bytes, value: bytes) -> rpc.RequestOp:
        ttl = self.ttls.get(kind.plural)
        lease = await self.leases.lease_for(ttl) if ttl else 0
        return rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value, lease=lease))

    @property
    def kv(self):
        return self.etcd.kv

    # -- encoding ---------------------------------------------------------

    def encode(self, kind: Kind, obj: Message) -> bytes:
        data = obj.SerializeToString(deterministic=True)
        transformer = self.transformers.get(kind.plural)
        return transformer.encrypt(data) if transformer else data

    def plaintext(self, kind: Kind, value: bytes) -> bytes:
        """The serialized object of a stored value (decrypted), without its resourceVersion."""
        transformer = self.transformers.get(kind.plural)
        return transformer.decrypt(value) if transformer else value

    def decode(self, kind: Kind, value: bytes, revision: int) -> Message:
        obj = kind.message()
        obj.ParseFromString(self.plaintext(kind, value))
        obj.metadata.resource_version = str(revision)
        return obj

    # -- reads ------------------------------------------------------------

    async def current_revision(self) -> int:
        resp = await self.kv.Range(rpc.RangeRequest(key=b"/", limit=1, count_only=True))
        return resp.header.revision

    @etcd_timed("get")
    async def get(self, kind: Kind, namespace: str, name: str) -> Message:
        key = object_key(kind, namespace, name).encode()
        resp = await self.kv.Range(rpc.RangeRequest(key=key))
        if not resp.kvs:
            raise NotFoundError(key.decode())
        kv = resp.kvs[0]
        return self.decode(kind, kv.value, kv.mod_revision)

    @etcd_timed("list")
    async def list(self, kind: Kind, namespace: str = "") -> tuple[list[Message], int]:
        """Every object of a kind and the revision the list was read at."""
        prefix = resource_prefix(kind, namespace).encode()
        resp = await self.kv.Range(rpc.RangeRequest(key=prefix, range_end=prefix_end(prefix)))
        return [self.decode(kind, kv.value, kv.mod_revision) for kv in resp.kvs], resp.header.revision

    @etcd_timed("list")
    async def list_raw(self, kind: Kind) -> tuple[list[tuple[str, int, bytes]], int]:
        """Every object of a kind as (key, mod revision, plaintext), and the revision of the list."""
        prefix = resource_prefix(kind).encode()
        resp = await self.kv.Range(rpc.RangeRequest(key=prefix, range_end=prefix_end(prefix)))
        return ([(kv.key.decode(), kv.mod_revision, self.plaintext(kind, kv.value)) for kv in resp.kvs],
                resp.header.revision)

    @etcd_timed("list")
    async def list_page(self, kind: Kind, namespace: str, start_key: str, revision: int,
                        limit: int) -> tuple[list[tuple[str, Message]], int, bool]:
        """Up to `limit` objects from start_key on, as of `revision` (0: now)."""
        prefix = resource_prefix(kind, namespace).encode()
        req = rpc.RangeRequest(key=start_key.encode() if start_key else prefix,
                               range_end=prefix_end(prefix), limit=limit, revision=revision)
        try:
            resp = await self.kv.Range(req)
        except grpc.aio.AioRpcError as e:
            if "compacted" in (e.details() or ""):
                raise CompactedError(str(revision)) from None
            raise
        items = [(kv.key.decode(), self.decode(kind, kv.value, kv.mod_revision)) for kv in resp.kvs]
        return items, revision or resp.header.revision, resp.more

    @etcd_timed("list")
    async def count_from(self, kind: Kind, namespace: str, start_key: str, revision: int) -> int:
        """How many objects of a kind there are from start_key on, as of `revision`."""
        prefix = resource_prefix(kind, namespace).encode()
        resp = await self.kv.Range(rpc.RangeRequest(key=start_key.encode(), range_end=prefix_end(prefix),
                                                    count_only=True, revision=revision))
        return resp.count

    async def check_revision_available(self, revision: int) -> None:
        """Raises CompactedError if etcd has compacted away `revision`."""
        try:
            await self.kv.Range(rpc.RangeRequest(key=b"/", limit=1, count_only=True, revision=revision))
        except grpc.aio.AioRpcError as e:
            if "compacted" in (e.details() or ""):
                raise CompactedError(str(revision)) from None
            if "future revision" in (e.details() or ""):
                return
            raise

    # -- writes -----------------------------------------------------------

    @etcd_timed("create")
    async def create(self, kind: Kind, obj: Message, claims: Claims | None = None) -> Message:
        key = object_key(kind, obj.metadata.namespace, obj.metadata.name).encode()
        value = self._checked(kind, obj)
        absent = rpc.Compare(key=key, target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL, create_revision=0)
        resp = await self._txn(absent, [await self._put(kind, key, value)], claims, "exists")
        return self._stamped(obj, resp.header.revision)

    @etcd_timed("update")
    async def update(self, kind: Kind, obj: Message, expected_revision: int,
                     claims: Claims | None = None) -> Message:
        key = object_key(kind, obj.metadata.namespace, obj.metadata.name).encode()
        value = self._checked(kind, obj)
        resp = await self._txn(self._unchanged(key, expected_revision), [await self._put(kind, key, value)],
                               claims, "modified")
        return self._stamped(obj, resp.header.revision)

    @etcd_timed("delete")
    async def delete(self, kind: Kind, obj: Message, expected_revision: int,
                     claims: Claims | None = None) -> int:
        key = object_key(kind, obj.metadata.namespace, obj.metadata.name).encode()
        remove = rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))
        resp = await self._txn(self._unchanged(key, expected_revision), [remove], claims, "modified")
        return resp.header.revision

    @staticmethod
    def _unchanged(key: bytes, revision: int) -> rpc.Compare:
        return rpc.Compare(key=key, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL, mod_revision=revision)

    async def _txn(self, condition: rpc.Compare, ops: list[rpc.RequestOp], claims: Claims | None, conflict: str):
        claims = claims or Claims()
        txn = rpc.TxnRequest(compare=[condition, *claims.compares()], success=[*ops, *claims.ops()],
                             failure=claims.reads())
        resp = await self.kv.Txn(txn)
        if resp.succeeded:
            return resp
        reads = iter(resp.responses)
        for key, read in zip(claims.take, reads, strict=False):
            if read.response_range.count:
                raise ClaimTakenError(key)
        for (key, (revision, _)), read in zip(claims.writes.items(), reads, strict=True):
            now = read.response_range.kvs[0].mod_revision if read.response_range.kvs else 0
            if now != revision:
                raise StaleWriteError(key)
        raise ConflictError(conflict)

    async def claim(self, key: str, value: str) -> None:
        """Takes one claim on its own (repairs); ClaimTakenError if it is held."""
        claims = Claims(take={key: value})
        resp = await self.kv.Txn(rpc.TxnRequest(compare=claims.compares(), success=claims.ops()))
        if not resp.succeeded:
            raise ClaimTakenError(key)

    async def list_claims(self, prefix: str) -> dict[str, str]:
        """Every claim under `prefix`, key -> value."""
        start = prefix.encode()
        resp = await self.kv.Range(rpc.RangeRequest(key=start, range_end=prefix_end(start)))
        return {kv.key.decode(): kv.value.decode() for kv in resp.kvs}

    async def guaranteed_update(self, kind: Kind, namespace: str, name: str,
                                mutate: Callable[[Message], Message | None]) -> Message:
        """Read-modify-write with retries on conflict; mutate returns None for no change."""
        while True:
            current = await self.get(kind, namespace, name)
            revision = int(current.metadata.resource_version)
            updated = mutate(current)
            if updated is None:
                return current
            try:
                return await self.update(kind, updated, revision)
            except ConflictError:
                continue

    def _checked(self, kind: Kind, obj: Message) -> bytes:
        obj.metadata.ClearField("resource_version")
        value = self.encode(kind, obj)
        if len(value) > MAX_OBJECT_BYTES:
            raise TooLargeError(len(value))
        return value

    @staticmethod
    def _stamped(obj: Message, revision: int) -> Message:
        obj.metadata.resource_version = str(revision)
        return obj

    async def compact(self, revision: int) -> None:
        await self.kv.Compact(rpc.CompactionRequest(revision=revision, physical=False))

    # -- watch ------------------------------------------------------------

    def watch(self, kind: Kind, start_revision: int) -> EtcdWatch:
        """Every change to a kind from start_revision on (one etcd watch stream per kind)."""
        prefix = resource_prefix(kind).encode()
        return EtcdWatch(self, kind, prefix, start_revision)


class EtcdWatch:
    """One etcd watch stream, spoken directly so that progress notifications come through.

    aetcd hides responses without events; the watch cache needs them: after
    `request_progress()` etcd answers with its current revision once every
    earlier event has been sent, which tells a cache it is up to date even
    when its kind has had no writes lately.
    """

    def __init__(self, storage: Storage, kind: Kind, prefix: bytes, start_revision: int) -> None:
        self.storage = storage
        self.kind = kind
        self.prefix = prefix
        self.start_revision = start_revision
        self.requests: asyncio.Queue[rpc.WatchRequest | None] = asyncio.Queue()

    def request_progress(self) -> None:
        self.requests.put_nowait(rpc.WatchRequest(progress_request=rpc.WatchProgressRequest()))

    async def _requests(self) -> AsyncIterator[rpc.WatchRequest]:
        yield rpc.WatchRequest(create_request=rpc.WatchCreateRequest(
            key=self.prefix, range_end=prefix_end(self.prefix), start_revision=self.start_revision))
        while (request := await self.requests.get()) is not None:
            yield request

    async def __aiter__(self) -> AsyncIterator[RawEvent]:
        etcd = self.storage.etcd
        member = etcd.current
        call = rpc.WatchStub(etcd.channel).Watch(self._requests())
        try:
            async for resp in call:
                if resp.compact_revision:
                    raise CompactedError(str(resp.compact_revision))
                if resp.canceled:
                    raise StorageError(f"etcd cancelled the watch of {self.kind.plural}: {resp.cancel_reason}")
                for ev in resp.events:
                    kv = ev.kv
                    if ev.type == rpc.Event.PUT:
                        yield RawEvent("PUT", kv.key.decode(), kv.mod_revision,
                                       self.storage.plaintext(self.kind, kv.value))
                    else:
                        yield RawEvent("DELETE", kv.key.decode(), kv.mod_revision, None)
                if not resp.events and not resp.created:
                    yield RawEvent("PROGRESS", "", resp.header.revision, None)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.UNAVAILABLE:
                etcd.failed(member)
            raise StorageError(f"etcd watch of {self.kind.plural}: {e.code().name}: {e.details()}") from None
        finally:
            self.requests.put_nowait(None)
            call.cancel()


class TooLargeError(StorageError):
    def __init__(self, size: int) -> None:
        super().__init__(f"object is too large: {size} bytes, etcd's limit is {MAX_OBJECT_BYTES} bytes")
        self.size = size
