"""The NetworkPolicy enforcer: NetworkPolicies, Pods and Namespaces -> the node's `inet skiff-netpol` table.

Informer handlers update the desired state (`PolicyState`) at once and wake one sync loop, which
turns everything changed since the last transaction into a single `nft -f` (changes arriving
meanwhile go into the next one). The first sync, once all three informers have synced, replaces
the table atomically: a restarted agent leaves its predecessor's table enforcing until then, so
there is no gap. A failed transaction is retried as a full replacement.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from control.client.client import Client
from control.client.informer import Informer
from node.network.libnft import LibNft
from node.network.nftables import Nft, NftError
from node.network.policyrules import compile_policy, pod_view
from node.network.policytable import (
    TABLE,
    Applied,
    PolicyState,
    take_diff,
    take_full,
)

log = logging.getLogger(__name__)


def _key(obj) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


class PolicyEnforcer:
    def __init__(self, nft: Nft | LibNft, node_name: str) -> None:
        self.nft = nft
        self.state = PolicyState(node_name)
        self.applied = Applied()
        self._wake = asyncio.Event()
        self._full_sync_needed = True
        self.synced = asyncio.Event()  # set after each successful sync with nothing left to do
        self.on_synced: Callable[[float], None] | None = None  # benchmarks: when a transaction committed
        self.retry_interval = 1.0
        self.generation = 0  # bumped by every change; `applied_generation` trails it
        self.applied_generation = 0

    # Informer handlers: update the desired state, wake the loop.
    def on_policy(self, np, new=None) -> None:
        np = new if new is not None else np
        compiled = compile_policy(np)
        if self.state.policies.get(_key(np)) != compiled:  # not for metadata-only updates
            self.state.set_policy(_key(np), compiled)
            self._changed()

    def on_policy_deleted(self, np) -> None:
        self.state.set_policy(_key(np), None)
        self._changed()

    def on_pod(self, pod, new=None) -> None:
        pod = new if new is not None else pod
        view = pod_view(pod)
        if view != self.state.pods.get(_key(pod)):
            self.state.set_pod(_key(pod), view)
            self._changed()

    def on_pod_deleted(self, pod) -> None:
        if _key(pod) in self.state.pods:
            self.state.set_pod(_key(pod), None)
            self._changed()

    def on_namespace(self, ns, new=None) -> None:
        ns = new if new is not None else ns
        self.state.set_namespace(ns.metadata.name, ns.metadata.labels)
        self._changed()

    def on_namespace_deleted(self, ns) -> None:
        self.state.set_namespace(ns.metadata.name, None)
        self._changed()

    def _changed(self) -> None:
        self.generation += 1
        self.synced.clear()
        self._wake.set()

    async def run(self) -> None:
        """Syncs until cancelled; start it once the informers have synced."""
        self._wake.set()
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.sync()
            except Exception as e:  # noqa: BLE001 - the next sync replaces the whole table
                log.error("network policy: sync failed, retrying with a full sync: %s", e,
                          exc_info=not isinstance(e, NftError | OSError))
                self._full_sync_needed = True
                asyncio.get_running_loop().call_later(self.retry_interval, self._wake.set)

    async def sync(self) -> None:
        generation, started = self.generation, time.monotonic()
        full = self._full_sync_needed
        text, commit = (take_full if full else take_diff)(self.state, self.applied)
        await self.nft.apply(text)
        commit()
        if full:
            self._full_sync_needed = False
            log.info("network policy: table replaced (%d policies, %d pods) in %.3fs",
                     len(self.state.policies), len(self.state.pods), time.monotonic() - started)
        self.applied_generation = generation
        if self.on_synced is not None:
            self.on_synced(time.monotonic())
        if self.generation == generation:
            self.synced.set()
        else:
            self._wake.set()


async def run_policy_enforcer(client: Client, node_name: str, nft: Nft | LibNft | None = None) -> None:
    """Watches NetworkPolicies, Pods and Namespaces and enforces the policies for this node's pods
    (through libnftables in this process unless given an `nft`)."""
    informers = [Informer(client, k) for k in ("NetworkPolicy", "Pod", "Namespace")]
    own = None
    if nft is None:
        try:
            own = LibNft()
        except OSError as e:  # no libnftables: the nft command does the same, a process per change
            log.warning("network policy: libnftables unavailable (%s), running nft", e)
            nft = Nft()
    enforcer = PolicyEnforcer(nft or own, node_name)
    policies, pods, namespaces = informers
    namespaces.add_handler(enforcer.on_namespace, enforcer.on_namespace, enforcer.on_namespace_deleted)
    pods.add_handler(enforcer.on_pod, enforcer.on_pod, enforcer.on_pod_deleted)
    policies.add_handler(enforcer.on_policy, enforcer.on_policy, enforcer.on_policy_deleted)
    try:
        async with asyncio.TaskGroup() as tg:
            for informer in informers:
                tg.create_task(informer.run())
            for informer in informers:
                await informer.wait_synced()
            log.info("network policy: caches synced, replacing table %s", TABLE)
            tg.create_task(enforcer.run())
    finally:
        if own is not None:
            own.close()
