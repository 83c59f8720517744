"""The client config file shared by skiffctl and every component: where the apiserver is and who we are.

A flat YAML mapping (Skiff's simplified kubeconfig):

    server: 127.0.0.1:6443              # or several apiservers: a list, or "a:6443,b:6443"
    namespace: default
    certificate-authority: ca.crt       # TLS when set
    client-certificate: admin.crt
    client-key: admin.key
    token: "..."                        # bearer token, alternative to a client certificate
    tls-server-name: kubernetes         # the name to verify in the apiserver's certificate
    insecure: true                      # plaintext, only for an apiserver run with --insecure-dev

The file may instead be a Kubernetes kubeconfig (`kind: Config` with clusters, users and contexts;
control/client/kubeconfig_doc.py): the current context, or the one asked for, gives the same keys,
embedded `*-data` certificates included.

Relative paths are relative to the file's directory. A missing file means the defaults.
With several servers a channel connects to the first that answers and moves to another when it goes
away (gRPC's pick_first over all their addresses); their certificates are verified for
`tls-server-name`, else for `kubernetes`, the name every apiserver's certificate carries.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import re
import socket
import ssl
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import yaml

from control.client import kubeconfig_doc
from control.client.version import GIT_VERSION

# Generous limits: etcd refuses values over 1.5 MiB, lists can be larger.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 256 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # A connection to an apiserver whose machine went away sends no reset: pings find it dead within 45 s
    # (client-go's HTTP/2 health check: 30 s idle, 15 s for the answer), also when no call is open.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 15_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # gRPC's default reconnect back-off grows to 120 s; components should be back soon after the apiserver.
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 5000),
    # A connection of its own per client (gRPC shares one between equal channels otherwise), so that
    # clients spread over the apiserver's workers as they would over separate machines.
    ("grpc.use_local_subchannel_pool", 1),
]

DEFAULT_SERVER = "127.0.0.1:6443"
DEFAULT_NAMESPACE = "default"
SHARED_SERVER_NAME = "kubernetes"

_STRING_KEYS = ("server", "namespace", "certificate-authority", "client-certificate", "client-key",
                "token", "tls-server-name")
_PATH_KEYS = ("certificate-authority", "client-certificate", "client-key")


class ConfigError(ValueError):
    pass


@dataclass
class ClientConfig:
    server: str = DEFAULT_SERVER
    namespace: str = DEFAULT_NAMESPACE
    certificate_authority: str = ""
    client_certificate: str = ""
    client_key: str = ""
    token: str = ""
    tls_server_name: str = ""
    insecure: bool = False
    # PEM embedded in a kubeconfig (its *-data fields), used instead of the files
    certificate_authority_data: bytes = b""
    client_certificate_data: bytes = b""
    client_key_data: bytes = b""

    @property
    def target(self) -> str:
        """The server as a gRPC target (a scheme such as https:// is dropped); several servers
        are separated by commas."""
        return ",".join(s.strip().split("://", 1)[-1] for s in self.server.split(",") if s.strip())


def config_path() -> str:
    return os.environ.get("SKIFFCONFIG") or os.path.join(os.path.expanduser("~"), ".skiff", "config")


def read_config_file(path: str) -> dict | None:
    """The file's mapping; None when it does not exist or is empty."""
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        return None
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f'error loading config file "{path}": {e}') from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f'error loading config file "{path}": expected a mapping')
    return data


def load_client_config(path: str | None = None, context: str = "") -> ClientConfig:
    """Reads the config file ($SKIFFCONFIG, else ~/.skiff/config); a missing file means the defaults.
    `context` picks a kubeconfig context other than the current one."""
    path = path or config_path()
    data = read_config_file(path)
    if data is None and not context:
        return ClientConfig()
    base_dir = os.path.dirname(os.path.abspath(path))
    try:
        if context or kubeconfig_doc.is_document(data or {}):
            doc = kubeconfig_doc.normalized(data) if kubeconfig_doc.is_document(data or {}) else \
                kubeconfig_doc.from_flat(data or {})
            return _from_resolved(kubeconfig_doc.resolve(doc, base_dir, context))
        return config_from_mapping(data, base_dir)
    except (ConfigError, kubeconfig_doc.DocumentError) as e:
        raise ConfigError(f'error loading config file "{path}": {e}') from None


def _from_resolved(flat: dict) -> ClientConfig:
    """A ClientConfig from a kubeconfig context's keys (paths already absolute)."""
    cfg = ClientConfig()
    for key, value in flat.items():
        setattr(cfg, key.replace("-", "_"), value)
    return cfg


def config_from_mapping(data: dict, base_dir: str) -> ClientConfig:
    cfg = ClientConfig()
    for key, value in data.items():
        if key not in _STRING_KEYS and key != "insecure":
            known = ", ".join((*_STRING_KEYS, "insecure"))
            raise ConfigError(f"unknown key {key!r} (known keys: {known})")
        if value is None:
            continue
        if key == "server" and isinstance(value, list):
            if not value or not all(isinstance(v, str) and v for v in value):
                raise ConfigError("server: must be HOST:PORT or a list of them")
            value = ",".join(value)
        if key == "insecure":
            if not isinstance(value, bool):
                raise ConfigError(f"insecure: must be true or false, not {value!r}")
            cfg.insecure = value
            continue
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{key}: must be a non-empty string")
        if key in _PATH_KEYS:
            value = os.path.join(base_dir, os.path.expanduser(value))
        setattr(cfg, key.replace("-", "_"), value)
    return cfg


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(f'unable to read {what} "{path}": {e.strerror or e}') from None


# Credentials are checked with the ssl module, which every process loads anyway: `cryptography`
# would cost each client ~10 MiB of memory for three checks.
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", re.DOTALL)


