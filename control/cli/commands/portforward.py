"""`skiffctl port-forward TYPE/NAME [LOCAL:]REMOTE ...`, as kubectl's: local listeners on --address
(localhost: 127.0.0.1 and ::1), each accepted connection carried by its own Pods.PortForward stream
to the pod, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from control.cli.commands.pods import pod_for, pod_name
from control.cli.context import Context
from control.cli.errors import CommandError, UsageError
from control.client.convert import int_or_string
from control.client.kinds import lookup
from control.client.wellknown import POD_RUNNING
from skiff.v1 import node_agent_pb2

READ_CHUNK = 64 * 1024


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("port-forward", parents=parents, help="Forward one or more local ports to a pod",
                       usage="skiffctl port-forward TYPE/NAME [options] [LOCAL_PORT:]REMOTE_PORT [...]")
    p.add_argument("target", metavar="TYPE/NAME")
    p.add_argument("ports", nargs="*", metavar="[LOCAL_PORT:]REMOTE_PORT")
    p.add_argument("--address", default="localhost",
                   help="addresses to listen on (comma separated): only IP addresses or localhost")
    p.add_argument("--pod-running-timeout", default="1m")
    p.set_defaults(run=port_forward, intermixed="ports")


@dataclass(frozen=True)
class PortPair:
    local: str  # "" or "0": any free port
    remote: str  # a number, or a container port's name (a Service's port for svc/NAME)


def parse_ports(specs: list[str]) -> list[PortPair]:
    if not specs:
        raise UsageError("TYPE/NAME and list of ports are required for port-forward", "port-forward")
    pairs = []
    for spec in specs:
        local, sep, remote = spec.partition(":")
        if not sep:
            local, remote = spec, spec
        if not remote:
            raise CommandError(f"remote port must be > 0 and < 65536: {spec}")
        pairs.append(PortPair(local, remote))
    return pairs


def check_local_ports(pairs: list[PortPair]) -> None:
    """kubectl reads the local ports only once the pod is found running."""
    for p in pairs:
        if p.local and not (p.local.isdigit() and 0 <= int(p.local) < 65536):
            raise CommandError(f"Error parsing local port '{p.local}': invalid port")


def _addresses(address: str) -> list[str]:
    out: list[str] = []
    for a in (x.strip() for x in address.split(",")):
        out += ["127.0.0.1", "::1"] if a == "localhost" else [a]
    return out


def _container_port(pod: Message, name: str) -> int:
    if name.isdigit():
        return int(name)
    for c in pod.spec.containers:
        for p in c.ports:
            if p.name == name:
                return p.container_port
    raise CommandError(f"Pod '{pod.metadata.name}' does not have a named port '{name}'")


def _service_target(svc: Message, pod: Message, port: str) -> int:
    """A Service port translated to the pod's port, as kubectl does (a named targetPort by the pod's ports)."""
    for p in svc.spec.ports:
        if port in (str(p.port), p.name):
            target = int_or_string(p.target_port) if p.HasField("target_port") else None
            if isinstance(target, str) and not target.isdigit():
                return _container_port(pod, target)
            return int(target) if target else p.port
    raise CommandError(f"Service {svc.metadata.name} does not have a service port {port}")


async def _resolve(ctx: Context, target: str, pairs: list[PortPair]) -> tuple[Message, list[tuple[int, int]]]:
    kind_name, _, name = target.rpartition("/")
    if kind_name and lookup(kind_name).kind == "Service":
        svc = await ctx.client.get("Service", name, ctx.namespace)
        pod = await ctx.client.get("Pod", await pod_for(ctx, svc.spec.selector, f"service/{name}"), ctx.namespace)
        remotes = [_service_target(svc, pod, p.remote) for p in pairs]
    else:
        pod = await ctx.client.get("Pod", await pod_name(ctx, target), ctx.namespace)
        remotes = [_container_port(pod, p.remote) for p in pairs]
    if pod.status.phase != POD_RUNNING:
        raise CommandError(f"unable to forward port because pod is not running. Current status={pod.status.phase}")
    for r in remotes:
        if not 0 < r < 65536:
            raise CommandError(f"remote port must be > 0 and < 65536: {r}")
    return pod, [(int(p.local or 0) if p.local.isdigit() else 0, r) for p, r in zip(pairs, remotes, strict=True)]


class Forwarder:
    def __init__(self, ctx: Context, pod: Message) -> None:
        self.ctx = ctx
        self.pod = pod
        self.connections: set[asyncio.Task] = set()

    async def listen(self, address: str, local: int, remote: int) -> asyncio.Server:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            self.connections.add(task)
            try:
                await self.carry(reader, writer, bound, remote)
            finally:
                self.connections.discard(task)

        server = await asyncio.start_server(accept, address, local)
        bound = server.sockets[0].getsockname()[1]
        shown = f"[{address}]" if ":" in address else address
        self.ctx.out(f"Forwarding from {shown}:{bound} -> {remote}")
        return server

    async def carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, local: int, remote: int) -> None:
        self.ctx.out(f"Handling connection for {local}")
        start = node_agent_pb2.PortForwardRequest(namespace=self.pod.metadata.namespace,
                                                  name=self.pod.metadata.name, port=remote)

        async def inputs():
            yield node_agent_pb2.PortForwardInput(start=start)
            while data := await reader.read(READ_CHUNK):
                yield node_agent_pb2.PortForwardInput(data=data)
            yield node_agent_pb2.PortForwardInput(close=True)

        call = self.ctx.client.stub("Pod").PortForward(inputs())
        try:
            async for out in call:
                writer.write(out.data)
                await writer.drain()
        except grpc.aio.AioRpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                self.ctx.warn(f"error: an error occurred forwarding {local} -> {remote}: {e.details()}")
        except (ConnectionError, OSError):
            pass
        finally:
            call.cancel()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def port_forward(args, ctx: Context) -> None:
    pairs = parse_ports(args.ports)
    pod, ports = await _resolve(ctx, args.target, pairs)
    check_local_ports(pairs)
    forwarder = Forwarder(ctx, pod)
    servers: list[asyncio.Server] = []
    for local, remote in ports:
        failures = []
        for address in _addresses(args.address):
            try:
                servers.append(await forwarder.listen(address, local, remote))
                local = local or servers[-1].sockets[0].getsockname()[1]  # one random port for every address
            except OSError as e:
                failures.append(f"unable to create listener: Error listen tcp {address}:{local}: {e.strerror}")
        if len(failures) == len(_addresses(args.address)):
            for s in servers:
                s.close()
            raise CommandError(f"Unable to listen on port {local}: Listeners failed to create with the following "
                               f"errors: [{' '.join(failures)}]")
    await _until_interrupted()
    for s in servers:
        s.close()
    for task in list(forwarder.connections):
        task.cancel()
    await asyncio.gather(*forwarder.connections, return_exceptions=True)


async def _until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
