"""`skiffctl run NAME --image=IMAGE [...] [-- COMMAND ARGS...]` and `skiffctl expose TYPE NAME`, as
kubectl's: run makes one Pod (and with --expose a Service in front of it), expose makes a Service
whose selector, ports and labels come from the exposed object."""

from __future__ import annotations

import argparse

from control.cli import generators
from control.cli.commands.create import create_object, given_namespace, output_flags
from control.cli.commands.runattach import run_attached
from control.cli.context import Context, parse_resources
from control.cli.errors import CommandError, UsageError
from control.client.convert import to_dict


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    r = sub.add_parser("run", parents=parents, help="Run a particular image on the cluster",
                       usage="skiffctl run NAME --image=image [--env=\"key=value\"] [--port=port] "
                             "[--dry-run=server|client] [--command] -- [COMMAND] [args...]")
    r.add_argument("name", nargs="?", default="")
    r.add_argument("command", nargs="*", metavar="-- COMMAND [args...]")
    r.add_argument("--image", default="")
    r.add_argument("--env", action="append", default=[])
    r.add_argument("--port", type=int, default=-1)
    r.add_argument("-l", "--labels", default="")
    r.add_argument("--annotations", action="append", default=[])
    r.add_argument("--restart", default="Always")
    r.add_argument("--image-pull-policy", default="")
    r.add_argument("--command", dest="as_command", action="store_true",
                   help="the words after -- are the container's command, not its args")
    r.add_argument("--expose", action="store_true", help="also create a ClusterIP service for --port")
    r.add_argument("--attach", action="store_true")
    r.add_argument("-i", "--stdin", action="store_true")
    r.add_argument("-t", "--tty", action="store_true")
    r.add_argument("--rm", action="store_true")
    r.add_argument("-q", "--quiet", action="store_true")
    r.add_argument("--pod-running-timeout", default="1m0s")
    output_flags(r)
    r.set_defaults(run=run, after_dashes="command")
    e = sub.add_parser("expose", parents=parents, help="Take a resource and expose it as a new Kubernetes service",
                       usage="skiffctl expose (TYPE NAME | TYPE/NAME) [--port=port] [--protocol=TCP|UDP|SCTP] "
                             "[--target-port=number-or-name] [--name=name] [--type=type]")
    e.add_argument("resources", nargs="+", metavar="TYPE NAME | TYPE/NAME")
    e.add_argument("--port", default="")
    e.add_argument("--target-port", default="")
    e.add_argument("--protocol", default="")
    e.add_argument("--type", default="", choices=["", "ClusterIP", "NodePort", "LoadBalancer"])
    e.add_argument("--name", default="")
    e.add_argument("--port-name", default="")
    e.add_argument("--cluster-ip", default="")
    e.add_argument("--external-ip", default="")
    output_flags(e)
    e.set_defaults(run=expose, intermixed="resources")


async def run(args, ctx: Context) -> None:
    if not args.name:
        raise CommandError("NAME is required for run")
    if not args.image:
        raise CommandError('required flag(s) "image" not set')
    generators.check_name(args.name)
    attached = args.attach or args.stdin
    if args.rm and not attached:
        raise UsageError("--rm should only be used for attached containers", "run")
    if args.tty and not args.stdin:
        raise UsageError("-i/--stdin is required for containers with -t/--tty=true", "run")
    if attached and args.expose:
        raise CommandError("--expose and --attach cannot be used together")
    if args.restart not in generators.RESTART_POLICIES:
        raise UsageError(f"invalid restart policy: {args.restart}", "run")
    if args.expose and args.port <= 0:
        raise CommandError("--port must be set when exposing a service")
    pod = generators.run_pod(args.name, args.image, args.env, args.port, args.labels, args.annotations,
                             args.restart, args.as_command, args.command, args.image_pull_policy,
                             given_namespace(ctx))
    if attached and getattr(args, "dry_run", "none") == "none":
        if args.stdin:
            pod["spec"]["containers"][0].update({"stdin": True, "stdinOnce": True, "tty": args.tty})
        await run_attached(ctx, args, pod)
        return
    if args.expose:
        svc = generators.expose_service(pod, args.name, str(args.port), "", "", "", namespace=given_namespace(ctx))
        svc["metadata"].pop("labels", None)  # run's Service selects the pod's labels but carries none
        await create_object(ctx, args, svc)
        if ctx.failed:
            return
        if args.output == "yaml":
            ctx.stdout.write("---\n---\n")  # what kubectl writes between the two objects
    await create_object(ctx, args, pod)


async def expose(args, ctx: Context) -> None:
    targets = [(k, n) for k, n in parse_resources(args.resources) if n]
    if not targets:
        raise CommandError("you must provide one or more resources by argument or filename")
    for kind, name in targets:
        obj = to_dict(await ctx.client.get(kind, name, ctx.namespace_for(kind)))
        obj.setdefault("kind", kind.kind)
        svc = generators.expose_service(obj, args.name, args.port, args.target_port, args.protocol, args.type,
                                        args.cluster_ip, args.external_ip, args.port_name, given_namespace(ctx))
        await create_object(ctx, args, svc, verb="exposed")
