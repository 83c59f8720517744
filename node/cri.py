"""CRI client: containerd's RuntimeService and ImageService over its unix socket (grpc.aio).

Every call goes through one wrapper that turns gRPC failures into CRIError subclasses
naming the operation, so callers can tell "gone" (NotFound) from "runtime down"
(RuntimeUnavailable) from "took too long" (CRITimeout).
"""

from __future__ import annotations

import asyncio
import json
import struct
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import grpc

from cri.runtime.v1 import api_pb2 as pb
from cri.runtime.v1 import api_pb2_grpc as pb_grpc
from node.netns import open_connection, peer_netns

# Labels set on every sandbox and container, the kubelet's names; the default log/exec lookup uses them.
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
POD_NAME_LABEL = "io.kubernetes.pod.name"
POD_UID_LABEL = "io.kubernetes.pod.uid"
CONTAINER_NAME_LABEL = "io.kubernetes.container.name"

DEFAULT_TIMEOUT = 120.0  # seconds; containerd's own operations (create, stop) can be slow on busy nodes
PULL_TIMEOUT = 600.0
EXEC_GRACE = 5.0  # added to an exec's own timeout for the gRPC deadline


class CRIError(Exception):
    """A CRI call failed; `operation` is the RPC name, `code` the gRPC status code."""

    def __init__(self, operation: str, code: grpc.StatusCode | None, details: str) -> None:
        super().__init__(f"CRI {operation}: {details}")
        self.operation = operation
        self.code = code
        self.details = details


class NotFound(CRIError):
    pass


class RuntimeUnavailable(CRIError):
    pass


class CRITimeout(CRIError):
    pass


def _error(operation: str, e: grpc.aio.AioRpcError) -> CRIError:
    code = e.code()
    details = e.details() or str(code)
    if code == grpc.StatusCode.NOT_FOUND or "not found" in details:
        return NotFound(operation, code, details)
    if code == grpc.StatusCode.UNAVAILABLE:
        return RuntimeUnavailable(operation, code, details)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED or ("timeout" in details and "exceeded" in details):
        return CRITimeout(operation, code, details)
    return CRIError(operation, code, details)


def pod_labels(namespace: str, name: str, uid: str) -> dict[str, str]:
    return {POD_NAMESPACE_LABEL: namespace, POD_NAME_LABEL: name, POD_UID_LABEL: uid}


def container_labels(namespace: str, name: str, uid: str, container: str) -> dict[str, str]:
    return {**pod_labels(namespace, name, uid), CONTAINER_NAME_LABEL: container}


