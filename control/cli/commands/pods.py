"""`skiffctl logs` and `exec`: calls the apiserver proxies to the node agent."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import signal
import stat
import sys
import termios
import tty

import grpc

from control.cli.context import Context
from control.cli.errors import CommandError
from control.cli.gotime import parse_duration, parse_rfc3339
from control.client.kinds import KINDS, lookup
from control.client.printers import selector_string
from control.client.wellknown import POD_RUNNING
from skiff.v1 import node_agent_pb2


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("logs", parents=parents, help="Print the logs of a container in a pod")
    p.add_argument("pod", metavar="POD | pod/NAME")
    p.add_argument("container_arg", nargs="?", metavar="CONTAINER")
    p.add_argument("-c", "--container", default="")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("--tail", type=int, default=-1)
    p.add_argument("-p", "--previous", action="store_true")
    p.add_argument("--timestamps", action="store_true")
    p.add_argument("--since", default="0s", help="only logs newer than this duration, e.g. 5s, 2m, 3h")
    p.add_argument("--since-time", default="", help="only logs after this RFC3339 time")
    p.set_defaults(run=logs)
    e = sub.add_parser("exec", parents=parents, help="Run a command in a container")
    e.add_argument("pod", metavar="POD | pod/NAME")
    e.add_argument("command", nargs="*", metavar="-- COMMAND [args...]")
    e.add_argument("-c", "--container", default="")
    e.add_argument("-i", "--stdin", action="store_true", help="pass stdin to the container")
    e.add_argument("-t", "--tty", action="store_true", help="stdin is a TTY")
    e.set_defaults(run=exec_command, after_dashes="command")


async def pod_name(ctx: Context, arg: str) -> str:
    """A pod's name; for a kind with a pod template (`deploy/NAME`, `rs/NAME`), one of its pods (as
    kubectl picks one)."""
    kind_name, _, name = arg.rpartition("/")
    if not kind_name:
        return name
    kind = lookup(kind_name)
    if kind.pod_spec_path == ("spec",):
        return name
    if not kind.has_pod_template:
        raise CommandError(f"cannot attach to {kind.plural}: choose {_attachable()}")
    owner = await ctx.client.get(kind, name, ctx.namespace)
    return await pod_for(ctx, selector_string(owner.spec.selector), f"{kind.qualified}/{name}")


async def pod_for(ctx: Context, selector, what: str) -> str:
    """One pod selected (a running one first, the oldest), as kubectl picks for a workload or Service."""
    if not isinstance(selector, str):
        selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    if not selector:
        raise CommandError(f"cannot attach to {what}: it has no selector")
    pods, _ = await ctx.client.list_all("Pod", ctx.namespace, label_selector=selector)
    running = sorted(pods, key=lambda p: (p.status.phase != POD_RUNNING, p.metadata.creation_timestamp.seconds))
    if not running:
        raise CommandError(f"no pods found for {what}")
    if len(running) > 1:
        ctx.stderr.write(f"Found {len(running)} pods, using pod/{running[0].metadata.name}\n")
    return running[0].metadata.name


def _attachable() -> str:
    """`a pod, deployment or replicaset`: the kinds with a pod spec, pods before pod templates."""
    kinds = sorted((k for k in KINDS.values() if k.pod_spec_path == ("spec",) or k.has_pod_template),
                   key=lambda k: (len(k.pod_spec_path), k.singular))
    names = [k.singular for k in kinds]
    return "a " + ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "a " + names[0]


async def logs(args, ctx: Context) -> None:
    # kubectl's order: flags parsed, the pod looked up, then the options validated.
    since = _since_flag(args.since)
    since_time = parse_rfc3339(args.since_time) if args.since_time else None
    name = await _logs_pod(ctx, args.pod)
    req = node_agent_pb2.LogsRequest(namespace=ctx.namespace, name=name,
                                     container=args.container or args.container_arg or "",
                                     follow=args.follow, previous=args.previous, timestamps=args.timestamps)
    if args.tail >= 0:
        req.tail_lines = args.tail
    _set_since(req, since, since_time)
    call = ctx.client.stub("Pod").Logs(req)
    out = sys.stdout.buffer if ctx.stdout is sys.stdout else None
    try:
        async for chunk in call:
            if out is not None:
                out.write(chunk.data)
                out.flush()
            else:
                ctx.stdout.write(chunk.data.decode(errors="replace"))
    finally:
        call.cancel()


async def _logs_pod(ctx: Context, arg: str) -> str:
    """The pod whose logs to read, looked up as kubectl looks it up (and words its absence)."""
    try:
        name = await pod_name(ctx, arg)
        await ctx.client.get("Pod", name, ctx.namespace)
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise
        raise CommandError(f"error from server (NotFound): {e.details()} in namespace {json.dumps(ctx.namespace)}"
                           ) from None
    return name


def _since_flag(text: str) -> float:
    try:
        return parse_duration(text)
    except CommandError as e:
        raise CommandError(f'invalid argument {json.dumps(text)} for "--since" flag: {e}') from None


def _set_since(req: node_agent_pb2.LogsRequest, seconds: float, since_time: datetime.datetime | None) -> None:
    """kubectl's --since (whole seconds, rounded half away from zero; 0 for none) and --since-time, refused
    together."""
    if seconds and since_time is not None:
        raise CommandError("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if since_time is not None:
        req.since_time.FromDatetime(since_time)
    if seconds:
        req.since_seconds = int(math.copysign(math.floor(abs(seconds) + 0.5), seconds))
        if req.since_seconds < 0:
            raise CommandError("--since must be greater than 0")


async def exec_command(args, ctx: Context) -> None:
    if not args.command:
        raise CommandError("you must specify at least one command for the container")
    name = await pod_name(ctx, args.pod)
    start = node_agent_pb2.ExecRequest(namespace=ctx.namespace, name=name, container=args.container,
                                       command=args.command)
    code = await (_exec_stream(ctx, start, args.tty) if args.stdin else _exec_once(ctx, start))
    if code:
        ctx.err(f"command terminated with exit code {code}")
        ctx.exit_code = code


async def _exec_once(ctx: Context, start: node_agent_pb2.ExecRequest) -> int:
    resp = await ctx.client.stub("Pod").Exec(start)
    _write(ctx, resp.stdout, resp.stderr)
    return resp.exit_code


def _write(ctx: Context, stdout: bytes, stderr: bytes) -> None:
    for data, stream in ((stdout, ctx.stdout), (stderr, ctx.stderr)):
        if not data:
            continue
        if stream in (sys.stdout, sys.stderr):
            stream.buffer.write(data)
        else:
            stream.write(data.decode(errors="replace"))
        stream.flush()


async def _exec_stream(ctx: Context, start: node_agent_pb2.ExecRequest, tty: bool) -> int:
    return await stream_session(ctx, "ExecStream", node_agent_pb2.ExecInput(start=start, tty=tty))


async def stream_session(ctx: Context, method: str, first: node_agent_pb2.ExecInput, stdin: bool = True) -> int:
    """An interactive session over Pods.ExecStream or Pods.Attach: stdin goes up as it is read (when
    stdin), output comes down; the remote exit code."""
    queue: asyncio.Queue[node_agent_pb2.ExecInput | None] = asyncio.Queue()
    await queue.put(first)
    restore = _raw_terminal() if first.tty and stdin else None
    if restore is not None:
        _follow_terminal_size(queue)
    reader = asyncio.create_task(_pump_stdin(queue) if stdin else asyncio.Event().wait())

    async def inputs():
        while (item := await queue.get()) is not None:
            yield item

    code = 0
    try:
        async for out in getattr(ctx.client.stub("Pod"), method)(inputs()):
            _write(ctx, out.stdout, out.stderr)
            if out.HasField("exit_code"):
                code = out.exit_code
    finally:
        reader.cancel()
        if restore is not None:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGWINCH)
            restore()
    return code


def _follow_terminal_size(queue: asyncio.Queue) -> None:
    """The terminal's size now and after every SIGWINCH, as the TTY's resize messages."""
    def send() -> None:
        try:
            size = os.get_terminal_size(sys.stdout.fileno())
        except OSError:
            return
        queue.put_nowait(node_agent_pb2.ExecInput(resize=node_agent_pb2.TerminalSize(width=size.columns,
                                                                                     height=size.lines)))
    send()
    asyncio.get_running_loop().add_signal_handler(signal.SIGWINCH, send)


def _raw_terminal():
    """Puts a terminal stdin in raw mode (keys go to the container as typed); returns the undo."""
    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        return None
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    return lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)


async def _pump_stdin(queue: asyncio.Queue) -> None:
    """Forwards stdin as it arrives; a non-blocking reader, so exit never waits for a key press."""
    fd = sys.stdin.fileno()
    if stat.S_ISREG(os.fstat(fd).st_mode):  # epoll can't watch regular files: send it all at once
        await queue.put(node_agent_pb2.ExecInput(stdin=sys.stdin.buffer.read()))
        await queue.put(node_agent_pb2.ExecInput(close_stdin=True))
        return
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    was_blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    loop.add_reader(fd, readable.set)
    try:
        while True:
            await readable.wait()
            readable.clear()
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                await queue.put(node_agent_pb2.ExecInput(close_stdin=True))
                return
            await queue.put(node_agent_pb2.ExecInput(stdin=data))
    finally:
        loop.remove_reader(fd)
        os.set_blocking(fd, was_blocking)
