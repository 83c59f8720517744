"""Container probes with the kubelet's semantics.

One Prober runs one probe (liveness, readiness or startup) of one container instance
(a container id): it waits initialDelaySeconds after the container started, probes every
periodSeconds with timeoutSeconds, and changes its result only after successThreshold
consecutive successes or failureThreshold consecutive failures. Results reach the sync
loop through `on_result(ProbeUpdate)`, called when a result changes. Until the startup
probe has succeeded, liveness and readiness are not run. A liveness or startup probe that
reaches Failure stops: the container gets restarted, and its new id gets new Probers.
Probe errors that are not the container's fault (the runtime failing) count as neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import ssl
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from node.cri import CRI, CRIError, CRITimeout
from skiff.v1 import pod_pb2

LIVENESS, READINESS, STARTUP = "Liveness", "Readiness", "Startup"
SUCCESS, FAILURE, UNKNOWN = "Success", "Failure", "Unknown"
INITIAL_RESULT = {LIVENESS: SUCCESS, READINESS: FAILURE, STARTUP: UNKNOWN}
USER_AGENT = "kube-probe/1.30"
MAX_BODY = 10 * 1024
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class ProbeTarget:
    """What a probe talks to: the container (by CRI id) and the pod's IP."""
    pod: pod_pb2.Pod
    container: pod_pb2.Container
    container_id: str
    pod_ip: str
    cri: CRI | None = None


@dataclass(frozen=True)
class ProbeUpdate:
    pod_uid: str
    container_name: str
    container_id: str
    kind: str
    result: str
    message: str


@dataclass(frozen=True)
class Settings:
    initial_delay: int
    timeout: int
    period: int
    success_threshold: int
    failure_threshold: int


def settings(kind: str, probe: pod_pb2.Probe) -> Settings:
    """Kubernetes' defaults: timeout 1 s, period 10 s, success 1 (always 1 for liveness/startup), failure 3."""
    def field(name: str, default: int) -> int:
        return getattr(probe, name) if probe.HasField(name) else default
    success = field("success_threshold", 1)
    return Settings(initial_delay=field("initial_delay_seconds", 0), timeout=max(1, field("timeout_seconds", 1)),
                    period=max(1, field("period_seconds", 10)),
                    success_threshold=1 if kind != READINESS else max(1, success),
                    failure_threshold=max(1, field("failure_threshold", 3)))


# ---- one probe attempt ----

def resolve_port(port: struct_pb2.Value, container: pod_pb2.Container) -> int:
    """An int-or-string probe port: a number, or the name of one of the container's ports."""
    kind = port.WhichOneof("kind")
    if kind == "number_value":
        number = int(port.number_value)
    elif kind == "string_value" and port.string_value.isdigit():
        number = int(port.string_value)
    elif kind == "string_value":
        named = [p.container_port for p in container.ports if p.name == port.string_value]
        if not named:
            raise ValueError(f"couldn't find port {port.string_value!r} in container {container.name!r}")
        number = named[0]
    else:
        raise ValueError("probe port is not set")
    if not 1 <= number <= 65535:
        raise ValueError(f"invalid port number: {number}")
    return number


async def run_probe(probe: pod_pb2.Probe, target: ProbeTarget, timeout: float) -> tuple[str, str]:
    """One attempt: (SUCCESS|FAILURE|UNKNOWN, output)."""
    try:
        if probe.HasField("exec"):
            return await exec_probe(target, list(probe.exec.command), timeout)
        if probe.HasField("http_get"):
            return await http_probe(target, probe.http_get, timeout)
        if probe.HasField("tcp_socket"):
            port = resolve_port(probe.tcp_socket.port, target.container)
            return await tcp_probe(probe.tcp_socket.host or target.pod_ip, port, timeout)
        if probe.HasField("grpc"):
            return await grpc_probe(target.pod_ip, probe.grpc, timeout)
    except ValueError as e:
        return UNKNOWN, str(e)
    return UNKNOWN, "missing probe handler"


