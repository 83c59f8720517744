"""The ingress controller: keeps an nginx process serving this controller's Ingresses.

It watches Ingresses, IngressClasses, Services, Endpoints and Secrets; an Ingress is this
controller's when its class (`spec.ingressClassName`, or the deprecated `kubernetes.io/ingress.class`
annotation) names an IngressClass whose `spec.controller` is `--controller-class`. On any change the
configuration is rendered again (control/ingress/nginxconf.py); when it differs it is checked with
`nginx -t` and nginx is told to reload (SIGHUP), which finishes established connections on the old
workers, so nothing in flight is dropped. The status writer (leader-elected where several instances
run) sets `status.loadBalancer.ingress` of each served Ingress to the addresses it publishes.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import signal
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf.message import Message

from control.client.client import Client
from control.client.informer import Informer, copy_of
from control.client.wellknown import ANNOTATION_INGRESS_CLASS
from control.ingress.nginxconf import Cluster, render

log = logging.getLogger("skiff-ingress-controller")
DEFAULT_CONTROLLER_CLASS = "k8s.io/ingress-nginx"
DEBOUNCE = 0.1  # seconds: changes arriving together make one reload


@dataclass
class Options:
    controller_class: str = DEFAULT_CONTROLLER_CLASS
    http_port: int = 80
    https_port: int = 443
    address: str = "0.0.0.0"
    publish_addresses: tuple[str, ...] = ()
    state_dir: str = "/var/lib/skiff/ingress"
    nginx: str = "/usr/sbin/nginx"


class IngressController:
    def __init__(self, client: Client, options: Options) -> None:
        self.client = client
        self.options = options
        self.informers = {kind: Informer(client, kind)
                          for kind in ("Ingress", "IngressClass", "Service", "Endpoints", "Secret")}
        self.changed = asyncio.Event()
        for informer in self.informers.values():
            informer.add_handler(on_add=self._poke, on_update=lambda _old, _new: self._poke(),
                                 on_delete=self._poke)
        self.process: asyncio.subprocess.Process | None = None
        self.rendered = ""
        self.reloads = 0

    def _poke(self, _obj: Message | None = None) -> None:
        self.changed.set()

    def owns(self, ing: Message) -> bool:
        name = ing.spec.ingress_class_name or ing.metadata.annotations.get(ANNOTATION_INGRESS_CLASS, "")
        ic = self.informers["IngressClass"].store.get(name) if name else None
        return ic is not None and ic.spec.controller == self.options.controller_class

    def served(self) -> list[Message]:
        return [i for i in self.informers["Ingress"].store.list() if self.owns(i)]

    @property
    def conf_path(self) -> str:
        return os.path.join(self.options.state_dir, "nginx.conf")

    async def run(self) -> None:
        tasks = [asyncio.create_task(i.run()) for i in self.informers.values()]
        try:
            for informer in self.informers.values():
                await informer.wait_synced()
            self._prepare_state_dir()
            await self.sync()
            await self._start_nginx()
            while True:
                await self.changed.wait()
                await asyncio.sleep(DEBOUNCE)
                self.changed.clear()
                await self.sync()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._stop_nginx()

    def _prepare_state_dir(self) -> None:
        state = self.options.state_dir
        for sub in ("certs", "tmp"):
            os.makedirs(os.path.join(state, sub), mode=0o700 if sub == "certs" else 0o755, exist_ok=True)
        # nginx's workers run as an unprivileged user and buffer bodies here.
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            path = os.path.join(state, "tmp", sub)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o1777)
        fallback = os.path.join(state, "certs", "default.pem")
        if not os.path.exists(fallback):
            _write_private(fallback, _self_signed())

    async def sync(self) -> None:
        """Renders; when the text or a certificate changed, checks it and reloads nginx."""
        store = {kind: {f"{o.metadata.namespace}/{o.metadata.name}": o for o in inf.store.list()}
                 for kind, inf in self.informers.items()}
        cluster = Cluster(store["Service"], store["Endpoints"], store["Secret"])
        o = self.options
        rendered = render(self.served(), cluster, o.http_port, o.https_port, o.address, o.state_dir,
                          os.path.join(o.state_dir, "certs", "default.pem"))
        certs_changed = await asyncio.to_thread(_write_certificates, o.state_dir, rendered.certificates)
        if rendered.text == self.rendered and not certs_changed:
            return
        candidate = self.conf_path + ".new"
        await asyncio.to_thread(_write_text, candidate, rendered.text)
        if not await self._valid(candidate):
            return
        os.replace(candidate, self.conf_path)
        self.rendered = rendered.text
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGHUP)
            self.reloads += 1
            log.info("nginx reloaded (%d Ingresses)", len(self.served()))

    async def _valid(self, path: str) -> bool:
        check = await asyncio.create_subprocess_exec(
            self.options.nginx, "-t", "-q", "-c", path, "-p", self.options.state_dir + "/",
            "-e", os.path.join(self.options.state_dir, "error.log"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await check.communicate()
        if check.returncode != 0:
            log.error("nginx refused the new configuration; keeping the old one: %s", out.decode().strip())
            return False
        return True

    async def _start_nginx(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            self.options.nginx, "-c", self.conf_path, "-p", self.options.state_dir + "/",
            "-e", os.path.join(self.options.state_dir, "error.log"))

    async def _stop_nginx(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def write_statuses(self, period: float = 1.0) -> None:
        """Keeps status.loadBalancer.ingress of every served Ingress at the published addresses."""
        wanted = list(self.options.publish_addresses)
        while True:
            for ing in self.served():
                if [i.ip for i in ing.status.load_balancer.ingress] != wanted:
                    updated = copy_of(ing)
                    del updated.status.load_balancer.ingress[:]
                    for ip in wanted:
                        updated.status.load_balancer.ingress.add(ip=ip)
                    try:
                        await self.client.update_status(updated)
                    except grpc.aio.AioRpcError as e:
                        log.info("status of ingress %s: %s", ing.metadata.name, e.details())
            await asyncio.sleep(period)


def _write_certificates(state_dir: str, certificates: dict[str, bytes]) -> bool:
    """Writes the certificates that changed; whether any did."""
    changed = False
    for name, pem in certificates.items():
        path = os.path.join(state_dir, "certs", name)
        if not os.path.exists(path) or open(path, "rb").read() != pem:
            _write_private(path, pem)
            changed = True
    return changed


def _write_text(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def _self_signed() -> bytes:
    """The certificate for hosts without one, as ingress-nginx's fake certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Skiff Ingress Controller Fake Certificate")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
