"""The streaming pieces one by one: ephemeral container rules, WebSocket framing, the exec Status, port
and file specs of port-forward and cp, cp's refusal of paths escaping the target, the REST routes."""

from __future__ import annotations

import asyncio
import io
import json
import struct
import tarfile

import pytest
from google.protobuf import json_format

from control.apiserver.defaults import default_pod_spec
from control.apiserver.rest import streams
from control.apiserver.rest.routes import GROUP_VERSIONS, resolve, split_group_version
from control.apiserver.rest.websocket import OP_BINARY, OP_PING, OP_PONG, WebSocket, WebSocketClosed, accept_key
from control.apiserver.validation.ephemeral import validate_ephemeral_update
from control.cli.commands import cp, portforward
from control.cli.errors import CommandError
from control.cli.gotime import parse_duration
from node.runtime.ephemeral import as_container
from skiff.v1 import core_pb2, pod_pb2


def _spec(**fields) -> pod_pb2.PodSpec:
    base = {"containers": [{"name": "app", "image": "busybox"}]}
    spec = json_format.ParseDict({**base, **fields}, pod_pb2.PodSpec())
    default_pod_spec(spec)  # as the apiserver validates them
    return spec


def _messages(spec: pod_pb2.PodSpec, old: pod_pb2.PodSpec | None = None) -> list[str]:
    return [f"{v.field}: {v.description}" for v in validate_ephemeral_update(spec, old or _spec())]


DEBUG = {"name": "dbg", "image": "busybox", "targetContainerName": "app"}


def test_ephemeral_containers_may_only_be_added() -> None:
    old = _spec(ephemeralContainers=[DEBUG])
    assert _messages(_spec(ephemeralContainers=[DEBUG, {"name": "two", "image": "busybox"}]), old) == []
    assert _messages(_spec(), old) == [
        'spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed']
    assert _messages(_spec(ephemeralContainers=[{**DEBUG, "image": "alpine"}]), old) == [
        'spec.ephemeralContainers[0]: Forbidden: existing ephemeral containers "dbg" may not be changed']


def test_ephemeral_container_fields() -> None:
    bad = {"name": "app", "image": "", "ports": [{"containerPort": 80}], "targetContainerName": "nope",
           "readinessProbe": {"exec": {"command": ["true"]}}, "volumeMounts": [{"name": "v", "mountPath": "/v",
                                                                               "subPath": "x"}]}
    assert _messages(_spec(volumes=[{"name": "v", "emptyDir": {}}], ephemeralContainers=[bad])) == [
        "spec.ephemeralContainers[0].image: Required value",
        "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
        "spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container",
        'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"',
        'spec.ephemeralContainers[0].name: Duplicate value: "app"',
    ]


def test_ephemeral_container_runs_as_a_container() -> None:
    e = json_format.ParseDict({**DEBUG, "command": ["sh"], "stdin": True, "tty": True}, pod_pb2.EphemeralContainer())
    c = as_container(e)
    assert (c.name, c.image, list(c.command), c.stdin, c.tty) == ("dbg", "busybox", ["sh"], True, True)


def test_websocket_accept_key_is_the_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


class _Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        pass