class CRI:
    """One connection to a CRI runtime; `runtime` and `images` are the raw stubs."""

    def __init__(self, endpoint: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not endpoint.startswith("unix://"):
            endpoint = "unix://" + endpoint
        self.endpoint = endpoint
        self.timeout = timeout
        self.channel = grpc.aio.insecure_channel(endpoint, options=[
            ("grpc.max_receive_message_length", 16 * 1024 * 1024)])
        self.runtime = pb_grpc.RuntimeServiceStub(self.channel)
        self.images = pb_grpc.ImageServiceStub(self.channel)
        self._streaming_netns: str | None | bool = False  # not looked up yet

    def streaming_netns(self) -> str | None:
        """Where the runtime's streaming server listens: its own network namespace (None: ours)."""
        if self._streaming_netns is False:
            try:
                self._streaming_netns = peer_netns(self.endpoint.removeprefix("unix://"))
            except OSError:
                self._streaming_netns = None
        return self._streaming_netns

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> CRI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, stub: Any, operation: str, request: Any, timeout: float | None = None) -> Any:
        try:
            return await getattr(stub, operation)(request, timeout=timeout or self.timeout)
        except grpc.aio.AioRpcError as e:
            raise _error(operation, e) from None

    # ---- runtime ----

    async def version(self) -> pb.VersionResponse:
        return await self._call(self.runtime, "Version", pb.VersionRequest(version="v1"))

    async def status(self) -> pb.RuntimeStatus:
        return (await self._call(self.runtime, "Status", pb.StatusRequest())).status

    async def runtime_handlers(self) -> list[pb.RuntimeHandler]:
        """The runtime's handlers and their features ("" is the default; none from older runtimes)."""
        return list((await self._call(self.runtime, "Status", pb.StatusRequest())).runtime_handlers)

    async def ready(self) -> bool:
        """RuntimeReady and NetworkReady both true."""
        conditions = {c.type: c.status for c in (await self.status()).conditions}
        return conditions.get("RuntimeReady", False) and conditions.get("NetworkReady", False)

    # ---- sandboxes ----

    async def run_pod_sandbox(self, config: pb.PodSandboxConfig, runtime_handler: str = "") -> str:
        request = pb.RunPodSandboxRequest(config=config, runtime_handler=runtime_handler)
        return (await self._call(self.runtime, "RunPodSandbox", request)).pod_sandbox_id

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        """Stops every container of the sandbox and tears down its network; a missing one counts as done."""
        try:
            await self._call(self.runtime, "StopPodSandbox", pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id))
        except NotFound:
            pass

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            await self._call(self.runtime, "RemovePodSandbox",
                             pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id))
        except NotFound:
            pass

    async def pod_sandbox_status(self, sandbox_id: str) -> pb.PodSandboxStatus:
        request = pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)
        return (await self._call(self.runtime, "PodSandboxStatus", request)).status

    async def sandbox_pid(self, sandbox_id: str) -> int:
        """The pid of the sandbox's pause process (from the runtime's verbose status), 0 when unknown."""
        request = pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id, verbose=True)
        info = (await self._call(self.runtime, "PodSandboxStatus", request)).info.get("info", "")
        try:
            return int(json.loads(info).get("pid", 0)) if info else 0
        except (ValueError, TypeError, AttributeError):
            return 0

    async def list_pod_sandboxes(self, labels: Mapping[str, str] | None = None,
                                 state: int | None = None, sandbox_id: str = "") -> list[pb.PodSandbox]:
        f = pb.PodSandboxFilter(id=sandbox_id, label_selector=dict(labels or {}))
        if state is not None:
            f.state.state = state
        response = await self._call(self.runtime, "ListPodSandbox", pb.ListPodSandboxRequest(filter=f))
        return list(response.items)

    # ---- containers ----

    async def create_container(self, sandbox_id: str, config: pb.ContainerConfig,
                               sandbox_config: pb.PodSandboxConfig) -> str:
        request = pb.CreateContainerRequest(pod_sandbox_id=sandbox_id, config=config,
                                            sandbox_config=sandbox_config)
        return (await self._call(self.runtime, "CreateContainer", request)).container_id

    async def start_container(self, container_id: str) -> None:
        await self._call(self.runtime, "StartContainer", pb.StartContainerRequest(container_id=container_id))

    async def stop_container(self, container_id: str, timeout: int = 30) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds (the grace period); a missing one counts as done."""
        request = pb.StopContainerRequest(container_id=container_id, timeout=timeout)
        try:
            await self._call(self.runtime, "StopContainer", request, timeout=timeout + self.timeout)
        except NotFound:
            pass

    async def remove_container(self, container_id: str) -> None:
        try:
            await self._call(self.runtime, "RemoveContainer", pb.RemoveContainerRequest(container_id=container_id))
        except NotFound:
            pass

    async def list_containers(self, labels: Mapping[str, str] | None = None, sandbox_id: str = "",
                              state: int | None = None, container_id: str = "") -> list[pb.Container]:
        f = pb.ContainerFilter(id=container_id, pod_sandbox_id=sandbox_id, label_selector=dict(labels or {}))
        if state is not None:
            f.state.state = state
        response = await self._call(self.runtime, "ListContainers", pb.ListContainersRequest(filter=f))
        return list(response.containers)

    async def container_status(self, container_id: str) -> pb.ContainerStatus:
        request = pb.ContainerStatusRequest(container_id=container_id)
        return (await self._call(self.runtime, "ContainerStatus", request)).status

    async def update_container_resources(self, container_id: str,
                                         resources: pb.LinuxContainerResources) -> None:
        request = pb.UpdateContainerResourcesRequest(container_id=container_id, linux=resources)
        await self._call(self.runtime, "UpdateContainerResources", request)

    async def reopen_container_log(self, container_id: str) -> None:
        request = pb.ReopenContainerLogRequest(container_id=container_id)
        await self._call(self.runtime, "ReopenContainerLog", request)

    # ---- exec ----

    async def exec_sync(self, container_id: str, cmd: list[str], timeout: float = 0) -> pb.ExecSyncResponse:
        """Runs cmd in the container; raises CRITimeout when it outlives `timeout` seconds (0: no limit)."""
        seconds = max(1, int(-(-timeout // 1))) if timeout else 0
        request = pb.ExecSyncRequest(container_id=container_id, cmd=cmd, timeout=seconds)
        deadline = (seconds + EXEC_GRACE) if seconds else None
        return await self._call(self.runtime, "ExecSync", request,
                                timeout=deadline or 24 * 3600.0)

    async def exec_url(self, container_id: str, cmd: list[str], *, stdin: bool = False, tty: bool = False) -> str:
        """The runtime's streaming-server URL for an interactive exec session."""
        request = pb.ExecRequest(container_id=container_id, cmd=cmd, tty=tty, stdin=stdin,
                                 stdout=True, stderr=not tty)
        return (await self._call(self.runtime, "Exec", request)).url

    async def exec_stream(self, container_id: str, cmd: list[str], *, tty: bool = False) -> ExecSession:
        """An interactive exec (stdin, stdout, stderr) over the runtime's streaming server."""
        url = await self.exec_url(container_id, cmd, stdin=True, tty=tty)
        try:
            return await ExecSession.connect(url, tty=tty, netns=self.streaming_netns())
        except (OSError, ValueError) as e:
            raise CRIError("Exec", None, f"streaming connection to {url}: {e}") from None

    async def attach_stream(self, container_id: str, *, stdin: bool, tty: bool) -> ExecSession:
        """Joins the container's own process (its stdin when asked, its output) over the streaming server."""
        request = pb.AttachRequest(container_id=container_id, stdin=stdin, tty=tty, stdout=True, stderr=not tty)
        url = (await self._call(self.runtime, "Attach", request)).url
        try:
            return await ExecSession.connect(url, tty=tty, stdin=stdin, netns=self.streaming_netns())
        except (OSError, ValueError) as e:
            raise CRIError("Attach", None, f"streaming connection to {url}: {e}") from None

    # ---- stats ----

    async def container_stats(self, container_id: str) -> pb.ContainerStats:
        request = pb.ContainerStatsRequest(container_id=container_id)
        return (await self._call(self.runtime, "ContainerStats", request)).stats

    async def list_container_stats(self, labels: Mapping[str, str] | None = None,
                                   sandbox_id: str = "") -> list[pb.ContainerStats]:
        f = pb.ContainerStatsFilter(pod_sandbox_id=sandbox_id, label_selector=dict(labels or {}))
        response = await self._call(self.runtime, "ListContainerStats", pb.ListContainerStatsRequest(filter=f))
        return list(response.stats)

    async def list_pod_sandbox_stats(self, labels: Mapping[str, str] | None = None) -> list[pb.PodSandboxStats]:
        f = pb.PodSandboxStatsFilter(label_selector=dict(labels or {}))
        response = await self._call(self.runtime, "ListPodSandboxStats", pb.ListPodSandboxStatsRequest(filter=f))
        return list(response.stats)

    # ---- images ----

    async def pull_image(self, image: str, sandbox_config: pb.PodSandboxConfig | None = None,
                         auth: pb.AuthConfig | None = None) -> str:
        """Pulls image; returns the image reference (its id) the runtime resolved it to."""
        request = pb.PullImageRequest(image=pb.ImageSpec(image=image), auth=auth, sandbox_config=sandbox_config)
        return (await self._call(self.images, "PullImage", request, timeout=PULL_TIMEOUT)).image_ref

    async def image_status(self, image: str) -> pb.Image | None:
        """The image if the runtime has it, else None."""
        response = await self._call(self.images, "ImageStatus", pb.ImageStatusRequest(image=pb.ImageSpec(image=image)))
        return response.image if response.HasField("image") else None

    async def list_images(self) -> list[pb.Image]:
        return list((await self._call(self.images, "ListImages", pb.ListImagesRequest())).images)

    async def remove_image(self, image: str) -> None:
        try:
            await self._call(self.images, "RemoveImage", pb.RemoveImageRequest(image=pb.ImageSpec(image=image)))
        except NotFound:
            pass

    async def image_fs_info(self) -> list[pb.FilesystemUsage]:
        return list((await self._call(self.images, "ImageFsInfo", pb.ImageFsInfoRequest())).image_filesystems)


