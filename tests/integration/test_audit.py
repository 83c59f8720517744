"""The audit log of a real apiserver: one Metadata-level audit.k8s.io/v1 event per mutating request
(allowed, denied or failed), none for reads, never an object's contents."""

from __future__ import annotations

import base64
import json
import os
import stat
import uuid
from pathlib import Path

import grpc

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.pki import Pki
from tests.fixtures.procs import eventually

C = grpc.StatusCode


def _events(apiserver) -> list[dict]:
    text = Path(apiserver.audit_log).read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _about(apiserver, namespace: str) -> list[dict]:
    return [e for e in _events(apiserver) if e["objectRef"].get("namespace") == namespace
            and e["objectRef"]["resource"] != "namespaces"]


async def _code(coro) -> C:
    try:
        await coro
    except grpc.aio.AioRpcError as e:
        return e.code()
    return C.OK


async def _namespace(client: Client) -> str:
    name = f"audit-{uuid.uuid4().hex[:6]}"
    await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    return name


async def test_one_event_per_mutation_and_none_for_reads(apiserver, client) -> None:
    ns = await _namespace(client)
    cm = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns},
                    "data": {"k": "v"}})
    await client.create(cm)
    stored = await client.get("configmap", "c", ns)
    await client.list("configmaps", ns)
    stored.data["k"] = "w"
    await client.update(stored)
    await client.delete("configmap", "c", ns)
    assert await _code(client.get("configmap", "c", ns)) == C.NOT_FOUND
    events = _about(apiserver, ns)
    assert [(e["verb"], e["responseStatus"]["code"]) for e in events] == [
        ("create", 201), ("update", 200), ("delete", 200)]
    first = events[0]
    assert first["apiVersion"] == "audit.k8s.io/v1" and first["kind"] == "Event"
    assert first["level"] == "Metadata" and first["stage"] == "ResponseComplete"
    assert first["user"]["username"] == "admin" and "system:masters" in first["user"]["groups"]
    assert first["objectRef"] == {"resource": "configmaps", "namespace": ns, "name": "c", "apiGroup": "",
                                  "apiVersion": "v1"}
    assert first["sourceIPs"] == ["127.0.0.1"]
    assert first["requestReceivedTimestamp"] <= first["stageTimestamp"]
    assert len({e["auditID"] for e in events}) == 3
    assert not any("requestObject" in e or "responseObject" in e for e in events)


async def test_denied_and_failed_writes_are_logged(apiserver, client, pki: Pki) -> None:
    ns = await _namespace(client)
    cm = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": ns}})
    async with Client(apiserver.target, config=pki.user_config("mallory")) as mallory:
        assert await _code(mallory.create(cm)) == C.PERMISSION_DENIED
    async with Client(apiserver.target, config=pki.config(cert=None)) as anonymous:
        assert await _code(anonymous.delete("configmap", "c", ns)) == C.UNAUTHENTICATED
    assert await _code(client.delete("configmap", "missing", ns)) == C.NOT_FOUND
    events = _about(apiserver, ns)
    denied, unauthenticated, missing = events
    assert denied["user"]["username"] == "mallory" and denied["verb"] == "create"
    assert denied["responseStatus"]["code"] == 403 and denied["responseStatus"]["reason"] == "Forbidden"
    assert denied["responseStatus"]["grpcCode"] == "PERMISSION_DENIED"
    assert denied["annotations"]["authorization.k8s.io/decision"] == "forbid"
    assert denied["objectRef"]["name"] == "c"
    assert unauthenticated["user"]["username"] == "system:anonymous"
    assert unauthenticated["responseStatus"]["code"] == 401
    assert missing["responseStatus"]["code"] == 404 and missing["objectRef"]["name"] == "missing"


async def test_subresources_bind_and_status(apiserver, client) -> None:
    ns = await _namespace(client)
    await client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"n-{ns}"}}))
    await client.create(from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns},
                                   "spec": {"containers": [{"name": "c", "image": "busybox"}]}}))
    await client.bind(ns, "p", f"n-{ns}")
    pod = await client.get("pod", "p", ns)
    pod.status.phase = "Running"
    await client.update_status(pod)
    refs = [(e["verb"], e["objectRef"].get("subresource", "")) for e in _about(apiserver, ns)]
    assert refs == [("create", ""), ("create", "binding"), ("update", "status")]


async def test_secret_contents_never_reach_the_log(apiserver, client) -> None:
    ns = await _namespace(client)
    plaintext = f"hunter2-{uuid.uuid4().hex}"
    encoded = base64.b64encode(plaintext.encode()).decode()
    secret = from_dict({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": ns},
                        "stringData": {"password": plaintext}})
    await client.create(secret)
    stored = await client.get("secret", "s", ns)
    stored.data["password"] = plaintext.encode() + b"!"
    await client.update(stored)
    bad = from_dict({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": ns},
                     "stringData": {"password": plaintext}})
    assert await _code(client.create(bad)) == C.ALREADY_EXISTS
    assert len(_about(apiserver, ns)) == 3
    text = Path(apiserver.audit_log).read_text()
    for leak in (plaintext, encoded, encoded[:12], base64.b64encode(plaintext.encode() + b"!").decode()):
        assert leak not in text


def test_the_log_is_private(apiserver) -> None:
    assert stat.S_IMODE(os.stat(apiserver.audit_log).st_mode) == 0o600


async def test_a_rotated_log_is_reopened(apiserver, client) -> None:
    rotated = apiserver.audit_log + ".1"
    os.rename(apiserver.audit_log, rotated)
    ns = await _namespace(client)

    async def written() -> bool:
        return os.path.exists(apiserver.audit_log) and any(e["objectRef"].get("name") == ns
                                                           for e in _events(apiserver))
    await eventually(written, timeout=5, what="a new audit log at the path")
    assert stat.S_IMODE(os.stat(apiserver.audit_log).st_mode) == 0o600
    assert ns not in Path(rotated).read_text()
