"""skiffctl: kubectl's verbs and habits over Skiff's gRPC API."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import grpc

from control.cli import describe
from control.cli.commands import (
    apply,
    attach,
    auth,
    autoscale,
    cp,
    create,
    debug,
    delete,
    diff,
    events,
    explain,
    get,
    metadata,
    nodes,
    patch,
    pods,
    portforward,
    rollout,
    run,
    scale,
    taint,
    top,
    version,
    wait,
)
from control.cli.commands import (
    config as config_cmd,
)
from control.cli.config import ConfigError, Overrides, resolve
from control.cli.context import Context, make_client
from control.cli.errors import CommandError, describe_rpc_error
from control.cli.manifests import ManifestLoadError
from control.client.convert import ManifestError
from control.client.kinds import UnknownKindError

_MODULES = (apply, diff, create, run, get, describe, delete, scale, autoscale, rollout, metadata, patch, nodes, taint,
            pods, attach, portforward, cp, debug, top, events, explain, wait, auth, version, config_cmd)


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1, like every other skiffctl error (argparse's default is 2); flags are never
    abbreviated (kubectl takes only whole names, and `version --client` is no `--client-key`)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(1, f"error: {message}\n")


def _global_flags(suppress: bool) -> argparse.ArgumentParser:
    """--server, -n, -A and the credential flags: accepted before the verb and after it, like kubectl."""
    default = argparse.SUPPRESS if suppress else None
    p = _Parser(add_help=False)
    p.add_argument("-s", "--server", default=default, help="the apiserver's HOST:PORT")
    p.add_argument("-n", "--namespace", default=default, help="the namespace for this request")
    p.add_argument("-A", "--all-namespaces", action="store_true",
                   default=argparse.SUPPRESS if suppress else False)
    p.add_argument("--kubeconfig", default=default, help="the client config file (default: $SKIFFCONFIG, "
                   "~/.skiff/config)")
    p.add_argument("--context", default=default, help="the kubeconfig context to use")
    p.add_argument("--token", default=default, help="bearer token for authentication to the apiserver")
    p.add_argument("--certificate-authority", default=default, help="path to a cert file for the CA")
    p.add_argument("--client-certificate", default=default, help="path to a client certificate file for TLS")
    p.add_argument("--client-key", default=default, help="path to a client key file for TLS")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="skiffctl", parents=[_global_flags(False)],
                                     description="skiffctl controls a Skiff cluster, the way kubectl does.")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    parents = [_global_flags(True)]
    for module in _MODULES:
        module.register(sub, parents)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Everything after `--` is the command (of exec, create job, create cronjob), whatever flags it has."""
    command: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, command = argv[:i], argv[i + 1:]
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # Positionals after a flag (`taint nodes -l app=x key=v:NoSchedule`) belong to the verb's
    # positional list, as in kubectl, whose flags may come anywhere.
    positional = getattr(args, "intermixed", None)
    if extra and positional and not any(e.startswith("-") for e in extra):
        setattr(args, positional, list(getattr(args, positional)) + extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if command:
        target = getattr(args, "after_dashes", "command" if hasattr(args, "command") else None)
        if target is None:
            build_parser().error(f"unexpected arguments after --: {' '.join(command)}")
        setattr(args, target, list(getattr(args, target)) + command)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "offline", None):  # `config ...`: the file only, no server
        return config_cmd.run_offline(args)
    try:
        config = resolve(args.server, args.namespace, _overrides(args))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        code = asyncio.run(_run(args, config))
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    return code


def _overrides(args: argparse.Namespace) -> Overrides:
    return Overrides(kubeconfig=args.kubeconfig, context=args.context, token=args.token,
                     certificate_authority=args.certificate_authority, client_certificate=args.client_certificate,
                     client_key=args.client_key)


def _credentials_failure(err: grpc.RpcError) -> str | None:
    """kubectl's words when the apiserver does not know us, or we do not trust it (gRPC: UNAVAILABLE)."""
    details = err.details() or ""
    if err.code() == grpc.StatusCode.UNAUTHENTICATED:
        return "error: You must be logged in to the server (Unauthorized)"
    if err.code() != grpc.StatusCode.UNAVAILABLE or not any(
            s in details for s in ("SSL", "Ssl", "handshake", "CERTIFICATE", "certificate")):
        return None
    if "CERTIFICATE_VERIFY_FAILED" in details:
        return "Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by " \
               "unknown authority (or not valid for the server's name; check certificate-authority and " \
               "tls-server-name)"
    return f"Unable to connect to the server: TLS handshake failed: {details}"


async def _run(args, config) -> int:
    try:
        client = make_client(config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    ctx = Context(client, config, namespace_given=bool(args.namespace))
    try:
        await args.run(args, ctx)
    except CommandError as e:
        ctx.err(f"error: {e}")
    except (ManifestLoadError, ManifestError, UnknownKindError) as e:
        ctx.err(f"error: {e}")
    except grpc.RpcError as e:
        ctx.err(_credentials_failure(e) or describe_rpc_error(e, config.server))
    except Exception as e:  # noqa: BLE001 - a bug still ends with kubectl's "error:" line, not a traceback
        if os.environ.get("SKIFFCTL_DEBUG"):
            raise
        ctx.err(f"error: {type(e).__name__}: {e}")
    finally:
        await ctx.client.close()
    if ctx.exit_code:
        return ctx.exit_code
    return 1 if ctx.failed else 0


if __name__ == "__main__":
    sys.exit(main())
