"""scripts/certs: the cluster PKI, checked by parsing what it writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from control.client.kubeconfig import load_client_config

CERTS = Path(__file__).resolve().parents[2] / "scripts" / "certs"
SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


def certs(d: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(CERTS), str(d), *args], capture_output=True, text=True)
    assert (result.returncode == 0) == ok, result.stderr
    return result


def cert(d: Path, stem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((d / f"{stem}.crt").read_bytes())


def subject(c: x509.Certificate) -> tuple[str, list[str]]:
    cn = c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return cn, [a.value for a in c.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


def usages(c: x509.Certificate) -> set:
    return set(c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def sans(c: x509.Certificate) -> tuple[set[str], set[str]]:
    alt = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(alt.get_values_for_type(x509.DNSName)), {str(ip) for ip in alt.get_values_for_type(x509.IPAddress)}


def signed_by_ca(d: Path, c: x509.Certificate) -> bool:
    ca = cert(d, "ca")
    try:
        c.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    out = certs(d, "cluster", "--server", "10.0.0.1:6443", "--ip", "10.0.0.1", "--dns", "api.example",
                "--node", "n1", "--node", "n2").stdout.split()
    assert str(d / "admin.conf") in out and str(d / "node-n2.crt") in out
    return d


def test_cluster_identities(cluster):
    expected = {"admin": ("admin", ["system:masters"]),
                "kube-scheduler": ("system:kube-scheduler", []),
                "kube-controller-manager": ("system:kube-controller-manager", []),
                "kube-apiserver-kubelet-client": ("kube-apiserver-kubelet-client", ["system:masters"]),
                "node-n1": ("system:node:n1", ["system:nodes"])}
    for stem, who in expected.items():
        c = cert(cluster, stem)
        assert subject(c) == who, stem
        assert signed_by_ca(cluster, c), stem
        assert CLIENT in usages(c)
        assert not c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_ca_and_apiserver_serving_cert(cluster):
    ca = cert(cluster, "ca")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert signed_by_ca(cluster, ca)  # self-signed
    api = cert(cluster, "apiserver")
    assert signed_by_ca(cluster, api) and usages(api) == {SERVER}
    dns, ips = sans(api)
    assert dns == {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   "kubernetes.default.svc.cluster.local", "localhost", "api.example"}
    assert ips == {"127.0.0.1", "10.96.0.1", "10.0.0.1"}  # 10.96.0.1: the kubernetes Service


def test_node_cert_serves_and_authenticates(cluster):
    c = cert(cluster, "node-n2")
    assert usages(c) == {SERVER, CLIENT}
    assert sans(c) == ({"n2"}, set())


def test_kubeconfigs_load_with_paths_in_the_pki(cluster):
    for conf, stem in (("admin", "admin"), ("scheduler", "kube-scheduler"),
                       ("controller-manager", "kube-controller-manager"), ("node-n1", "node-n1")):
        doc = yaml.safe_load((cluster / f"{conf}.conf").read_text())
        assert doc["client-certificate"] == f"{stem}.crt"  # relative: the directory can move
        cfg = load_client_config(str(cluster / f"{conf}.conf"))
        assert (cfg.server, cfg.tls_server_name) == ("10.0.0.1:6443", "kubernetes")
        assert cfg.certificate_authority == str(cluster / "ca.crt")
        assert cfg.client_key == str(cluster / f"{stem}.key")


def test_keys_private_and_files_kept(cluster):
    for name in os.listdir(cluster):
        mode = stat.S_IMODE(os.stat(cluster / name).st_mode)
        if name.endswith((".key", ".conf")):
            assert mode == 0o600, name
        assert not name.endswith(".tmp") and ".tmp." not in name
    assert isinstance(x509.load_pem_x509_certificate((cluster / "ca.crt").read_bytes()).public_key(),
                      ec.EllipticCurvePublicKey)
    before = {n: (cluster / n).read_bytes() for n in os.listdir(cluster)}
    certs(cluster, "cluster", "--server", "elsewhere:1", "--node", "n1")
    certs(cluster, "node", "n1", "--ip", "10.1.1.1")
    assert {n: (cluster / n).read_bytes() for n in os.listdir(cluster)} == before


def test_single_subcommands(tmp_path):
    certs(tmp_path, "client", "alice", "--cn", "alice", "--group", "dev", "--group", "qa")
    assert subject(cert(tmp_path, "alice")) == ("alice", ["dev", "qa"])
    assert usages(cert(tmp_path, "alice")) == {CLIENT}
    certs(tmp_path, "node", "w1", "--ip", "192.168.1.5")
    assert sans(cert(tmp_path, "node-w1")) == ({"w1"}, {"192.168.1.5"})
    certs(tmp_path, "kubeconfig", "alice", "--server", "h:1", "--user-cert", "alice", "--token", "t0k")
    cfg = load_client_config(str(tmp_path / "alice.conf"))
    assert (cfg.client_certificate, cfg.token, cfg.tls_server_name) == (str(tmp_path / "alice.crt"), "t0k", "")
    certs(tmp_path, "etcd", "--ip", "127.0.0.1", "--dns", "localhost")
    assert sans(cert(tmp_path, "etcd-server")) == ({"localhost"}, {"127.0.0.1"})
    assert usages(cert(tmp_path, "apiserver-etcd-client")) == {CLIENT}
    assert all(signed_by_ca(tmp_path, cert(tmp_path, s)) for s in ("alice", "node-w1", "etcd-server"))


def test_bad_arguments(tmp_path):
    assert "--ip" in certs(tmp_path, "apiserver", "--ip", "not-an-ip", ok=False).stderr
    assert "--user-cert" in certs(tmp_path, "kubeconfig", "x", "--server", "h:1", "--user-cert", "nobody",
                                  ok=False).stderr
    assert not (tmp_path / "x.conf").exists()
    certs(tmp_path, "client", "x", ok=False)  # --cn is required
