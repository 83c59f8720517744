"""Encryption at rest: AES-GCM for Secrets, as Kubernetes' aesgcm provider.

Stored values are `k8s:enc:aesgcm:v1:<key name>:` + 12-byte nonce + ciphertext,
so etcd never holds a secret's plaintext and values say how they were sealed.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = b"k8s:enc:aesgcm:v1:"


class EncryptionError(Exception):
    pass


class Transformer:
    def __init__(self, key: bytes, name: str = "key1") -> None:
        if len(key) != 32:
            raise EncryptionError(f"encryption key must be 32 bytes, got {len(key)}")
        self.aead = AESGCM(key)
        self.header = PREFIX + name.encode() + b":"

    def encrypt(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return self.header + nonce + self.aead.encrypt(nonce, plaintext, self.header)

    def decrypt(self, value: bytes) -> bytes:
        if not value.startswith(self.header):
            raise EncryptionError("value was not sealed with this apiserver's key")
        body = value[len(self.header):]
        return self.aead.decrypt(body[:12], body[12:], self.header)


def load_key_file(path: str) -> bytes:
    """Reads a file holding a base64-encoded 32-byte key."""
    try:
        with open(path) as f:
            key = base64.b64decode(f.read().strip(), validate=True)
    except (OSError, ValueError) as e:
        raise EncryptionError(f"cannot read encryption key from {path}: {e}") from None
    if len(key) != 32:
        raise EncryptionError(f"{path}: the key must decode to 32 bytes, got {len(key)}")
    return key
