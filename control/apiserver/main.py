"""skiff-apiserver: validates, stores in etcd, serves list/watch from a watch cache."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from control.apiserver import admission, kubernetesservice, metrics
from control.apiserver.admission import AdmissionOptions
from control.apiserver.auth import jwt
from control.apiserver.auth.audit import AuditLog
from control.apiserver.auth.authn import Authenticator, TokenFileError, load_token_file
from control.apiserver.auth.authorize import AuthorizationModeError, build_authorizer, parse_modes
from control.apiserver.auth.bootstrap import ensure_bootstrap_policy
from control.apiserver.auth.serviceaccount import ServiceAccountTokens, TokenOptions
from control.apiserver.auth.tlsfront import BACKEND_HOST, TLSFront, server_context
from control.apiserver.context import ApiContext
from control.apiserver.encryption import EncryptionError, Transformer, load_key_file
from control.apiserver.etcdclient import CONNECT_SECONDS, EtcdTLS
from control.apiserver.handlers import create_unless_exists
from control.apiserver.kubernetesservice import KubernetesService
from control.apiserver.pods import AgentProxy, KubeletClientTLS
from control.apiserver.priority import ensure_system_priority_classes
from control.apiserver.registry import load_all
from control.apiserver.resourcemetrics import Collector
from control.apiserver.server import build_server
from control.apiserver.storage import Storage, StorageError
from control.apiserver.watchcache import WatchCache
from control.apiserver.workers import WORKER_FLAG, Workers
from control.client.component import duration
from control.client.kinds import KINDS
from control.client.metrics import add_metrics_flag, serve_metrics
from control.client.wellknown import NAMESPACE_DEFAULT, NAMESPACE_NODE_LEASE, NAMESPACE_PUBLIC, NAMESPACE_SYSTEM

log = logging.getLogger("skiff-apiserver")

SYSTEM_NAMESPACES = (NAMESPACE_DEFAULT, NAMESPACE_SYSTEM, NAMESPACE_PUBLIC, NAMESPACE_NODE_LEASE)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skiff-apiserver", description=__doc__)
    p.add_argument("--etcd-servers", required=True, help="comma-separated etcd URLs")
    p.add_argument("--etcd-cafile", default="", help="CA bundle to verify etcd's serving certificate (enables TLS)")
    p.add_argument("--etcd-certfile", default="", help="client certificate for etcd")
    p.add_argument("--etcd-keyfile", default="", help="client key for etcd")
    p.add_argument("--storage-initialization-timeout", type=duration, default=CONNECT_SECONDS,
                   help="how long a starting apiserver waits for an etcd member to answer before it exits")
    p.add_argument("--listen", default="127.0.0.1:6443", help="HOST:PORT to serve gRPC on")
    p.add_argument("--rest-port", type=int, default=0,
                   help="port on --listen's host to serve Kubernetes' REST API on (HTTPS; 0: off)")
    p.add_argument("--encryption-key-file", required=True,
                   help="file holding a base64-encoded 32-byte AES-GCM key for Secrets at rest")
    p.add_argument("--service-cluster-ip-range", default="10.96.0.0/12")
    p.add_argument("--advertise-address", default="",
                   help="the address listed in the kubernetes Service's Endpoints (default: --listen's host)")
    p.add_argument("--endpoint-reconciler-type", default="lease", choices=("lease", "none"),
                   help="lease: every apiserver lists itself in the kubernetes Endpoints; none: nobody does")
    p.add_argument("--endpoint-reconciler-ttl", type=duration, default=15.0,
                   help="how long an apiserver stays listed after its last renewal (renewed every TTL*2/3)")
    p.add_argument("--service-node-port-range", default="30000-32767")
    p.add_argument("--watch-cache-window", type=int, default=20000,
                   help="events kept per kind for watches that resume from a resourceVersion")
    p.add_argument("--watcher-queue", type=int, default=10000,
                   help="events a watcher may fall behind before it is closed")
    p.add_argument("--event-ttl", type=duration, default=3600.0,
                   help="how long Events live after their last write (Go duration, e.g. 1h; 0: forever)")
    p.add_argument("--bookmark-interval", type=float, default=10.0, help="seconds between watch bookmarks")
    p.add_argument("--etcd-compaction-interval", type=float, default=300.0,
                   help="seconds between compactions of etcd's history (0: never)")
    p.add_argument("--default-not-ready-toleration-seconds", type=int, default=300,
                   help="tolerationSeconds of the not-ready:NoExecute toleration added to every pod")
    p.add_argument("--default-unreachable-toleration-seconds", type=int, default=300,
                   help="tolerationSeconds of the unreachable:NoExecute toleration added to every pod")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="apiserver processes sharing --listen (and --rest-port) with SO_REUSEPORT; default: cores")
    p.add_argument(WORKER_FLAG, type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--metric-resolution", type=duration, default=15.0,
                   help="how often node agents are scraped for the resource metrics API (metrics.k8s.io; 0: off)")
    add_metrics_flag(p, "127.0.0.1:8080")
    _add_security_flags(p)
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def _add_security_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tls-cert-file", default="", help="serving certificate (TLS is required unless --insecure-dev)")
    p.add_argument("--tls-private-key-file", default="", help="key of --tls-cert-file")
    p.add_argument("--client-ca-file", default="",
                   help="CA of client certificates: CN is the user name, each O a group")
    p.add_argument("--token-auth-file", default="",
                   help='static bearer tokens, CSV lines: token,user,uid,"group1,group2"')
    p.add_argument("--authorization-mode", default="Node,RBAC",
                   help="comma-separated authorizers, tried in order: Node, RBAC, AlwaysAllow, AlwaysDeny")
    p.add_argument("--audit-log-path", default="", help="append an audit.k8s.io/v1 event per mutating request")
    p.add_argument("--kubelet-client-certificate", default="", help="client certificate for node agents")
    p.add_argument("--kubelet-client-key", default="", help="key of --kubelet-client-certificate")
    p.add_argument("--kubelet-certificate-authority", default="", help="CA that signed the agents' certificates")
    _add_service_account_flags(p)
    p.add_argument("--insecure-dev", action="store_true",
                   help="plaintext, no authentication, no authorization, no audit: development only")


def _add_service_account_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--service-account-issuer", action="append", default=[],
                   help="the `iss` of ServiceAccount tokens; repeat to also accept older issuers (the first issues)")
    p.add_argument("--service-account-signing-key-file", default="",
                   help="PEM private key (EC P-256: ES256, or RSA: RS256) signing ServiceAccount tokens")
    p.add_argument("--service-account-key-file", action="append", default=[],
                   help="PEM file of public (or private) keys that verify ServiceAccount tokens; repeatable")
    p.add_argument("--api-audiences", default="",
                   help="comma-separated audiences of the API; tokens must name one (default: the issuers)")
    p.add_argument("--service-account-max-token-expiration", type=duration, default=0.0,
                   help="the longest lifetime of a requested token (Go duration; 0: no limit)")
    p.add_argument("--service-account-extend-token-expiration", default="true", choices=("true", "false"),
                   help="pod-bound tokens of the admission's default lifetime (3607 s) live a year, for old clients")
    p.add_argument("--disable-admission-plugins", default="",
                   help=f"comma-separated admission plugins to turn off: {', '.join(admission.PLUGINS)}")


class ConfigError(Exception):
    pass


def check_security_flags(args: argparse.Namespace) -> None:
    """Refuses to start without TLS (or the explicit --insecure-dev), and with half-given pairs."""
    if args.insecure_dev:
        return
    if not args.tls_cert_file:
        raise ConfigError("--tls-cert-file is required (or --insecure-dev for a plaintext development server "
                          "without authentication and authorization)")
    pairs = (("--tls-cert-file", "--tls-private-key-file"),
             ("--kubelet-client-certificate", "--kubelet-client-key"))
    for a, b in pairs:
        if bool(getattr(args, a[2:].replace("-", "_"))) != bool(getattr(args, b[2:].replace("-", "_"))):
            raise ConfigError(f"{a} and {b} must be given together")
    if not args.client_ca_file and not args.token_auth_file:
        log.warning("neither --client-ca-file nor --token-auth-file: nobody can authenticate")
    parse_modes(args.authorization_mode)
    if args.service_account_signing_key_file and not args.service_account_issuer:
        raise ConfigError("--service-account-issuer is required with --service-account-signing-key-file")
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.workers > 1 and (args.listen.startswith("unix:") or args.listen.endswith(":0")):
        raise ConfigError("--workers above 1 needs --listen HOST:PORT with a fixed port (the workers share it)")


async def ensure_namespaces(api: ApiContext) -> None:
    for name in SYSTEM_NAMESPACES:
        ns = KINDS["Namespace"].new()
        ns.metadata.name = name
        await create_unless_exists(api, ns)


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


def _kubelet_tls(args: argparse.Namespace) -> KubeletClientTLS | None:
    if not args.kubelet_client_certificate:
        return None
    return KubeletClientTLS(args.kubelet_certificate_authority, args.kubelet_client_certificate,
                            args.kubelet_client_key)


def _secure(api: ApiContext, args: argparse.Namespace) -> TLSFront | None:
    """Authentication, authorization and audit from the flags; the TLS front, None when --insecure-dev."""
    if args.insecure_dev:
        log.warning("--insecure-dev: serving PLAINTEXT with NO authentication, NO authorization and NO audit; "
                    "anyone who can reach %s owns the cluster", args.listen)
        return None
    context = server_context(args.tls_cert_file, args.tls_private_key_file, args.client_ca_file or None)
    try:
        front = TLSFront(args.listen, 0, context)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    tokens = load_token_file(args.token_auth_file) if args.token_auth_file else {}
    api.service_account_tokens = service_account_tokens(args, api)
    api.authenticator = Authenticator(bool(args.client_ca_file), tokens, front, api.service_account_tokens)
    api.authorizer = build_authorizer(api, parse_modes(args.authorization_mode))
    api.audit = AuditLog(args.audit_log_path) if args.audit_log_path else None
    return front


def service_account_tokens(args: argparse.Namespace, api: ApiContext) -> ServiceAccountTokens | None:
    """Issuing needs an issuer and the signing key; checking needs an issuer and the keys."""
    if not args.service_account_issuer:
        return None
    try:
        signing = jwt.load_signing_key(args.service_account_signing_key_file) \
            if args.service_account_signing_key_file else None
        keys = [k for path in args.service_account_key_file for k in jwt.load_public_keys(path)]
    except jwt.KeyFileError as e:
        raise ConfigError(str(e)) from None
    if signing is not None:
        keys.append(signing.public_key())
    if not keys:
        raise ConfigError("--service-account-key-file or --service-account-signing-key-file is required with "
                          "--service-account-issuer")
    audiences = [a.strip() for a in args.api_audiences.split(",") if a.strip()]
    options = TokenOptions(list(args.service_account_issuer), signing, keys, audiences,
                           int(args.service_account_max_token_expiration),
                           args.service_account_extend_token_expiration == "true")
    return ServiceAccountTokens(options, api.cache)


def kubernetes_service(api: ApiContext, args: argparse.Namespace) -> KubernetesService | None:
    """The `kubernetes` Service and this apiserver in its Endpoints, when it serves REST at an address pods
    can reach."""
    if args.endpoint_reconciler_type == "none" or not args.rest_port or args.worker_index != 0:
        return None
    address = args.advertise_address or ("" if args.listen.startswith("unix:") else args.listen.rpartition(":")[0])
    address = address.strip("[]")
    if not kubernetesservice.advertisable(address):
        log.info("not publishing the kubernetes Service's endpoint: no --advertise-address pods can reach "
                 "(have %r)", address)
        return None
    ttl = max(1, round(args.endpoint_reconciler_ttl))
    return KubernetesService(api, address, args.rest_port,
                             kubernetesservice.first_address(args.service_cluster_ip_range), ttl, ttl * 2 / 3)


async def start_rest(api: ApiContext, args: argparse.Namespace, front: TLSFront | None):
    if not args.rest_port:
        return None
    # Imported only when served: the REST API's modules (routes, OpenAPI, JSON and YAML, tables, patches)
    # are ~100 modules and ~4 MiB a worker would otherwise carry for nothing.
    from control.apiserver.rest.server import RestServer, rest_context
    host = args.listen.rpartition(":")[0] if not args.listen.startswith("unix:") else "127.0.0.1"
    context = None if front is None else rest_context(args.tls_cert_file, args.tls_private_key_file,
                                                      args.client_ca_file or None)
    rest = RestServer(api, f"{host}:{args.rest_port}", context, front)
    rest.reuse_port = args.workers > 1
    await rest.start()
    log.info("serving Kubernetes' REST API (%s) on %s:%d", "HTTPS" if context else "plain HTTP", host, args.rest_port)
    return rest


async def serve(args: argparse.Namespace, argv: list[str]) -> None:
    key = load_key_file(args.encryption_key_file)
    tls = EtcdTLS(args.etcd_cafile, args.etcd_certfile, args.etcd_keyfile) if args.etcd_cafile else None
    ttls = {"events": max(1, round(args.event_ttl))} if args.event_ttl > 0 else {}
    storage = Storage(args.etcd_servers.split(","), {"secrets": Transformer(key)}, tls, ttls)
    await storage.connect(args.storage_initialization_timeout)
    cache = WatchCache(storage, list(KINDS.values()), args.watch_cache_window, args.watcher_queue)
    await cache.start()
    metrics.track_watch_cache(cache)
    api = ApiContext(storage, cache, bookmark_interval=args.bookmark_interval,
                     admission=AdmissionOptions(args.default_not_ready_toleration_seconds,
                                                args.default_unreachable_toleration_seconds,
                                                admission.parse_plugins(args.disable_admission_plugins)))
    api.agents = AgentProxy(api, _kubelet_tls(args))
    collector = Collector(api, args.metric_resolution) if args.metric_resolution > 0 else None
    api.resource_metrics = collector.store if collector is not None else None
    front = _secure(api, args)
    for name, strategy in load_all().items():
        hooks = strategy.hooks(api, args)
        if hooks is not None:
            await hooks.start(cache[KINDS[name]].snapshot()[0])
            api.hooks[name] = hooks
    first = args.worker_index == 0
    if first:
        await ensure_namespaces(api)
        await ensure_system_priority_classes(api)
        await ensure_bootstrap_policy(api)
    server, _health = build_server(api)
    if front is None:
        server.add_insecure_port(args.listen)
        await server.start()
    else:
        front.backend_port = server.add_insecure_port(f"{BACKEND_HOST}:0")
        front.reuse_port = args.workers > 1
        await server.start()
        await front.start()
    rest = await start_rest(api, args, front)
    log.info("worker %d of %d serving %s on %s (etcd %s)", args.worker_index, args.workers,
             "plaintext" if front is None else "TLS", args.listen, args.etcd_servers)
    workers = Workers(argv, args.workers) if first else None
    if workers is not None:
        workers.start_supervising()
    metrics_server = serve_metrics(args.metrics_bind_address) if first else None
    compactor = (asyncio.create_task(compact_periodically(storage, args.etcd_compaction_interval))
                 if args.etcd_compaction_interval > 0 and first else None)
    scraper = asyncio.create_task(collector.run()) if collector is not None else None
    published = kubernetes_service(api, args)
    publisher = asyncio.create_task(published.run()) if published is not None else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if publisher is not None:
        publisher.cancel()
        await published.stop()
    if workers is not None:
        await workers.stop()
    if metrics_server is not None:
        await asyncio.to_thread(metrics_server.close)
    if compactor:
        compactor.cancel()
    if rest is not None:
        await rest.close()
    if scraper:
        scraper.cancel()
    if front is not None:
        await front.close()
    await server.stop(grace=1)
    await api.agents.close()
    if api.audit is not None:
        api.audit.close()
    await cache.stop()
    await storage.close()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        check_security_flags(args)
        asyncio.run(serve(args, argv))
    except (ConfigError, AuthorizationModeError, TokenFileError, EncryptionError, StorageError,
            admission.PluginError) as e:
        raise SystemExit(f"skiff-apiserver: {e}") from None
    except OSError as e:  # unreadable certificates, keys, token or audit files
        raise SystemExit(f"skiff-apiserver: {e}") from None


if __name__ == "__main__":
    main()
