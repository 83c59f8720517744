"""Compact JWS (RFC 7515) with ES256 or RS256, as kube-apiserver signs ServiceAccount tokens.

Keys are PEM files: the signing key is a private key (EC P-256 or RSA), a verifying key file holds
public keys, private keys or certificates, possibly several of them. Each key's `kid` is Kubernetes'
key id: the unpadded base64url SHA-256 of its DER (SubjectPublicKeyInfo) public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)


class KeyFileError(ValueError):
    """A key file that cannot be used."""


class InvalidToken(ValueError):
    """Not a token this apiserver signed (malformed, unknown key, bad signature)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(key: PublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


def algorithm(key: PublicKey | PrivateKey) -> str:
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        if key.curve.name != "secp256r1":
            raise KeyFileError(f"unsupported elliptic curve {key.curve.name} (ES256 needs P-256)")
        return "ES256"
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RS256"
    raise KeyFileError(f"unsupported key type {type(key).__name__}")


def load_signing_key(path: str) -> PrivateKey:
    with open(path, "rb") as f:
        data = f.read()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as e:
        raise KeyFileError(f"{path}: not a PEM private key: {e}") from None
    algorithm(key)
    return key  # type: ignore[return-value]


def load_public_keys(path: str) -> list[PublicKey]:
    """Every public key of a PEM file: public keys, the public half of private keys, certificates' keys."""
    with open(path, "rb") as f:
        data = f.read()
    keys: list[PublicKey] = []
    for match in _PEM_BLOCK.finditer(data):
        block, label = match.group(0), match.group(1)
        try:
            if label == b"CERTIFICATE":
                key = x509.load_pem_x509_certificate(block).public_key()
            elif b"PRIVATE KEY" in label:
                key = serialization.load_pem_private_key(block, password=None).public_key()
            else:
                key = serialization.load_pem_public_key(block)
        except ValueError as e:
            raise KeyFileError(f"{path}: unreadable {label.decode()}: {e}") from None
        algorithm(key)
        keys.append(key)  # type: ignore[arg-type]
    if not keys:
        raise KeyFileError(f"{path}: no public key found")
    return keys


def jwk(key: PublicKey) -> dict:
    """The key as a JSON Web Key (RFC 7517), as kube-apiserver's /openid/v1/jwks lists it."""
    alg, kid = algorithm(key), key_id(key)
    if alg == "ES256":
        numbers = key.public_numbers()
        return {"use": "sig", "kty": "EC", "kid": kid, "crv": "P-256", "alg": alg,
                "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big"))}
    numbers = key.public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    return {"use": "sig", "kty": "RSA", "kid": kid, "alg": alg, "n": b64url(n), "e": b64url(e)}


def sign(claims: dict, key: PrivateKey) -> str:
    alg = algorithm(key)
    header = {"alg": alg, "kid": key_id(key.public_key())}
    signing_input = f"{_segment(header)}.{_segment(claims)}".encode()
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))  # type: ignore[call-arg]
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    return f"{signing_input.decode()}.{b64url(signature)}"


def _segment(doc: dict) -> str:
    return b64url(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode())


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def verify(token: str, keys: list[PublicKey]) -> dict:
    """The token's claims once its signature checks against one of keys (the `kid` one if named)."""
    try:
        head, body, sig = token.split(".")
        header = json.loads(unb64url(head))
        claims = json.loads(unb64url(body))
        signature = unb64url(sig)
    except (ValueError, TypeError) as e:
        raise InvalidToken(f"malformed token: {e}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("malformed token")
    alg, kid = header.get("alg"), header.get("kid")
    candidates = [k for k in keys if algorithm(k) == alg and (not kid or key_id(k) == kid)]
    signing_input = f"{head}.{body}".encode()
    for key in candidates:
        if _checks(key, alg, signing_input, signature):
            return claims
    raise InvalidToken("token signature is invalid" if candidates else "no key matches the token")


def _checks(key: PublicKey, alg: str, data: bytes, signature: bytes) -> bool:
    try:
        if alg == "ES256":
            if len(signature) != 64:
                return False
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
        else:
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]
    except InvalidSignature:
        return False
    return True
