"""`/openapi/v2`: the Swagger 2.0 document clients fall back to when OpenAPI v3 has no schema for a
kind (kubectl's validation of an unknown apiVersion or kind asks for it, then reports the kind as
not served: `no matches for kind "Widget" in version "v1"`). Served kinds' schemas are in OpenAPI v3
only, so this document has no definitions: a client validating with it validates nothing. In JSON,
or in the protobuf of gnostic's openapi.v2.Document when the client prefers it, as client-go does."""

from __future__ import annotations

from functools import cache

from control.client.version import MAJOR, MINOR

# Clients ask for either spelling; the answer is typed with the one Go's mime parser reads.
PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_ASKED = (PROTOBUF, "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
_TITLE = "Kubernetes"


def _version() -> str:
    return f"v{MAJOR}.{MINOR}.0"


def wants_protobuf(accept: str) -> bool:
    return accept.split(",")[0].split(";")[0].strip() in _ASKED


def document() -> dict:
    return {"swagger": "2.0", "info": {"title": _TITLE, "version": _version()}, "paths": {}, "definitions": {}}


def _field(number: int, data: bytes) -> bytes:
    """A length-delimited field (wire type 2); every field here is short."""
    return bytes([number << 3 | 2, len(data)]) + data


@cache
def protobuf() -> bytes:
    """Document{swagger=1, info=2 (Info{title=1, version=2}), paths=8, definitions=9}."""
    info = _field(1, _TITLE.encode()) + _field(2, _version().encode())
    return _field(1, b"2.0") + _field(2, info) + _field(8, b"") + _field(9, b"")