def _certificates(path: str, what: str, embedded: bytes = b"") -> bytes:
    """The PEM certificates of a file (or of its embedded data), each checked to parse."""
    data = embedded or _read(path, what)
    pem = b"\n".join(_PEM_CERTIFICATE.findall(data)) + b"\n"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=pem.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError):
        where = f"{what}-data" if embedded else f'{what} "{path}"'
        raise ConfigError(f"{where}: the file does not contain any valid PEM certificate") from None
    return pem


@contextlib.contextmanager
def _in_memory_file(data: bytes) -> Iterator[str]:
    """A path to `data` that never touches a disk (the ssl module reads keys from files only)."""
    fd = os.memfd_create("skiff-credential", os.MFD_CLOEXEC)
    try:
        with open(fd, "wb", closefd=False) as f:
            f.write(data)
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


def _client_pair(config: ClientConfig) -> tuple[bytes, bytes]:
    """(key, certificate chain) PEM, checked to belong together: grpc would only fail at the handshake."""
    certs = _certificates(config.client_certificate, "client-certificate", config.client_certificate_data)
    key = config.client_key_data or _read(config.client_key, "client-key")
    try:
        with _in_memory_file(certs) as cert_path, _in_memory_file(key) as key_path:
            # An empty passphrase: an encrypted key fails here instead of asking on the terminal.
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert_path, key_path, password=lambda: b"")
    except ssl.SSLError as e:
        if e.reason == "KEY_VALUES_MISMATCH":
            raise ConfigError(f'client-key "{config.client_key}" does not match client-certificate '
                              f'"{config.client_certificate}"') from None
        where = "client-key-data" if config.client_key_data else f'client-key "{config.client_key}"'
        raise ConfigError(f"{where}: the file does not contain a valid unencrypted PEM private key") from None
    return key, certs


def channel_credentials(config: ClientConfig) -> grpc.ChannelCredentials:
    """TLS with the config's CA (the system roots without one) and client certificate, plus its token."""
    if bool(config.client_certificate or config.client_certificate_data) != \
            bool(config.client_key or config.client_key_data):
        raise ConfigError("client-certificate and client-key must be given together")
    ca = None
    if config.certificate_authority_data or config.certificate_authority:
        ca = _certificates(config.certificate_authority, "certificate-authority", config.certificate_authority_data)
    key, cert = _client_pair(config) if config.client_certificate or config.client_certificate_data \
        else (None, None)
    creds = grpc.ssl_channel_credentials(ca, key, cert)
    if config.token:
        creds = grpc.composite_channel_credentials(creds, grpc.access_token_call_credentials(config.token))
    return creds


def user_agent() -> str:
    """`<program>/<version> (<os>/<arch>)`, as client-go's default user agent: the apiserver names the
    field manager of a write after the program."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not program or program.endswith(".py") or program.startswith("-"):
        program = "skiff"
    return f"{program}/{GIT_VERSION} ({sys.platform}/{os.uname().machine})"


def make_channel(target: str, config: ClientConfig, options: list[tuple[str, object]] | None = None
                 ) -> grpc.aio.Channel:
    """A channel to the apiserver at target with the config's credentials; plaintext only when insecure."""
    opts = list(CHANNEL_OPTIONS if options is None else options)
    opts.append(("grpc.primary_user_agent", user_agent()))
    server_name = config.tls_server_name
    if "," in target:
        target = failover_target(target)
        server_name = server_name or SHARED_SERVER_NAME
    if config.insecure:
        interceptors = [BearerToken(config.token)] if config.token else None
        return grpc.aio.insecure_channel(target, options=opts, interceptors=interceptors)
    if server_name:
        opts.append(("grpc.ssl_target_name_override", server_name))
    return grpc.aio.secure_channel(target, channel_credentials(config), options=opts)


def failover_target(servers: str) -> str:
    """`a:6443,b:6443` as one gRPC target over every address of every server (`ipv4:`/`ipv6:` lists
    take literal addresses only, so names are resolved here)."""
    addresses: list[tuple[int, str]] = []
    for server in servers.split(","):
        host, _, port = server.strip().rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit():
            raise ConfigError(f"server {server.strip()!r}: expected HOST:PORT")
        for ip in _addresses(host):
            family = ipaddress.ip_address(ip).version
            addresses.append((family, f"[{ip}]:{port}" if family == 6 else f"{ip}:{port}"))
    # One target holds one family: IPv4 where any server has it. The order is shuffled so that clients
    # spread over the apiservers (pick_first takes the first that answers), as behind a load balancer.
    family = min(f for f, _ in addresses)
    chosen = [a for f, a in addresses if f == family]
    random.shuffle(chosen)
    return f"ipv{family}:" + ",".join(chosen)


def _addresses(host: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as e:
        raise ConfigError(f"server {host!r}: {e}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


class BearerToken(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor,
                  grpc.aio.StreamUnaryClientInterceptor, grpc.aio.StreamStreamClientInterceptor):
    """`authorization: Bearer <token>` on a plaintext channel (gRPC's call credentials need TLS)."""

    def __init__(self, token: str) -> None:
        self.metadata = ("authorization", f"Bearer {token}")

    def _with_token(self, details):
        return details._replace(metadata=list(details.metadata or []) + [self.metadata])

    async def intercept_unary_unary(self, continuation, details, request):
        return await continuation(self._with_token(details), request)

    async def intercept_unary_stream(self, continuation, details, request):
        return await continuation(self._with_token(details), request)

    async def intercept_stream_unary(self, continuation, details, request_iterator):
        return await continuation(self._with_token(details), request_iterator)

    async def intercept_stream_stream(self, continuation, details, request_iterator):
        return await continuation(self._with_token(details), request_iterator)
