"""skiff-apiserver: validates, stores in etcd, serves list/watch from a watch cache."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from control.apiserver import errors
from control.apiserver.admission import AdmissionOptions
from control.apiserver.allocators import ClusterIPAllocator, NodePortAllocator
from control.apiserver.context import ApiContext
from control.apiserver.encryption import EncryptionError, Transformer, load_key_file
from control.apiserver.handlers import ResourceHandlers
from control.apiserver.pods import AgentProxy
from control.apiserver.server import build_server
from control.apiserver.services import ServiceHooks
from control.apiserver.storage import EtcdTLS, Storage, StorageError
from control.apiserver.watchcache import WatchCache
from control.client.kinds import KINDS

log = logging.getLogger("skiff-apiserver")

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-apiserver", description=__doc__)
    p.add_argument("--etcd-servers", required=True, help="comma-separated etcd URLs")
    p.add_argument("--etcd-cafile", default="", help="CA bundle to verify etcd's serving certificate (enables TLS)")
    p.add_argument("--etcd-certfile", default="", help="client certificate for etcd")
    p.add_argument("--etcd-keyfile", default="", help="client key for etcd")
    p.add_argument("--listen", default="127.0.0.1:6443", help="HOST:PORT to serve gRPC on")
    p.add_argument("--encryption-key-file", required=True,
                   help="file holding a base64-encoded 32-byte AES-GCM key for Secrets at rest")
    p.add_argument("--service-cluster-ip-range", default="10.96.0.0/12")
    p.add_argument("--service-node-port-range", default="30000-32767")
    p.add_argument("--watch-cache-window", type=int, default=20000,
                   help="events kept per kind for watches that resume from a resourceVersion")
    p.add_argument("--watcher-queue", type=int, default=10000,
                   help="events a watcher may fall behind before it is closed")
    p.add_argument("--bookmark-interval", type=float, default=10.0, help="seconds between watch bookmarks")
    p.add_argument("--etcd-compaction-interval", type=float, default=300.0,
                   help="seconds between compactions of etcd's history (0: never)")
    p.add_argument("--default-not-ready-toleration-seconds", type=int, default=300,
                   help="tolerationSeconds of the not-ready:NoExecute toleration added to every pod")
    p.add_argument("--default-unreachable-toleration-seconds", type=int, default=300,
                   help="tolerationSeconds of the unreachable:NoExecute toleration added to every pod")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def _node_port_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high)


async def ensure_namespaces(api: ApiContext) -> None:
    handlers = ResourceHandlers(KINDS["Namespace"], api)
    for name in SYSTEM_NAMESPACES:
        ns = KINDS["Namespace"].new()
        ns.metadata.name = name
        try:
            await handlers.create(ns, dry_run=False)
        except errors.ApiError as e:
            if e.code.name != "ALREADY_EXISTS":
                raise


async def compact_periodically(storage: Storage, interval: float) -> None:
    """Like kube-apiserver: each tick compacts up to the revision seen at the previous tick."""
    previous = 0
    while True:
        await asyncio.sleep(interval)
        try:
            current = await storage.current_revision()
            if previous:
                await storage.compact(previous)
            previous = current
        except Exception as e:  # noqa: BLE001 - try again next tick
            log.warning("compaction failed: %s", e)


async def serve(args: argparse.Namespace) -> None:
    key = load_key_file(args.encryption_key_file)
    tls = EtcdTLS(args.etcd_cafile, args.etcd_certfile, args.etcd_keyfile) if args.etcd_cafile else None
    storage = Storage(args.etcd_servers.split(","), {"secrets": Transformer(key)}, tls)
    await storage.connect()
    cache = WatchCache(storage, list(KINDS.values()), args.watch_cache_window, args.watcher_queue)
    await cache.start()
    api = ApiContext(storage, cache, bookmark_interval=args.bookmark_interval,
                     admission=AdmissionOptions(args.default_not_ready_toleration_seconds,
                                                args.default_unreachable_toleration_seconds))
    api.agents = AgentProxy(api)
    service_hooks = ServiceHooks(ClusterIPAllocator(args.service_cluster_ip_range),
                                 NodePortAllocator(_node_port_range(args.service_node_port_range)))
    service_hooks.load(cache[KINDS["Service"]].snapshot()[0])
    api.hooks["Service"] = service_hooks
    await ensure_namespaces(api)
    server, _health = build_server(api)
    server.add_insecure_port(args.listen)
    await server.start()
    log.info("serving on %s (etcd %s)", args.listen, args.etcd_servers)
    compactor = (asyncio.create_task(compact_periodically(storage, args.etcd_compaction_interval))
                 if args.etcd_compaction_interval > 0 else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if compactor:
        compactor.cancel()
    await server.stop(grace=1)
    await api.agents.close()
    await cache.stop()
    await storage.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(serve(args))
    except (EncryptionError, StorageError) as e:
        raise SystemExit(f"skiff-apiserver: {e}") from None


if __name__ == "__main__":
    main()
