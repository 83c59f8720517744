"""The audit log: one JSON line per mutating request, in audit.k8s.io/v1 Event shape at level Metadata.

Metadata means who did what to which object and how it ended, never request or response
bodies, so a Secret's data never reaches the log. Denied and failed attempts are logged too.
Lines are appended with a single write to a file opened O_APPEND (0600); when the file is
moved away (log rotation) the next line goes to a new file at the path. A log that cannot be
written (its directory removed, a full disk) is reported in the apiserver's log, never to the
client: the request it records has already been served, as with kube-apiserver's log backend.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import uuid
from datetime import UTC, datetime

import grpc

from control.apiserver.auth.attributes import Attributes

log = logging.getLogger("skiff.audit")

ANONYMOUS = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}

HTTP_CODES = {
    grpc.StatusCode.OK: 200, grpc.StatusCode.INVALID_ARGUMENT: 422, grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403, grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409, grpc.StatusCode.FAILED_PRECONDITION: 400, grpc.StatusCode.OUT_OF_RANGE: 410,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429, grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504, grpc.StatusCode.UNIMPLEMENTED: 501, grpc.StatusCode.CANCELLED: 499,
}
REASONS = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Expired",
           422: "Invalid", 400: "BadRequest", 429: "TooManyRequests", 503: "ServiceUnavailable",
           504: "Timeout", 500: "InternalError"}


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def timestamp(when: datetime) -> str:
    return when.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def audit_id() -> str:
    # Unique, not secret: the fast PRNG spares the per-request cost of os.urandom.
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def utcnow() -> datetime:
    return datetime.now(UTC)


def response_status(code: grpc.StatusCode, created: bool) -> dict:
    http = HTTP_CODES.get(code, 500)
    if code is grpc.StatusCode.OK:
        return {"metadata": {}, "code": 201 if created else 200, "grpcCode": code.name}
    return {"metadata": {}, "status": "Failure", "reason": REASONS.get(http, "Unknown"), "code": http,
            "grpcCode": code.name}


def object_ref(attrs: Attributes, name: str) -> dict:
    ref = {"resource": attrs.resource}
    if attrs.namespace:
        ref["namespace"] = attrs.namespace
    if name:
        ref["name"] = name
    ref["apiGroup"] = attrs.api_group
    ref["apiVersion"] = "v1"
    if attrs.subresource:
        ref["subresource"] = attrs.subresource
    return ref


def request_uri(attrs: Attributes, name: str) -> str:
    prefix = f"/apis/{attrs.api_group}/v1" if attrs.api_group else "/api/v1"
    ns = f"/namespaces/{attrs.namespace}" if attrs.namespace else ""
    path = f"{prefix}{ns}/{attrs.resource}"
    if name and attrs.verb != "create" or attrs.subresource:
        path += f"/{name}"
    return path + (f"/{attrs.subresource}" if attrs.subresource else "")


class AuditLog:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd = -1
        self._inode = None
        self._failing = False
        self._open()

    def _open(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = fd
        self._inode = os.fstat(fd).st_ino

    def _reopen_if_moved(self) -> None:
        try:
            if os.stat(self.path).st_ino == self._inode:
                return
        except FileNotFoundError:
            pass
        self._open()

    def _write(self, line: bytes) -> None:
        try:
            self._reopen_if_moved()
            os.write(self._fd, line)
        except OSError as err:
            if not self._failing:
                log.error("audit log %s cannot be written, events are lost until it can: %s", self.path, err)
            self._failing = True
            return
        if self._failing:
            log.warning("audit log %s is written again", self.path)
        self._failing = False

    def event(self, attrs: Attributes, name: str, code: grpc.StatusCode, source_ip: str,
              received: datetime, authenticated: bool = True, reason: str = "") -> dict:
        user = ({"username": attrs.user.name, "groups": list(attrs.user.groups)}
                if authenticated else dict(ANONYMOUS))
        if authenticated and attrs.user.uid:
            user["uid"] = attrs.user.uid
        event = {
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": audit_id(), "stage": "ResponseComplete",
            "requestURI": request_uri(attrs, name), "verb": attrs.verb, "user": user,
            "sourceIPs": [source_ip] if source_ip else [],
            "objectRef": object_ref(attrs, name),
            "responseStatus": response_status(code, attrs.verb == "create" and not attrs.subresource),
            "requestReceivedTimestamp": timestamp(received), "stageTimestamp": timestamp(utcnow()),
        }
        if authenticated and code is not grpc.StatusCode.UNAUTHENTICATED:
            denied = code is grpc.StatusCode.PERMISSION_DENIED
            event["annotations"] = {"authorization.k8s.io/decision": "forbid" if denied else "allow"}
            if reason:
                event["annotations"]["authorization.k8s.io/reason"] = reason
        return event

    def record(self, attrs: Attributes, name: str, code: grpc.StatusCode, source_ip: str,
               received: datetime, authenticated: bool = True, reason: str = "") -> None:
        line = _ENCODER.encode(self.event(attrs, name, code, source_ip, received, authenticated, reason)) + "\n"
        with self._lock:
            self._write(line.encode())

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
