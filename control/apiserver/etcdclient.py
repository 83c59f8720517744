"""The apiserver's connection to an etcd cluster: one channel per member, failing over between them.

Each member keeps its own channel, so TLS verifies every member by its own address. Calls go to
the current member; when it is unreachable the next one becomes current. A read is repeated on the
next member. A write is repeated only when it never reached a member (the channel had no
connection); a write cut off in flight may have been applied, so its error goes to the caller, as
etcd's own client does.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urlparse

import aetcd
import aetcd.watcher
import grpc
from aetcd import rpc

log = logging.getLogger(__name__)

# How long a call keeps trying members before it gives up: an election takes about a second.
FAILOVER_SECONDS = 5.0
CONNECT_SECONDS = 60.0  # how long a starting apiserver waits for etcd before it exits
_OPTIONS = {"grpc.max_receive_message_length": 512 * 1024 * 1024,
            # A dead member is found again quickly once it is back.
            "grpc.initial_reconnect_backoff_ms": 200, "grpc.max_reconnect_backoff_ms": 2000,
            # A member whose machine went away sends no reset: without pings a call or a watch on its
            # connection would wait for TCP to give up (~15 min). etcd accepts pings every 5 s and more
            # (--grpc-keepalive-min-time); kube-apiserver's client pings every 30 s, waits 10 s.
            "grpc.keepalive_time_ms": 10_000, "grpc.keepalive_timeout_ms": 5_000,
            "grpc.http2.max_pings_without_data": 0}
# Repeating these on another member is harmless whatever happened to the first attempt (a second
# grant leaves a lease nothing uses, which expires; a second compaction of a revision is refused).
_IDEMPOTENT = frozenset({"Range", "Compact", "LeaseGrant"})


@dataclass
class EtcdTLS:
    """kube-apiserver's --etcd-cafile / --etcd-certfile / --etcd-keyfile."""

    cafile: str
    certfile: str = ""
    keyfile: str = ""

    def credentials(self) -> grpc.ChannelCredentials:
        def read(path: str) -> bytes | None:
            if not path:
                return None
            with open(path, "rb") as f:
                return f.read()
        return grpc.ssl_channel_credentials(read(self.cafile), read(self.keyfile), read(self.certfile))


class _TLSEtcdClient(aetcd.Client):
    """aetcd speaks plaintext only; this opens its channel with TLS and sets up the same stubs."""

    def __init__(self, *args, tls: EtcdTLS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._tls = tls

    async def connect(self) -> None:
        if self._connected.is_set():
            return
        self.channel = grpc.aio.secure_channel(f"{self._host}:{self._port}", self._tls.credentials(),
                                               options=list(self._options.items()))
        self.kvstub = rpc.KVStub(self.channel)
        self.clusterstub = rpc.ClusterStub(self.channel)
        self.leasestub = rpc.LeaseStub(self.channel)
        self.maintenancestub = rpc.MaintenanceStub(self.channel)
        self._watcher = aetcd.watcher.Watcher(rpc.WatchStub(self.channel), timeout=self._timeout,
                                              metadata=self.metadata)
        self._connected.set()


def member_client(url: str, tls: EtcdTLS | None) -> aetcd.Client:
    parsed = urlparse(url if "://" in url else f"http://{url}")
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 2379
    if tls:
        return _TLSEtcdClient(host=host, port=port, options=_OPTIONS, tls=tls)
    return aetcd.Client(host=host, port=port, options=_OPTIONS)


def never_sent(error: grpc.aio.AioRpcError) -> bool:
    """True when the call failed before any member could have received it."""
    details = (error.details() or "").lower()
    return error.code() == grpc.StatusCode.UNAVAILABLE and (
        "failed to connect" in details or "connection refused" in details)


def _switch_member(error: grpc.aio.AioRpcError) -> bool:
    """Errors that say this member cannot serve now (gone, or cut off from its cluster)."""
    details = (error.details() or "").lower()
    return error.code() == grpc.StatusCode.UNAVAILABLE or "no leader" in details or "leader changed" in details


class _Stub:
    """A stub of one etcd service (KV, Lease, ...) whose calls go to the current member."""

    def __init__(self, cluster: EtcdCluster, attribute: str) -> None:
        self._cluster = cluster
        self._attribute = attribute

    def __getattr__(self, method: str):
        async def call(request, **kwargs):
            return await self._cluster.call(self._attribute, method, request, **kwargs)
        return call


class EtcdCluster:
    """Every member of one etcd cluster, given by --etcd-servers."""

    def __init__(self, urls: list[str], tls: EtcdTLS | None = None) -> None:
        self.urls = urls
        self.clients = [member_client(u, tls) for u in urls]
        self.current = 0
        self.kv = _Stub(self, "kvstub")
        self.lease = _Stub(self, "leasestub")
        self.maintenance = _Stub(self, "maintenancestub")
        self.cluster = _Stub(self, "clusterstub")

    @property
    def channel(self) -> grpc.aio.Channel:
        """The current member's channel (a watch stream stays on the member it started on)."""
        return self.clients[self.current].channel

    async def connect(self, patience: float = CONNECT_SECONDS) -> None:
        """Connects to every member; raises unless one answers within `patience` seconds (members of a
        cluster starting together answer only once a majority runs)."""
        last: Exception | None = None
        for client in self.clients:
            await client.connect()
        deadline = asyncio.get_running_loop().time() + patience
        while True:
            for i, client in enumerate(self.clients):
                try:
                    await client.kvstub.Range(rpc.RangeRequest(key=b"/", limit=1, count_only=True), timeout=5)
                    self.current = i
                    return
                except Exception as e:  # noqa: BLE001 - try the next member
                    last = e
            if asyncio.get_running_loop().time() >= deadline:
                break
            log.warning("no etcd member answers yet (%s); trying again", last)
            await asyncio.sleep(1)
        await self.close()
        raise ConnectionError(f"cannot reach etcd at {', '.join(self.urls)}: {last}")

    async def close(self) -> None:
        for client in self.clients:
            await client.close()

    def failed(self, index: int) -> None:
        """The member at index could not serve: the next one becomes current."""
        if index == self.current and len(self.clients) > 1:
            self.current = (index + 1) % len(self.clients)
            log.warning("etcd member %s unavailable; using %s", self.urls[index], self.urls[self.current])

    async def call(self, attribute: str, method: str, request, **kwargs):
        deadline = asyncio.get_running_loop().time() + FAILOVER_SECONDS
        tries = 0
        while True:
            index = self.current
            try:
                return await getattr(getattr(self.clients[index], attribute), method)(request, **kwargs)
            except grpc.aio.AioRpcError as e:
                if not _switch_member(e):
                    raise
                self.failed(index)
                tries += 1
                retry = method in _IDEMPOTENT or never_sent(e)
                if not retry or asyncio.get_running_loop().time() >= deadline:
                    raise
                if tries % len(self.clients) == 0:  # every member refused: wait for one to come back
                    await asyncio.sleep(0.2)