async def exec_probe(target: ProbeTarget, command: list[str], timeout: float) -> tuple[str, str]:
    if target.cri is None:
        return UNKNOWN, "no runtime to exec in"
    try:
        response = await target.cri.exec_sync(target.container_id, command, timeout=timeout)
    except CRITimeout:
        return FAILURE, f"command {command!r} timed out"
    except CRIError as e:
        return UNKNOWN, str(e)
    output = (response.stdout + response.stderr).decode(errors="replace")
    if response.exit_code == 0:
        return SUCCESS, output
    return FAILURE, output or f"command {command!r} exited with {response.exit_code}"


async def tcp_probe(host: str, port: int, timeout: float) -> tuple[str, str]:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError:
        return FAILURE, f"dial tcp {host}:{port}: i/o timeout"
    except OSError as e:
        return FAILURE, _dial_error(host, port, e)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return SUCCESS, ""


def _dial_error(host: str, port: int, e: OSError) -> str:
    reason = os.strerror(e.errno).lower() if e.errno else str(e)  # asyncio rewrites strerror
    return f"dial tcp {host}:{port}: connect: {reason}"


async def http_probe(target: ProbeTarget, action: pod_pb2.HTTPGetAction, timeout: float) -> tuple[str, str]:
    try:
        port = resolve_port(action.port, target.container)
    except ValueError as e:
        return UNKNOWN, str(e)
    host = action.host or target.pod_ip
    scheme = (action.scheme or "HTTP").upper()
    path = action.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme.lower()}://{host}:{port}{path}"
    try:
        status, body = await asyncio.wait_for(_follow(host, port, path, scheme, action.http_headers), timeout)
    except TimeoutError:
        return FAILURE, f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    except OSError as e:
        return FAILURE, f'Get "{url}": {_dial_error(host, port, e)}'
    except ValueError as e:
        return FAILURE, f'Get "{url}": {e}'
    if 200 <= status < 400:
        return SUCCESS, body
    return FAILURE, f"HTTP probe failed with statuscode: {status}"


async def _follow(host: str, port: int, path: str, scheme: str,
                  headers: list[pod_pb2.HTTPHeader]) -> tuple[int, str]:
    """GET, following redirects on the same host as the kubelet does; one to another host is not
    followed (its 3xx counts as success)."""
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body = await _http_get(host, port, path, scheme, headers)
        if not 300 <= status < 400 or not location:
            return status, body
        base = f"{scheme.lower()}://{host}:{port}{path}"
        target = urllib.parse.urlsplit(urllib.parse.urljoin(base, location))
        if target.hostname != host or target.scheme not in ("http", "https"):
            return status, body
        scheme = target.scheme.upper()
        port = target.port or (443 if scheme == "HTTPS" else 80)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    raise ValueError(f"stopped after {MAX_REDIRECTS} redirects")


async def _http_get(host: str, port: int, path: str, scheme: str,
                    headers: list[pod_pb2.HTTPHeader]) -> tuple[int, str, str]:
    """(status, Location header, up to MAX_BODY of the body)."""
    context = None
    if scheme == "HTTPS":  # the kubelet does not verify probe certificates either
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        writer.write(_request(host, port, path, headers))
        await writer.drain()
        status_line = await reader.readline()
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ValueError(f"malformed HTTP response {status_line[:80]!r}")
        location = ""
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "location":
                location = value.strip()
        body = await reader.read(MAX_BODY)
        return int(parts[1]), location, body.decode(errors="replace")
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


def _request(host: str, port: int, path: str, headers: list[pod_pb2.HTTPHeader]) -> bytes:
    values = {"Host": f"{host}:{port}", "User-Agent": USER_AGENT, "Accept": "*/*"}
    for h in headers:
        name = next((k for k in values if k.lower() == h.name.lower()), h.name)
        values[name] = h.value
    values["Connection"] = "close"
    lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in values.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


