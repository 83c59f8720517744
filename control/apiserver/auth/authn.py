"""Authentication, as kube-apiserver's union of x509 client certificates, a static token file and
ServiceAccount tokens.

A verified client certificate wins (CN = user, every O = a group); otherwise an
`authorization: Bearer <token>` header is looked up in the --token-auth-file, then checked as a
bound ServiceAccount token (auth/serviceaccount.py). Every
authenticated user is also in system:authenticated. Nothing (or a bad token) is 401.
"""

from __future__ import annotations

import csv
import io

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from control.apiserver import errors
from control.apiserver.auth.serviceaccount import ServiceAccountTokens, TokenInvalid
from control.apiserver.auth.tlsfront import TLSFront
from control.apiserver.auth.user import AUTHENTICATED, UserInfo

BEARER = "bearer "
_CERT_CACHE_LIMIT = 4096


class TokenFileError(Exception):
    pass


def load_token_file(path: str) -> dict[str, UserInfo]:
    """Kubernetes' static token CSV: token,user,uid[,"group1,group2"]."""
    with open(path, newline="") as f:
        text = f.read()
    tokens: dict[str, UserInfo] = {}
    for line, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) < 3:
            raise TokenFileError(f"token file {path!r} line {line}: must have at least 3 columns "
                                 f"(token, user name, user uid), found {len(record)}")
        token, name, uid = (v.strip() for v in record[:3])
        if not token or not name:
            raise TokenFileError(f"token file {path!r} line {line}: the token and the user name must not be empty")
        groups = tuple(g.strip() for g in record[3].split(",") if g.strip()) if len(record) > 3 else ()
        if token in tokens:
            raise TokenFileError(f"token file {path!r} line {line}: duplicate token")
        tokens[token] = UserInfo(name, _with_authenticated(groups), uid)
    return tokens


def _with_authenticated(groups: tuple[str, ...]) -> tuple[str, ...]:
    return groups if AUTHENTICATED in groups else (*groups, AUTHENTICATED)


def user_from_certificate(cert: x509.Certificate) -> UserInfo | None:
    """CN is the user (none: no identity, as Kubernetes), each O a group."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = str(names[0].value) if names else ""
    if not name:
        return None
    groups = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    return UserInfo(name, _with_authenticated(groups))


class Authenticator:
    def __init__(self, client_ca_present: bool, tokens: dict[str, UserInfo] | None = None,
                 front: TLSFront | None = None, service_accounts: ServiceAccountTokens | None = None) -> None:
        self.client_ca_present = client_ca_present
        self.tokens = tokens or {}
        self.front = front
        self.service_accounts = service_accounts
        self._certs: dict[bytes, UserInfo | None] = {}

    def authenticate(self, context: grpc.aio.ServicerContext) -> UserInfo:
        user = self._from_certificate(context) if self.client_ca_present else None
        if user is None:
            user = self._from_token(context)
        if user is None:
            raise errors.unauthorized()
        return user

    def source_ip(self, context: grpc.aio.ServicerContext) -> str:
        peer = context.peer() or ""
        found = self.front.lookup(peer) if self.front else None
        if found:
            return found.address
        return _ip_of(peer)

    def _from_certificate(self, context: grpc.aio.ServicerContext) -> UserInfo | None:
        if self.front:
            peer = self.front.lookup(context.peer() or "")
            return self._parse(peer.certificate, der=True) if peer and peer.certificate else None
        pem = context.auth_context().get("x509_pem_cert")
        return self._parse(pem[0], der=False) if pem else None

    def _parse(self, data: bytes, der: bool) -> UserInfo | None:
        try:
            return self._certs[data]
        except KeyError:
            pass
        cert = x509.load_der_x509_certificate(data) if der else x509.load_pem_x509_certificate(data)
        if len(self._certs) >= _CERT_CACHE_LIMIT:
            self._certs.clear()
        user = self._certs[data] = user_from_certificate(cert)
        return user

    def _from_token(self, context: grpc.aio.ServicerContext) -> UserInfo | None:
        header = next((v for k, v in context.invocation_metadata() or () if k == "authorization"), None)
        if header is None:
            return None
        if not isinstance(header, str) or header[:len(BEARER)].lower() != BEARER:
            raise errors.unauthorized()
        user = self.token_user(header[len(BEARER):].strip())
        if user is None:
            raise errors.unauthorized()
        return user

    def token_user(self, token: str) -> UserInfo | None:
        """The static token's user, else the ServiceAccount token's (while it is valid), else None."""
        user = self.tokens.get(token)
        if user is not None or self.service_accounts is None:
            return user
        try:
            found = self.service_accounts.authenticate(token)
        except TokenInvalid:
            return None
        return found[0] if found else None


def _ip_of(peer: str) -> str:
    """`ipv4:10.0.0.1:5000` -> 10.0.0.1; `ipv6:[::1]:5000` -> ::1."""
    _, _, rest = peer.partition(":")
    host, _, _ = rest.rpartition(":")
    return host.strip("[]") or rest
