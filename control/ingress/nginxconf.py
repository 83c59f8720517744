"""Renders nginx's configuration from Ingresses, as ingress-nginx does: nginx is the data plane.

Pure: objects in, text and certificate files out. Routing follows Kubernetes' rules for a host's
paths: `Exact` matches the path alone (`location = /p`), `Prefix` matches by path element (`/p` and
`/p/...`, never `/px`; the longest prefix wins), and an exact match beats any prefix, which is
nginx's own precedence for `=` and `^~` locations. `ImplementationSpecific` is served as a prefix.
Requests go straight to the ready endpoints of the backend Service's port (not through the
ClusterIP); a backend with none answers 503. Hosts of an Ingress's `tls` section are served on the
HTTPS port with their Secret's certificate, chosen by SNI, and their plain-HTTP requests are
redirected (308) to HTTPS. Anything else gets the default backend: the `defaultBackend` of an
Ingress, or 404.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from google.protobuf.message import Message

DEFAULT_SERVER = "_"


@dataclass(frozen=True)
class Backend:
    """The ready addresses of one Service port, as `ip:port` strings."""
    name: str
    servers: tuple[str, ...]


@dataclass
class Route:
    path: str
    path_type: str
    backend: Backend


@dataclass
class Server:
    host: str
    routes: list[Route] = field(default_factory=list)
    tls_secret: str = ""  # "namespace/name" of the certificate's Secret


@dataclass
class Rendered:
    text: str
    certificates: dict[str, bytes]  # file name -> PEM (certificate followed by key)


class Cluster:
    """What rendering reads: Services, Endpoints and Secrets by "namespace/name"."""

    def __init__(self, services: Mapping[str, Message], endpoints: Mapping[str, Message],
                 secrets: Mapping[str, Message]) -> None:
        self.services, self.endpoints, self.secrets = services, endpoints, secrets

    def backend(self, namespace: str, ref: Message) -> Backend:
        svc = self.services.get(f"{namespace}/{ref.name}")
        port = _service_port(svc, ref.port) if svc is not None else None
        label = f"{namespace}-{ref.name}-{ref.port.name or ref.port.number}"
        if port is None:
            return Backend(label, ())
        return Backend(label, tuple(self._addresses(namespace, ref.name, port)))

    def _addresses(self, namespace: str, name: str, port: Message) -> Iterable[str]:
        ep = self.endpoints.get(f"{namespace}/{name}")
        for subset in ep.subsets if ep is not None else []:
            number = next((p.port for p in subset.ports if p.name == port.name), None)
            if number is None and len(subset.ports) == 1 and not port.name:
                number = subset.ports[0].port
            if number is None:
                continue
            for address in subset.addresses:
                yield f"{address.ip}:{number}"


def _service_port(svc: Message, ref: Message) -> Message | None:
    for port in svc.spec.ports:
        if (ref.name and port.name == ref.name) or (ref.HasField("number") and port.port == ref.number):
            return port
    return None


def servers_for(ingresses: Iterable[Message], cluster: Cluster) -> tuple[list[Server], Backend | None]:
    """Servers by host (DEFAULT_SERVER for rules without one) and the default backend, if any."""
    servers: dict[str, Server] = {}
    default: Backend | None = None
    for ing in sorted(ingresses, key=lambda i: (i.metadata.creation_timestamp.seconds, i.metadata.namespace,
                                                 i.metadata.name)):
        ns = ing.metadata.namespace
        if ing.spec.HasField("default_backend") and ing.spec.default_backend.HasField("service") and default is None:
            default = cluster.backend(ns, ing.spec.default_backend.service)
        for rule in ing.spec.rules:
            server = servers.setdefault(rule.host or DEFAULT_SERVER, Server(rule.host or DEFAULT_SERVER))
            for p in rule.http.paths:
                if not p.backend.HasField("service"):
                    continue  # resource backends: no data plane for them
                if any(r.path == (p.path or "/") and r.path_type == p.path_type for r in server.routes):
                    continue  # the oldest Ingress keeps a path, as ingress-nginx does
                server.routes.append(Route(p.path or "/", p.path_type, cluster.backend(ns, p.backend.service)))
        for tls in ing.spec.tls:
            for host in tls.hosts:
                if host in servers and tls.secret_name and not servers[host].tls_secret:
                    servers[host].tls_secret = f"{ns}/{tls.secret_name}"
    return sorted(servers.values(), key=lambda s: s.host), default


def _upstream(backend: Backend) -> str:
    if not backend.servers:
        return ""
    lines = "".join(f"    server {s};\n" for s in backend.servers)
    return f"upstream {backend.name} {{\n{lines}    keepalive 16;\n}}\n"


def _proxy(backend: Backend) -> str:
    if not backend.servers:
        return "return 503;"
    return (f"proxy_pass http://{backend.name}; proxy_http_version 1.1; proxy_set_header Connection \"\"; "
            "proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; "
            "proxy_set_header X-Forwarded-Proto $scheme;")


def _locations(server: Server, default: Backend | None) -> list[str]:
    out = []
    has_root = False
    for route in sorted(server.routes, key=lambda r: (-len(r.path), r.path, r.path_type)):
        body = _proxy(route.backend)
        if route.path_type == "Exact":
            out.append(f"location = {route.path} {{ {body} }}")
            continue
        has_root = has_root or route.path == "/"
        if route.path == "/":
            out.append(f"location / {{ {body} }}")
            continue
        trimmed = route.path.rstrip("/")
        out.append(f"location = {trimmed} {{ {body} }}")
        out.append(f"location ^~ {trimmed}/ {{ {body} }}")
    if not has_root:
        out.append(f"location / {{ {_proxy(default) if default else 'return 404;'} }}")
    return out


def certificate_file(secret_key: str) -> str:
    return hashlib.sha256(secret_key.encode()).hexdigest()[:16] + ".pem"


def render(ingresses: Iterable[Message], cluster: Cluster, http_port: int, https_port: int, address: str,
           state_dir: str, fallback_certificate: str) -> Rendered:
    servers, default = servers_for(ingresses, cluster)
    certificates: dict[str, bytes] = {}
    upstreams = {b.name: b for s in servers for b in (r.backend for r in s.routes)}
    if default is not None:
        upstreams[default.name] = default
    blocks = []
    for server in servers:
        name = "" if server.host == DEFAULT_SERVER else server.host
        cert = _certificate(cluster, server.tls_secret)
        body = "\n        ".join(_locations(server, default))
        if cert is not None and name:
            file = certificate_file(server.tls_secret)
            certificates[file] = cert
            blocks.append(f"server {{\n        listen {address}:{http_port};\n        server_name {name};\n"
                          f"        return 308 https://$host$request_uri;\n    }}")
            blocks.append(f"server {{\n        listen {address}:{https_port} ssl;\n        server_name {name};\n"
                          f"        ssl_certificate {state_dir}/certs/{file};\n"
                          f"        ssl_certificate_key {state_dir}/certs/{file};\n        {body}\n    }}")
            continue
        listen = f"listen {address}:{http_port}" + (";" if name else " default_server;")
        blocks.append(f"server {{\n        {listen}\n        server_name {name or DEFAULT_SERVER};\n"
                      f"        {body}\n    }}")
    if not any(s.host == DEFAULT_SERVER for s in servers):
        fallback = _proxy(default) if default else "return 404;"
        blocks.append(f"server {{\n        listen {address}:{http_port} default_server;\n"
                      f"        location / {{ {fallback} }}\n    }}")
    blocks.append(f"server {{\n        listen {address}:{https_port} ssl default_server;\n"
                  f"        ssl_certificate {fallback_certificate};\n"
                  f"        ssl_certificate_key {fallback_certificate};\n"
                  f"        location / {{ {_proxy(default) if default else 'return 404;'} }}\n    }}")
    text = _main_config(state_dir, "".join(_upstream(b) for b in upstreams.values()), "\n    ".join(blocks))
    return Rendered(text, certificates)


def _certificate(cluster: Cluster, secret_key: str) -> bytes | None:
    secret = cluster.secrets.get(secret_key) if secret_key else None
    if secret is None or "tls.crt" not in secret.data or "tls.key" not in secret.data:
        return None
    return secret.data["tls.crt"].rstrip(b"\n") + b"\n" + secret.data["tls.key"]


def _main_config(state_dir: str, upstreams: str, servers: str) -> str:
    return f"""# Written by skiff-ingress-controller; every change is a graceful reload.
daemon off;
worker_processes 1;
pid {state_dir}/nginx.pid;
error_log {state_dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {state_dir}/tmp/body;
    proxy_temp_path {state_dir}/tmp/proxy;
    fastcgi_temp_path {state_dir}/tmp/fastcgi;
    uwsgi_temp_path {state_dir}/tmp/uwsgi;
    scgi_temp_path {state_dir}/tmp/scgi;
    server_names_hash_bucket_size 128;
    proxy_next_upstream error timeout http_502;
{upstreams}
    {servers}
}}
"""