async def grpc_probe(host: str, action: pod_pb2.GRPCAction, timeout: float) -> tuple[str, str]:
    target = f"{host}:{action.port}"
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            response = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=action.service), timeout=timeout)
        except grpc.aio.AioRpcError as e:
            return FAILURE, f"failed to connect service {target!r} within {timeout}s: {e.details()}"
    if response.status == health_pb2.HealthCheckResponse.SERVING:
        return SUCCESS, ""
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return FAILURE, f"service unhealthy (responded with {status!r})"


# ---- the worker ----

OnResult = Callable[[ProbeUpdate], object]


class Prober:
    """Runs one probe of one container instance until stopped (or, for liveness/startup, until it fails)."""

    def __init__(self, kind: str, probe: pod_pb2.Probe, target: ProbeTarget, on_result: OnResult, *,
                 started_at: float | None = None, gate: Callable[[], bool] | None = None,
                 on_failure: Callable[[str, str], object] | None = None) -> None:
        self.kind = kind
        self.probe = probe
        self.target = target
        self.settings = settings(kind, probe)
        self.on_result = on_result
        self.on_failure = on_failure
        self.started_at = time.time() if started_at is None else started_at
        self.gate = gate
        self.result = INITIAL_RESULT[kind]
        self._last, self._run = "", 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"probe-{self.kind}-{self.target.container_id[:12]}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        delay = self.started_at + self.settings.initial_delay - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        while True:
            if not await self.probe_once():
                return
            await asyncio.sleep(self.settings.period)

    async def probe_once(self) -> bool:
        """One tick; False once this prober is done (liveness/startup failed, or startup succeeded)."""
        if self.gate is not None and not self.gate():
            return True
        result, output = await run_probe(self.probe, self.target, self.settings.timeout)
        if result == UNKNOWN:
            return True
        if result == FAILURE and self.on_failure is not None:
            await _maybe_await(self.on_failure(self.kind, output))
        self._run = self._run + 1 if result == self._last else 1
        self._last = result
        threshold = self.settings.success_threshold if result == SUCCESS else self.settings.failure_threshold
        if self._run >= threshold and result != self.result:
            self.result = result
            await _maybe_await(self.on_result(ProbeUpdate(
                self.target.pod.metadata.uid, self.target.container.name, self.target.container_id,
                self.kind, result, output)))
        if self.kind in (LIVENESS, STARTUP) and self.result == FAILURE:
            return False
        return not (self.kind == STARTUP and self.result == SUCCESS)


class ContainerProbes:
    """The probers of one container instance, with the startup probe gating the other two."""

    def __init__(self, target: ProbeTarget, on_result: OnResult, *, started_at: float | None = None,
                 on_failure: Callable[[str, str], object] | None = None) -> None:
        c = target.container
        self.probers: dict[str, Prober] = {}
        self.startup = None
        if c.HasField("startup_probe"):
            self.startup = Prober(STARTUP, c.startup_probe, target, on_result, started_at=started_at,
                                  on_failure=on_failure)
            self.probers[STARTUP] = self.startup
        for kind, probe_field in ((LIVENESS, "liveness_probe"), (READINESS, "readiness_probe")):
            if c.HasField(probe_field):
                self.probers[kind] = Prober(kind, getattr(c, probe_field), target, on_result,
                                            started_at=started_at, gate=self.started, on_failure=on_failure)

    def started(self) -> bool:
        """The container counts as started once its startup probe succeeded (at once without one)."""
        return self.startup is None or self.startup.result == SUCCESS

    @property
    def ready(self) -> bool:
        """Ready per readiness probe; without one, ready once started."""
        readiness = self.probers.get(READINESS)
        return self.started() and (readiness is None or readiness.result == SUCCESS)

    def start(self) -> None:
        for prober in self.probers.values():
            prober.start()

    async def stop(self) -> None:
        for prober in self.probers.values():
            await prober.stop()


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value
