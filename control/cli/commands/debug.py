"""`skiffctl debug`, as kubectl's (profile legacy): `pod/NAME` adds an ephemeral container to the running
pod through pods/ephemeralcontainers (with --target, sharing that container's process namespace);
`node/NAME` creates a pod on the node with the host's namespaces and its root filesystem at /host.
With -i/-t the session attaches to the new container."""

from __future__ import annotations

import argparse
import random

import grpc
from google.protobuf import json_format

from control.cli.commands.attach import attach_to, container_state, wait_for
from control.cli.context import Context
from control.cli.errors import CommandError, describe_rpc_error
from control.cli.gotime import parse_duration
from control.client.convert import from_dict
from control.client.kinds import KINDS, lookup
from skiff.v1 import pod_pb2, requests_pb2, services_pb2

POD = KINDS["Pod"]
LEGACY_DEPRECATED = ("--profile=legacy is deprecated and will be removed in the future. It is recommended to "
                     'explicitly specify a profile, for example "--profile=general".')
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' random name suffix alphabet


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    d = sub.add_parser("debug", parents=parents, help="Create debugging sessions for troubleshooting workloads "
                       "and nodes", usage="skiffctl debug (POD | TYPE[[.VERSION].GROUP]/NAME) [ -- COMMAND "
                       "[args...] ]")
    d.add_argument("target", metavar="POD | TYPE/NAME")
    d.add_argument("command", nargs="*", metavar="-- COMMAND [args...]")
    d.add_argument("--image", default="")
    d.add_argument("--image-pull-policy", default="")
    d.add_argument("-c", "--container", default="")
    d.add_argument("--target", dest="target_container", default="")
    d.add_argument("-i", "--stdin", action="store_true")
    d.add_argument("-t", "--tty", action="store_true")
    d.add_argument("-q", "--quiet", action="store_true")
    d.add_argument("--attach", action="store_true", default=None)
    d.add_argument("--env", action="append", default=[])
    d.add_argument("--profile", default="legacy", choices=["legacy"])
    d.add_argument("--pod-running-timeout", default="1m0s")
    d.set_defaults(run=debug, after_dashes="command")


def _suffix() -> str:
    return "".join(random.choice(_ALPHANUMS) for _ in range(5))


def _container(args, name: str) -> dict:
    c: dict = {"name": name, "image": args.image, "terminationMessagePolicy": "File"}
    if args.image_pull_policy:
        c["imagePullPolicy"] = args.image_pull_policy
    if args.command:
        c["command"] = list(args.command)
    if args.env:
        c["env"] = [{"name": k, "value": v} for k, _, v in (e.partition("=") for e in args.env)]
    if args.stdin:
        c["stdin"] = True
    if args.tty:
        c["tty"] = True
    return c


async def debug(args, ctx: Context) -> None:
    if not args.image:
        raise CommandError("you must specify --image when not using --copy-to.")
    if args.tty and not args.stdin:
        raise CommandError("-i/--stdin is required for containers with -t/--tty=true")
    ctx.warn(LEGACY_DEPRECATED)
    kind_name, _, name = args.target.rpartition("/")
    kind = lookup(kind_name) if kind_name else POD
    if kind.kind == "Node":
        await _debug_node(args, ctx, name)
    elif kind.kind == "Pod":
        await _debug_pod(args, ctx, name)
    else:
        raise CommandError(f"objects of type {kind.qualified} are not supported by debug: use a pod or a node")


async def _debug_pod(args, ctx: Context, name: str) -> None:
    stub = ctx.client.stub("Pod")
    pod = await stub.GetEphemeralContainers(_get(ctx, name))
    if args.target_container:
        ctx.out(f'Targeting container "{args.target_container}". If you don\'t see processes from this container '
                "it may be because the container runtime doesn't support this feature.")
    container = args.container
    if not container:
        container = f"debugger-{_suffix()}"
        ctx.out(f"Defaulting debug container name to {container}.")
    spec = _container(args, container)
    if args.target_container:
        spec["targetContainerName"] = args.target_container
    pod.spec.ephemeral_containers.append(json_format.ParseDict(spec, pod_pb2.EphemeralContainer()))
    try:
        await stub.UpdateEphemeralContainers(services_pb2.PodRequest(object=pod))
    except grpc.RpcError as e:
        raise CommandError(describe_rpc_error(e, ctx.client.target, "Pod", name)) from None
    await _maybe_attach(args, ctx, name, container)


async def _debug_node(args, ctx: Context, node: str) -> None:
    await ctx.client.get("Node", node, "")
    pod_name = f"node-debugger-{node}-{_suffix()}"[:63]
    spec = _container(args, args.container or "debugger")
    spec["volumeMounts"] = [{"mountPath": "/host", "name": "host-root"}]
    data = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name, "namespace": ctx.namespace},
            "spec": {"containers": [spec], "hostIPC": True, "hostNetwork": True, "hostPID": True, "nodeName": node,
                     "restartPolicy": "Never", "tolerations": [{"operator": "Exists"}],
                     "volumes": [{"name": "host-root", "hostPath": {"path": "/"}}]}}
    try:
        await ctx.client.create(from_dict(data, POD))
    except grpc.RpcError as e:
        raise CommandError(describe_rpc_error(e, ctx.client.target, "Pod", pod_name)) from None
    ctx.out(f"Creating debugging pod {pod_name} with container {spec['name']} on node {node}.")
    await _maybe_attach(args, ctx, pod_name, spec["name"])


async def _maybe_attach(args, ctx: Context, pod: str, container: str) -> None:
    attach = args.attach if args.attach is not None else args.stdin
    if not attach:
        return

    def started(p) -> bool:
        state = container_state(p, container)
        return state is not None and (state.HasField("running") or state.HasField("terminated"))

    found = await wait_for(ctx, pod, started, parse_duration(args.pod_running_timeout), "container running")
    if container_state(found, container).HasField("terminated"):
        raise CommandError(f"container {container} in pod {pod} has already terminated")
    await attach_to(ctx, pod, container, args.stdin, args.tty, args.quiet)


def _get(ctx: Context, name: str) -> requests_pb2.GetRequest:
    return requests_pb2.GetRequest(namespace=ctx.namespace, name=name)
