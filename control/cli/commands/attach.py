"""`skiffctl attach`, as kubectl's: joins the container's own process over Pods.Attach (its output,
and with -i its stdin; -t a terminal). Also the attaching half of `run -it` and `debug -it`."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

from google.protobuf.message import Message

from control.cli.commands.pods import pod_name, stream_session
from control.cli.context import Context
from control.cli.errors import CommandError
from control.client.wellknown import POD_FAILED, POD_RUNNING, POD_SUCCEEDED
from skiff.v1 import node_agent_pb2

PROMPT_HINT = "If you don't see a command prompt, try pressing enter."
POLL = 0.25  # seconds between looks at a pod being waited for


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    a = sub.add_parser("attach", parents=parents, help="Attach to a running container",
                       usage="skiffctl attach (POD | TYPE/NAME) -c CONTAINER [-i] [-t]")
    a.add_argument("pod", metavar="POD | TYPE/NAME")
    a.add_argument("-c", "--container", default="")
    a.add_argument("-i", "--stdin", action="store_true", help="pass stdin to the container")
    a.add_argument("-t", "--tty", action="store_true", help="stdin is a TTY")
    a.add_argument("-q", "--quiet", action="store_true", help="only print output from the remote session")
    a.add_argument("--pod-running-timeout", default="1m0s")
    a.set_defaults(run=attach)


def container_state(pod: Message, name: str) -> Message | None:
    for status in (*pod.status.init_container_statuses, *pod.status.container_statuses,
                   *pod.status.ephemeral_container_statuses):
        if status.name == name:
            return status.state
    return None


async def wait_for(ctx: Context, name: str, done: Callable[[Message], bool], timeout: float, what: str) -> Message:
    """The pod once done(pod) holds, looked at every POLL seconds until timeout."""
    deadline = time.monotonic() + timeout
    while True:
        pod = await ctx.client.get("Pod", name, ctx.namespace)
        if done(pod):
            return pod
        if time.monotonic() > deadline:
            raise CommandError(f"timed out waiting for the condition on pods/{name}: {what}")
        await asyncio.sleep(POLL)


def running_or_done(pod: Message) -> bool:
    return pod.status.phase in (POD_RUNNING, POD_SUCCEEDED, POD_FAILED)


async def attach_to(ctx: Context, pod: str, container: str, stdin: bool, tty: bool, quiet: bool = False) -> int:
    if not quiet:  # kubectl 1.32 prints it whatever -i and -t say
        ctx.warn(PROMPT_HINT)
    start = node_agent_pb2.ExecRequest(namespace=ctx.namespace, name=pod, container=container)
    first = node_agent_pb2.ExecInput(start=start, tty=tty, stdin_open=stdin)
    return await stream_session(ctx, "Attach", first, stdin=stdin)


def default_container(pod: Message, given: str, ctx: Context) -> str:
    if given:
        return given
    names = [c.name for c in pod.spec.containers]
    if len(names) > 1:
        default = pod.metadata.annotations.get("kubectl.kubernetes.io/default-container", names[0])
        ctx.warn(f'Defaulted container "{default}" out of: {", ".join(names)}')
        return default
    return names[0] if names else ""


async def attach(args, ctx: Context) -> None:
    name = await pod_name(ctx, args.pod)
    pod = await ctx.client.get("Pod", name, ctx.namespace)
    if pod.status.phase in (POD_SUCCEEDED, POD_FAILED):
        raise CommandError(f"cannot attach a container in a completed pod; current phase is {pod.status.phase}")
    container = default_container(pod, args.container, ctx)
    every = [c.name for c in (*pod.spec.containers, *pod.spec.init_containers, *pod.spec.ephemeral_containers)]
    if container not in every:
        raise CommandError(f"cannot attach to the container: container {container} not found in pod {name}")
    await attach_to(ctx, name, container, args.stdin, args.tty, args.quiet)