def _masked(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    mask = b"\x01\x02\x03\x04"
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = struct.pack("!BH", 0x80 | 126, len(payload)) if len(payload) > 125 else bytes([0x80 | len(payload)])
    return bytes([(0x80 if fin else 0) | opcode]) + length + mask + body


async def test_websocket_frames_fragments_ping_and_close() -> None:
    reader = asyncio.StreamReader()
    big = bytes(range(256)) * 2
    reader.feed_data(_masked(OP_PING, b"hi") + _masked(OP_BINARY, b"\x00ab", fin=False) + _masked(0, big)
                     + _masked(0x8, struct.pack("!H", 1000)))
    sink = _Sink()
    ws = WebSocket(reader, sink)
    assert await ws.receive() == b"\x00ab" + big
    assert sink.data[:4] == bytes([0x80 | OP_PONG, 2]) + b"hi"  # the ping was answered
    with pytest.raises(WebSocketClosed):
        await ws.receive()
    assert sink.data[4:] == bytes([0x88, 2]) + struct.pack("!H", 1000)  # and the close too
    with pytest.raises(WebSocketClosed):
        await ws.send(b"late")


def test_exec_statuses_carry_the_exit_code() -> None:
    assert streams.exit_status(0, ["true"]) == {"metadata": {}, "status": "Success"}
    failed = streams.exit_status(3, ["sh", "-c", "exit 3"])
    assert failed["reason"] == "NonZeroExitCode" and failed["status"] == "Failure"
    assert failed["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    json.dumps(failed)


def test_streaming_routes_only_where_the_kind_serves_them() -> None:
    def route(path: str):
        gv, parts = split_group_version(path)
        return resolve(gv, parts)
    assert route("/api/v1/namespaces/ns/pods/web/exec").subresource == "exec"
    assert route("/api/v1/namespaces/ns/pods/web/portforward").subresource == "portforward"
    assert route("/api/v1/namespaces/ns/services/web/exec") is None
    assert route("/api/v1/namespaces/ns/pods/web/proxy") is None
    assert ("", "v1") in GROUP_VERSIONS


def test_port_forward_port_specs() -> None:
    assert portforward.parse_ports(["8080:80", "5000", ":http"]) == [
        portforward.PortPair("8080", "80"), portforward.PortPair("5000", "5000"), portforward.PortPair("", "http")]
    with pytest.raises(CommandError, match="TYPE/NAME and list of ports are required"):
        portforward.parse_ports([])
    with pytest.raises(CommandError, match="Error parsing local port 'x'"):
        portforward.check_local_ports(portforward.parse_ports(["x:80"]))


def test_port_forward_resolves_a_service_port_through_the_pod() -> None:
    svc = json_format.ParseDict({"metadata": {"name": "web"}, "spec": {"ports": [
        {"name": "h", "port": 8080, "targetPort": "http"}, {"port": 9090, "targetPort": 9000}, {"port": 7070}]}},
        core_pb2.Service())
    pod = json_format.ParseDict({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "image": "i", "ports": [{"name": "http", "containerPort": 80}]}]}}, pod_pb2.Pod())
    assert [portforward._service_target(svc, pod, p) for p in ("8080", "h", "9090", "7070")] == [80, 80, 9000, 7070]
    with pytest.raises(CommandError, match="Service web does not have a service port 1"):
        portforward._service_target(svc, pod, "1")


def test_cp_file_specs() -> None:
    assert cp.parse_spec("ns/pod:/tmp/x") == cp.Spec("ns", "pod", "/tmp/x")
    assert cp.parse_spec("pod:x") == cp.Spec("", "pod", "x")
    assert cp.parse_spec("/local/a:b") == cp.Spec("", "", "/local/a:b")
    assert cp._strip_prefix("/tmp/../tmp/dir/") == "tmp/dir"


class _Ctx:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)


def _tar(entries: list[tuple[str, bytes | None, str]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data, link in entries:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            else:
                info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
    return buf.getvalue()


def test_cp_from_a_pod_refuses_paths_escaping_the_target(tmp_path) -> None:
    dest = tmp_path / "out"
    ctx = _Ctx()
    data = _tar([("tmp/d/ok.txt", b"ok", ""), ("tmp/d/../evil.txt", b"x", ""), ("tmp/d/link", None, "/etc")])
    cp.untar(ctx, data, str(dest), "tmp/d")
    assert (dest / "ok.txt").read_bytes() == b"ok"
    assert not (tmp_path / "evil.txt").exists()
    assert ctx.warnings == [f'warning: file "{tmp_path / "evil.txt"}" is outside target destination, skipping',
                            f'warning: skipping symlink: "{dest / "link"}" -> "/etc"']
    with pytest.raises(CommandError, match="tar contents corrupted"):
        cp.untar(ctx, _tar([("elsewhere", b"", "")]), str(dest), "tmp/d")


def test_durations() -> None:
    assert parse_duration("1m0s") == 60 and parse_duration("1h2m3s") == 3723 and parse_duration("500ms") == 0.5
    with pytest.raises(CommandError):
        parse_duration("5")


def _granted(role: str, verb: str) -> set[str]:
    from control.apiserver.auth.bootstrap import cluster_roles
    rules = next(r for r in cluster_roles() if r.metadata.name == role).rules
    return {res for rule in rules if verb in rule.verbs and "" in rule.api_groups for res in rule.resources}


def test_default_roles_grant_the_streams_but_not_ephemeral_containers() -> None:
    for verb in ("create", "get"):
        assert {"pods/exec", "pods/attach", "pods/portforward"} <= _granted("edit", verb)
    assert "pods/log" in _granted("view", "get") and "pods/attach" not in _granted("view", "get")
    for role in ("view", "edit", "admin"):
        assert not any(r.startswith("pods/ephemeralcontainers") for verb in ("get", "update", "patch")
                       for r in _granted(role, verb))


def test_pod_templates_cannot_carry_ephemeral_containers() -> None:
    from control.apiserver.validation.pod import validate_pod_template
    template = pod_pb2.PodTemplateSpec(spec=_spec(ephemeralContainers=[{"name": "d", "image": "busybox"}]))
    template.metadata.labels["app"] = "x"
    assert [f"{v.field}: {v.description}" for v in validate_pod_template(template, "spec.template")] == [
        "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"]
