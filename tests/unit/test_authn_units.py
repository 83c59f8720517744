"""Authentication units: Kubernetes' static token file, identities from certificates, the union order."""

from __future__ import annotations

import datetime
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from control.apiserver import errors
from control.apiserver.auth.authn import Authenticator, TokenFileError, load_token_file, user_from_certificate
from control.apiserver.auth.tlsfront import Peer, relay_peer, split_host_port
from control.apiserver.auth.user import AUTHENTICATED, UserInfo


def _cert(cn: str | None, orgs: tuple[str, ...] = ()) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = ([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn is not None else []) + \
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    name = x509.Name(attrs)
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))


class FakeContext:
    def __init__(self, metadata=(), peer: str = "ipv4:127.0.0.1:5000", pem: bytes | None = None) -> None:
        self.metadata = tuple(metadata)
        self._peer = peer
        self.pem = pem

    def invocation_metadata(self):
        return self.metadata

    def peer(self) -> str:
        return self._peer

    def auth_context(self) -> dict:
        return {"x509_pem_cert": [self.pem]} if self.pem else {}


class FakeFront:
    def __init__(self, peers: dict[int, Peer]) -> None:
        self.peers = {relay_peer(port): peer for port, peer in peers.items()}

    def lookup(self, grpc_peer: str) -> Peer | None:
        return self.peers.get(grpc_peer)


# -- token file ---------------------------------------------------------------------------------------

def test_token_file_in_kubernetes_format(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text('abc,alice,u1,"dev,ops"\n\nxyz,bob,u2\nqqq,carol,u3,""\n')
    tokens = load_token_file(str(path))
    assert tokens["abc"] == UserInfo("alice", ("dev", "ops", AUTHENTICATED), "u1")
    assert tokens["xyz"] == UserInfo("bob", (AUTHENTICATED,), "u2")
    assert tokens["qqq"].groups == (AUTHENTICATED,)


@pytest.mark.parametrize("text,line,why", [
    ("abc,alice,u1\nshort,x\n", 2, "must have at least 3 columns"),
    ("abc,alice,u1\nabc,bob,u2\n", 2, "duplicate token"),
    (",alice,u1\n", 1, "must not be empty"),
    ("abc,,u1\n", 1, "must not be empty"),
])
def test_bad_token_file_lines_are_named(tmp_path: Path, text: str, line: int, why: str) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text(text)
    with pytest.raises(TokenFileError, match=f"line {line}: .*{why}"):
        load_token_file(str(path))


# -- certificates -------------------------------------------------------------------------------------

def test_certificate_cn_and_every_o() -> None:
    user = user_from_certificate(_cert("system:node:n1", ("system:nodes", "extra")))
    assert user == UserInfo("system:node:n1", ("system:nodes", "extra", AUTHENTICATED))
    assert user.node_name == "n1"


def test_certificate_without_cn_is_no_identity() -> None:
    assert user_from_certificate(_cert(None, ("system:masters",))) is None


# -- the authenticator ----------------------------------------------------------------------------------

TOKENS = {"good": UserInfo("alice", ("dev", AUTHENTICATED))}


def test_certificate_through_the_front_wins_over_a_token() -> None:
    der = _cert("admin", ("system:masters",)).public_bytes(serialization.Encoding.DER)
    authn = Authenticator(True, TOKENS, FakeFront({5000: Peer(der, "10.0.0.9")}))
    ctx = FakeContext([("authorization", "Bearer good")])
    assert authn.authenticate(ctx).name == "admin"
    assert authn.source_ip(ctx) == "10.0.0.9"
    assert authn.authenticate(ctx) is authn.authenticate(ctx)  # parsed once per certificate


def test_a_certificate_is_ignored_without_a_client_ca() -> None:
    der = _cert("admin", ("system:masters",)).public_bytes(serialization.Encoding.DER)
    authn = Authenticator(False, TOKENS, FakeFront({5000: Peer(der, "10.0.0.9")}))
    with pytest.raises(errors.ApiError) as info:
        authn.authenticate(FakeContext())
    assert info.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_a_pem_from_grpc_auth_context_without_a_front() -> None:
    pem = _cert("bob", ("g",)).public_bytes(serialization.Encoding.PEM)
    assert Authenticator(True, {}).authenticate(FakeContext(pem=pem)).name == "bob"


def test_tokens() -> None:
    authn = Authenticator(True, TOKENS, FakeFront({}))
    assert authn.authenticate(FakeContext([("authorization", "Bearer good")])).name == "alice"
    assert authn.authenticate(FakeContext([("authorization", "bearer good")])).name == "alice"
    for header in ("Bearer bad", "Basic Z29vZA==", "Bearer", "good", "Bearer  "):
        with pytest.raises(errors.ApiError) as info:
            authn.authenticate(FakeContext([("authorization", header)]))
        assert (info.value.code, info.value.message) == (grpc.StatusCode.UNAUTHENTICATED, "Unauthorized"), header


def test_nothing_is_unauthorized() -> None:
    with pytest.raises(errors.ApiError) as info:
        Authenticator(True, TOKENS, FakeFront({})).authenticate(FakeContext())
    assert info.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_only_the_relay_connection_itself_carries_its_certificate() -> None:
    der = _cert("admin", ("system:masters",)).public_bytes(serialization.Encoding.DER)
    authn = Authenticator(True, {}, FakeFront({5000: Peer(der, "10.0.0.9")}))
    assert authn.authenticate(FakeContext(peer="ipv4:127.0.0.1:5000")).name == "admin"
    for other in ("ipv4:127.0.0.2:5000", "ipv6:[::1]:5000", "ipv4:127.0.0.1:5001"):
        with pytest.raises(errors.ApiError):
            authn.authenticate(FakeContext(peer=other))


def test_peer_strings() -> None:
    assert relay_peer(5000) == "ipv4:127.0.0.1:5000"
    assert split_host_port("[::]:6443") == ("::", 6443)
    assert split_host_port("0.0.0.0:6443") == ("0.0.0.0", 6443)
    assert Authenticator(True, {}).source_ip(FakeContext(peer="ipv6:[::1]:6000")) == "::1"