# ---- streaming exec: Kubernetes' remotecommand protocol (v4.channel.k8s.io) over SPDY/3.1 ----
#
# SPDY rather than WebSocket because its streams half-close: stdin can end (EOF) while
# stdout, stderr and the exit status still flow back. Header blocks we send are zlib
# compressed without SPDY's preset dictionary (zlib readers take that), and the header
# blocks the runtime sends are never needed, so they are skipped unread.

_SYN_STREAM, _SYN_REPLY, _RST_STREAM, _PING, _GOAWAY = 1, 2, 3, 6, 7
_FLAG_FIN = 0x01
_MAX_DATA_FRAME = 64 * 1024


class ExecSession:
    """One exec session: write_stdin() and close_stdin() (a real EOF); output() yields
    ("stdout"|"stderr", bytes) until the command ends; then exit_code is set (-1 and `error`
    when the command could not run)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tty: bool,
                 stdin: bool = True) -> None:
        self.reader, self.writer = reader, writer
        self.exit_code: int | None = None
        self.error = ""
        self._compress = zlib.compressobj()
        names = ["error"] + (["stdin"] if stdin else []) + ["stdout"] + (["resize"] if tty else ["stderr"])
        self.streams = {name: 1 + 2 * i for i, name in enumerate(names)}  # client streams have odd ids

    @classmethod
    async def connect(cls, url: str, tty: bool = False, stdin: bool = True, netns: str | None = None) -> ExecSession:
        u = urllib.parse.urlsplit(url)
        reader, writer = await open_connection(netns, u.hostname or "127.0.0.1", u.port or 80)
        target = u.path + (f"?{u.query}" if u.query else "")
        writer.write((f"POST {target} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: Upgrade\r\n"
                      f"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
                      f"Content-Length: 0\r\n\r\n").encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ValueError(f"no SPDY upgrade: {head.splitlines()[0].decode(errors='replace')}")
        session = cls(reader, writer, tty, stdin)
        for name, stream_id in session.streams.items():
            session._syn_stream(stream_id, {"streamtype": name})
        await writer.drain()
        return session

    async def __aenter__(self) -> ExecSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()

    async def write_stdin(self, data: bytes) -> None:
        if "stdin" not in self.streams:
            return
        for i in range(0, len(data), _MAX_DATA_FRAME):
            self._data(self.streams["stdin"], data[i:i + _MAX_DATA_FRAME])
        await self.writer.drain()

    async def close_stdin(self) -> None:
        if "stdin" in self.streams:
            self._data(self.streams["stdin"], b"", fin=True)
            await self.writer.drain()

    async def resize(self, width: int, height: int) -> None:
        """A TTY's new size, as remotecommand's resize stream carries it."""
        if "resize" in self.streams:
            self._data(self.streams["resize"], json.dumps({"Width": width, "Height": height}).encode())
            await self.writer.drain()

    async def output(self) -> AsyncIterator[tuple[str, bytes]]:
        names = {stream_id: name for name, stream_id in self.streams.items()}
        open_streams = {self.streams[n] for n in ("error", "stdout", "stderr") if n in self.streams}
        status = b""
        while open_streams:
            try:
                control, kind, flags, payload = await self._frame()
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            if control and kind == _PING:
                self._control(_PING, 0, payload)
                await self.writer.drain()
            elif control and kind == _GOAWAY:
                break
            elif control and kind == _RST_STREAM:
                open_streams.discard(struct.unpack("!I", payload[:4])[0] & 0x7FFFFFFF)
            elif not control:
                name = names.get(kind, "")
                if name == "error":
                    status += payload
                elif payload and name in ("stdout", "stderr"):
                    yield name, payload
                if flags & _FLAG_FIN:
                    open_streams.discard(kind)
        self._set_status(status)

    def _set_status(self, data: bytes) -> None:
        """The error stream's Status: Success, or the exit code in details.causes (none: the session broke)."""
        if not data:
            return
        try:
            status = json.loads(data)
        except ValueError:
            self.error, self.exit_code = data.decode(errors="replace"), -1
            return
        if status.get("status") == "Success":
            self.exit_code = 0
            return
        causes = status.get("details", {}).get("causes", [])
        codes = [c.get("message", "") for c in causes if c.get("reason") == "ExitCode"]
        self.error = status.get("message", "")
        self.exit_code = int(codes[0]) if codes and codes[0].isdigit() else -1

    def _control(self, kind: int, flags: int, data: bytes) -> None:
        self.writer.write(struct.pack("!HHI", 0x8003, kind, (flags << 24) | len(data)) + data)

    def _syn_stream(self, stream_id: int, headers: dict[str, str]) -> None:
        block = struct.pack("!I", len(headers))
        for key, value in headers.items():
            block += struct.pack("!I", len(key)) + key.encode() + struct.pack("!I", len(value)) + value.encode()
        compressed = self._compress.compress(block) + self._compress.flush(zlib.Z_SYNC_FLUSH)
        self._control(_SYN_STREAM, 0, struct.pack("!IIH", stream_id, 0, 0) + compressed)

    def _data(self, stream_id: int, payload: bytes, fin: bool = False) -> None:
        flags = _FLAG_FIN if fin else 0
        self.writer.write(struct.pack("!II", stream_id, (flags << 24) | len(payload)) + payload)

    async def _frame(self) -> tuple[bool, int, int, bytes]:
        """(is control, control type or data stream id, flags, payload)."""
        first, second = struct.unpack("!II", await self.reader.readexactly(8))
        payload = await self.reader.readexactly(second & 0xFFFFFF)
        if first & 0x80000000:
            return True, first & 0xFFFF, second >> 24, payload
        return False, first & 0x7FFFFFFF, second >> 24, payload
