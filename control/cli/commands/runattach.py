"""`skiffctl run --attach|-i [-t] [--rm]`, as kubectl's: create the pod, wait for it to run, attach to it
(or print its logs when it already finished), delete it with --rm, and exit as the container did when
the restart policy lets it finish."""

from __future__ import annotations

import grpc

from control.cli.commands.attach import attach_to, running_or_done, wait_for
from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error
from control.cli.gotime import parse_duration
from control.client.convert import from_dict
from control.client.kinds import KINDS
from control.client.wellknown import POD_FAILED, POD_SUCCEEDED
from skiff.v1 import node_agent_pb2

POD = KINDS["Pod"]
COMPLETION_TIMEOUT = 300.0  # how long a pod that ends by itself is waited for after the session


def _completed(pod) -> bool:
    return pod.status.phase in (POD_SUCCEEDED, POD_FAILED)


async def _print_logs(ctx: Context, name: str, container: str) -> None:
    call = ctx.client.stub("Pod").Logs(node_agent_pb2.LogsRequest(namespace=ctx.namespace, name=name,
                                                                  container=container))
    async for chunk in call:
        ctx.stdout.write(chunk.data.decode(errors="replace"))
    ctx.stdout.flush()


async def run_attached(ctx: Context, args, data: dict) -> None:
    data["metadata"].setdefault("namespace", ctx.namespace)
    try:
        await ctx.client.create(from_dict(data, POD))
    except grpc.RpcError as e:
        raise CommandError(describe_rpc_error(e, ctx.client.target, "Pod", args.name)) from None
    name, container = args.name, args.name
    pod = await wait_for(ctx, name, running_or_done, parse_duration(args.pod_running_timeout), "Running")
    if _completed(pod):
        await _print_logs(ctx, name, container)
    else:
        await attach_to(ctx, name, container, args.stdin, args.tty, args.quiet)
    wait_exit = args.restart in ("Never", "OnFailure")
    if wait_exit:
        done = _completed if args.restart == "Never" else (lambda p: p.status.phase == POD_SUCCEEDED)
        pod = await wait_for(ctx, name, done, COMPLETION_TIMEOUT, "Completed")
    if args.rm:
        await ctx.client.delete("Pod", name, ctx.namespace)
        ctx.out(f'pod "{name}" deleted')
    if wait_exit and pod.status.phase == POD_FAILED:
        _exit_code(ctx, pod)


def _exit_code(ctx: Context, pod) -> None:
    meta = pod.metadata
    statuses = pod.status.container_statuses
    if not statuses or not statuses[0].state.HasField("terminated"):
        ctx.err(f"pod {meta.namespace}/{meta.name} failed with unknown exit code")
        return
    t = statuses[0].state.terminated
    ctx.err(f"pod {meta.namespace}/{meta.name} terminated ({t.reason})\n{t.message}".rstrip("\n"))
    ctx.exit_code = t.exit_code
