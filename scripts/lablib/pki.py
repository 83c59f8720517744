"""The cluster's PKI: one CA, the apiserver's serving cert, client certs (CN = user, O = groups), node certs,
etcd's certs and client configs. Everything is idempotent: files that exist are kept, the CA is made once.

Needs only cryptography and PyYAML (no Skiff imports), so scripts/certs runs on a bare install.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey
CA = tuple[x509.Certificate, Key]

DEFAULT_DAYS = 3650
CA_NAME = "skiff-ca"
MASTERS = "system:masters"
NODES = "system:nodes"
APISERVER_DNS = ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local", "localhost")
KUBERNETES_SERVICE_IP = "10.96.0.1"
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH


class PkiError(ValueError):
    pass


@dataclass(frozen=True)
class Identity:
    """A certificate's subject: CN is the user, each O a group (Kubernetes' x509 authenticator)."""
    cn: str
    groups: tuple[str, ...] = ()

    def name(self) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in self.groups]
        return x509.Name(attrs + [x509.NameAttribute(NameOID.COMMON_NAME, self.cn)])


def write_file(path: str, data: bytes, mode: int) -> None:
    """Atomically, with mode set before any byte is written."""
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _save(outdir: str, stem: str, cert: x509.Certificate, key: Key) -> None:
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    # The key first: a .crt on disk means the pair is complete.
    write_file(os.path.join(outdir, f"{stem}.key"), pem_key, 0o600)
    write_file(os.path.join(outdir, f"{stem}.crt"), cert.public_bytes(serialization.Encoding.PEM), 0o644)


def load(outdir: str, stem: str) -> tuple[x509.Certificate, Key] | None:
    crt, key = (os.path.join(outdir, f"{stem}.{ext}") for ext in ("crt", "key"))
    if not (os.path.exists(crt) and os.path.exists(key)):
        return None
    with open(crt, "rb") as c, open(key, "rb") as k:
        return x509.load_pem_x509_certificate(c.read()), serialization.load_pem_private_key(k.read(), None)


def _builder(subject: x509.Name, issuer: x509.Name, key: Key, days: int) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days)))


def _key_usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         encipher_only=False, decipher_only=False)


def make_ca(outdir: str, days: int = DEFAULT_DAYS) -> CA:
    existing = load(outdir, "ca")
    if existing:
        return existing
    os.makedirs(outdir, mode=0o700, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = Identity(CA_NAME).name()
    cert = (_builder(name, name, key, days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _save(outdir, "ca", cert, key)
    return cert, key


def sans(ips: list[str] = (), dns: list[str] = ()) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dict.fromkeys(dns)]
    for ip in dict.fromkeys(ips):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(ip)))
        except ValueError as e:
            raise PkiError(f"--ip: {e}") from None
    return names


def make_leaf(outdir: str, stem: str, ca: CA, who: Identity, usages: list[x509.ObjectIdentifier],
              alt_names: list[x509.GeneralName] = (), days: int = DEFAULT_DAYS) -> str:
    """STEM.crt/.key signed by the CA unless they exist; returns the .crt path."""
    path = os.path.join(outdir, f"{stem}.crt")
    if load(outdir, stem):
        return path
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (_builder(who.name(), ca_cert.subject, key, days)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(ca=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(alt_names)), critical=False)
    _save(outdir, stem, builder.sign(ca_key, hashes.SHA256()), key)
    return path


def make_apiserver(outdir: str, ips: list[str] = (), dns: list[str] = (), days: int = DEFAULT_DAYS) -> str:
    ca = make_ca(outdir, days)
    # The kubernetes Service's ClusterIP (the default range's first address): in-cluster clients dial it.
    alt = sans(["127.0.0.1", KUBERNETES_SERVICE_IP, *ips], [*APISERVER_DNS, *dns])
    return make_leaf(outdir, "apiserver", ca, Identity("kube-apiserver"), [SERVER_AUTH], alt, days)


def make_client(outdir: str, stem: str, cn: str, groups: list[str] = (), days: int = DEFAULT_DAYS) -> str:
    if not cn:
        raise PkiError("--cn: must not be empty")
    return make_leaf(outdir, stem, make_ca(outdir, days), Identity(cn, tuple(groups)), [CLIENT_AUTH], days=days)


def node_stem(node: str) -> str:
    return f"node-{node}"


def make_node(outdir: str, node: str, ips: list[str] = (), days: int = DEFAULT_DAYS) -> str:
    """system:node:NODE in system:nodes; serves the agent's port too, so server auth and SAN DNS:NODE."""
    if not node:
        raise PkiError("node name must not be empty")
    who = Identity(f"system:node:{node}", (NODES,))
    return make_leaf(outdir, node_stem(node), make_ca(outdir, days), who, [CLIENT_AUTH, SERVER_AUTH],
                     sans(ips, [node]), days)


