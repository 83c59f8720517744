"""The audit log's events and file handling."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import grpc

from control.apiserver.auth.attributes import Attributes
from control.apiserver.auth.audit import AuditLog, utcnow
from control.apiserver.auth.user import UserInfo

ALICE = UserInfo("alice", ("dev", "system:authenticated"), "uid-1")


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_event_shape(tmp_path: Path) -> None:
    log = AuditLog(str(tmp_path / "audit.log"))
    a = Attributes(ALICE, "create", "apps", "deployments", "", "dev", "")
    log.record(a, "web", grpc.StatusCode.OK, "10.1.2.3", utcnow(), reason="RBAC: allowed by x")
    a = Attributes(ALICE, "update", "", "pods", "status", "dev", "p")
    log.record(a, "p", grpc.StatusCode.INVALID_ARGUMENT, "10.1.2.3", utcnow())
    created, invalid = lines(tmp_path / "audit.log")
    assert created["verb"] == "create" and created["responseStatus"] == {"metadata": {}, "code": 201,
                                                                         "grpcCode": "OK"}
    assert created["user"] == {"username": "alice", "groups": ["dev", "system:authenticated"], "uid": "uid-1"}
    assert created["objectRef"] == {"resource": "deployments", "namespace": "dev", "name": "web",
                                    "apiGroup": "apps", "apiVersion": "v1"}
    assert created["requestURI"] == "/apis/apps/v1/namespaces/dev/deployments"
    assert created["annotations"] == {"authorization.k8s.io/decision": "allow",
                                      "authorization.k8s.io/reason": "RBAC: allowed by x"}
    assert created["sourceIPs"] == ["10.1.2.3"]
    assert invalid["responseStatus"]["code"] == 422 and invalid["responseStatus"]["reason"] == "Invalid"
    assert invalid["objectRef"]["subresource"] == "status"
    assert invalid["requestURI"] == "/api/v1/namespaces/dev/pods/p/status"
    assert created["requestReceivedTimestamp"].endswith("Z")


def test_unauthenticated_is_anonymous(tmp_path: Path) -> None:
    log = AuditLog(str(tmp_path / "audit.log"))
    log.record(Attributes(ALICE, "delete", "", "nodes", "", "", "n"), "n", grpc.StatusCode.UNAUTHENTICATED,
               "127.0.0.1", utcnow(), authenticated=False)
    (event,) = lines(tmp_path / "audit.log")
    assert event["user"] == {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
    assert event["responseStatus"]["code"] == 401 and "annotations" not in event


def test_file_is_private_appended_and_reopened_after_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text("")
    os.chmod(path, 0o600)
    log = AuditLog(str(path))
    a = Attributes(ALICE, "delete", "", "pods", "", "d", "p")
    log.record(a, "p", grpc.StatusCode.OK, "", utcnow())
    os.rename(path, tmp_path / "audit.log.1")
    log.record(a, "q", grpc.StatusCode.OK, "", utcnow())
    assert len(lines(tmp_path / "audit.log.1")) == 1
    assert [e["objectRef"]["name"] for e in lines(path)] == ["q"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    log.close()


def test_a_log_that_cannot_be_written_never_fails_the_request(tmp_path: Path, caplog) -> None:
    directory = tmp_path / "gone"
    directory.mkdir()
    path = directory / "audit.log"
    log = AuditLog(str(path))
    a = Attributes(ALICE, "delete", "", "pods", "", "d", "p")
    os.remove(path)
    directory.rmdir()
    log.record(a, "p", grpc.StatusCode.OK, "", utcnow())
    log.record(a, "q", grpc.StatusCode.OK, "", utcnow())
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    directory.mkdir()
    log.record(a, "r", grpc.StatusCode.OK, "", utcnow())
    assert [e["objectRef"]["name"] for e in lines(path)] == ["r"]
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]
    log.close()


def test_fresh_file_is_0600(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        AuditLog(str(tmp_path / "a.log")).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.log").st_mode) == 0o600


def test_concurrent_lines_stay_whole_and_are_cheap(tmp_path: Path) -> None:
    log = AuditLog(str(tmp_path / "audit.log"))
    a = Attributes(ALICE, "create", "", "configmaps", "", "d", "")

    def write() -> None:
        for i in range(500):
            log.record(a, f"c{i}", grpc.StatusCode.OK, "127.0.0.1", utcnow())
    started = time.perf_counter()
    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    per_line = (time.perf_counter() - started) / 2000
    assert len(lines(tmp_path / "audit.log")) == 2000
    assert per_line < 0.002, f"{per_line * 1e6:.0f}µs per audit line"