def make_etcd(outdir: str, ips: list[str] = (), dns: list[str] = (), days: int = DEFAULT_DAYS) -> list[str]:
    ca = make_ca(outdir, days)
    return [make_leaf(outdir, "etcd-server", ca, Identity("etcd-server"), [SERVER_AUTH], sans(ips, dns), days),
            make_leaf(outdir, "apiserver-etcd-client", ca, Identity("apiserver-etcd-client"), [CLIENT_AUTH],
                      days=days)]


def etcd_member_stem(member: str) -> str:
    return f"etcd-{member}"


def make_etcd_member(outdir: str, member: str, ips: list[str] = (), dns: list[str] = (),
                     days: int = DEFAULT_DAYS) -> list[str]:
    """etcd-MEMBER.crt/.key: one member's serving and peer certificate (server and client auth: a member
    is its peers' client), with the member's own addresses; and the apiserver's etcd client cert."""
    if not member:
        raise PkiError("member name must not be empty")
    ca = make_ca(outdir, days)
    alt = sans(["127.0.0.1", *ips], ["localhost", *dns])
    return [make_leaf(outdir, etcd_member_stem(member), ca, Identity(member), [SERVER_AUTH, CLIENT_AUTH], alt, days),
            make_leaf(outdir, "apiserver-etcd-client", ca, Identity("apiserver-etcd-client"), [CLIENT_AUTH],
                      days=days)]


def make_kubeconfig(outdir: str, stem: str, server: str | list[str], user_cert: str | None = None,
                    token: str | None = None, tls_server_name: str | None = None) -> str:
    """STEM.conf in the client config format, paths relative to outdir (where the file lives)."""
    path = os.path.join(outdir, f"{stem}.conf")
    if os.path.exists(path):
        return path
    servers = [server] if isinstance(server, str) else list(server)
    if not servers or not all(servers):
        raise PkiError("--server: must not be empty")
    # One server as a string (as before), several as the list every Skiff client fails over between.
    doc: dict[str, object] = {"server": servers[0] if len(servers) == 1 else servers,
                              "certificate-authority": "ca.crt"}
    if user_cert:
        for ext, key in (("crt", "client-certificate"), ("key", "client-key")):
            if not os.path.exists(os.path.join(outdir, f"{user_cert}.{ext}")):
                raise PkiError(f"--user-cert: {os.path.join(outdir, f'{user_cert}.{ext}')} does not exist")
            doc[key] = f"{user_cert}.{ext}"
    if token:
        doc["token"] = token
    if tls_server_name:
        doc["tls-server-name"] = tls_server_name
    write_file(path, yaml.safe_dump(doc, sort_keys=False).encode(), 0o600)
    return path


# The cluster's client identities: stem -> (CN, groups, kubeconfig stem or None).
CLUSTER_CLIENTS = {
    "admin": ("admin", (MASTERS,), "admin"),
    "kube-scheduler": ("system:kube-scheduler", (), "scheduler"),
    "kube-controller-manager": ("system:kube-controller-manager", (), "controller-manager"),
    "kube-apiserver-kubelet-client": ("kube-apiserver-kubelet-client", (MASTERS,), None),
}


def make_service_account_keys(outdir: str) -> list[str]:
    """sa.key signs ServiceAccount tokens, sa.pub checks them (kubeadm's names); every apiserver of the
    cluster gets both, so a token any of them issued authenticates at all of them."""
    key_path, pub_path = os.path.join(outdir, "sa.key"), os.path.join(outdir, "sa.pub")
    if not os.path.exists(pub_path):
        key = ec.generate_private_key(ec.SECP256R1())
        write_file(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()), 0o600)
        write_file(pub_path, key.public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return [key_path, pub_path]


def make_cluster(outdir: str, server: str | list[str], ips: list[str] = (), dns: list[str] = (), nodes: list[str] = (),
                 tls_server_name: str = "kubernetes", days: int = DEFAULT_DAYS) -> list[str]:
    """Everything a cluster needs; tls-server-name lets clients reach the apiserver by any address."""
    written = [os.path.join(outdir, "ca.crt")]
    make_ca(outdir, days)
    written.append(make_apiserver(outdir, ips, dns, days))
    written.extend(make_service_account_keys(outdir))
    for stem, (cn, groups, conf) in CLUSTER_CLIENTS.items():
        written.append(make_client(outdir, stem, cn, list(groups), days))
        if conf:
            written.append(make_kubeconfig(outdir, conf, server, stem, tls_server_name=tls_server_name))
    for node in nodes:
        written.append(make_node(outdir, node, days=days))
        written.append(make_kubeconfig(outdir, node_stem(node), server, node_stem(node),
                                       tls_server_name=tls_server_name))
    return written
