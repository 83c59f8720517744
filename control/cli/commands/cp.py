"""`skiffctl cp`, as kubectl's: a tar stream over exec. Into a pod: `tar -xmf - -C DIR` fed a tar whose
entries are named after the destination; out of a pod: `tar cf - PATH`, unpacked locally, skipping
(with kubectl's warnings) entries that would land outside the destination and symlinks."""

from __future__ import annotations

import argparse
import io
import os
import posixpath
import tarfile
from dataclasses import dataclass

from control.cli.context import Context
from control.cli.errors import CommandError
from skiff.v1 import node_agent_pb2

CHUNK = 64 * 1024


def register(sub: argparse._SubParsersAction, parents: list) -> None:
    p = sub.add_parser("cp", parents=parents, help="Copy files and directories to and from containers",
                       usage="skiffctl cp <file-spec-src> <file-spec-dest> [-c CONTAINER]")
    p.add_argument("src")
    p.add_argument("dest")
    p.add_argument("-c", "--container", default="")
    p.add_argument("--no-preserve", action="store_true")
    p.set_defaults(run=cp)


@dataclass(frozen=True)
class Spec:
    namespace: str
    pod: str  # "" for a local path
    path: str


def parse_spec(arg: str) -> Spec:
    """`[namespace/]pod:path` or a local path, as kubectl's extractFileSpec."""
    if ":" not in arg or arg.startswith(("/", ".")):
        return Spec("", "", arg)
    pod, _, path = arg.partition(":")
    namespace, _, name = pod.rpartition("/")
    if not name or "/" in namespace:
        raise CommandError("filespec must match the canonical format: [[namespace/]pod:]file/path")
    return Spec(namespace, name, path)


async def run_exec(ctx: Context, spec: Spec, container: str, command: list[str],
                   stdin: bytes = b"") -> tuple[bytes, int]:
    """Runs command in the pod over Pods.ExecStream with stdin; its stdout and exit code (stderr is shown)."""
    start = node_agent_pb2.ExecRequest(namespace=spec.namespace or ctx.namespace, name=spec.pod,
                                       container=container, command=command)

    async def inputs():
        yield node_agent_pb2.ExecInput(start=start)
        for i in range(0, len(stdin), CHUNK):
            yield node_agent_pb2.ExecInput(stdin=stdin[i:i + CHUNK])
        yield node_agent_pb2.ExecInput(close_stdin=True)

    out, code = bytearray(), 0
    async for item in ctx.client.stub("Pod").ExecStream(inputs()):
        out += item.stdout
        if item.stderr:
            ctx.warn(item.stderr.decode(errors="replace").rstrip("\n"))
        if item.HasField("exit_code"):
            code = item.exit_code
    return bytes(out), code


def _tar_of(local: str, name: str, preserve: bool) -> bytes:
    if not os.path.exists(local):
        raise CommandError(f"{local} doesn't exist in local filesystem")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        def scrub(info: tarfile.TarInfo) -> tarfile.TarInfo:
            if not preserve:
                info.uid = info.gid = 0
                info.uname = info.gname = ""
            return info
        tar.add(local, arcname=name, filter=scrub)
    return buf.getvalue()


async def copy_to_pod(ctx: Context, src: str, dest: Spec, container: str, preserve: bool) -> None:
    path = dest.path
    if path.endswith("/") or (await run_exec(ctx, dest, container, ["test", "-d", path]))[1] == 0:
        path = posixpath.join(path, os.path.basename(src.rstrip("/")))
    data = _tar_of(src, posixpath.basename(path.rstrip("/")), preserve)
    command = ["tar", "-xmf", "-"] if preserve else ["tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-"]
    directory = posixpath.dirname(path.rstrip("/"))
    if directory:
        command += ["-C", directory]
    _, code = await run_exec(ctx, dest, container, command, data)
    if code:
        raise CommandError(f"command terminated with exit code {code}")


def _strip_prefix(path: str) -> str:
    """The archive's member prefix of a remote path: tar drops the leading slash and ../ shortcuts."""
    path = posixpath.normpath(path).lstrip("/")
    while path.startswith("../"):
        path = path[3:]
    return "" if path in ("..", ".") else path


def _inside(root: str, target: str) -> bool:
    root, target = os.path.abspath(root), os.path.abspath(target)
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


def untar(ctx: Context, data: bytes, dest: str, prefix: str) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar:
            if not member.name.startswith(prefix):
                raise CommandError("tar contents corrupted")
            target = os.path.normpath(os.path.join(dest, member.name[len(prefix):].lstrip("/")))
            if not _inside(dest, target):
                ctx.warn(f'warning: file "{target}" is outside target destination, skipping')
                continue
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.issym() or member.islnk():
                ctx.warn(f'warning: skipping symlink: "{target}" -> "{member.linkname}"')
            elif member.isfile():
                os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
                source = tar.extractfile(member)
                with open(target, "wb") as f:
                    f.write(source.read() if source else b"")
                os.chmod(target, member.mode & 0o777)


async def copy_from_pod(ctx: Context, src: Spec, dest: str, container: str) -> None:
    if not src.path:
        raise CommandError("remote path can not be empty")
    data, code = await run_exec(ctx, src, container, ["tar", "cf", "-", src.path])
    if code and not data:
        raise CommandError(f"command terminated with exit code {code}")
    untar(ctx, data, dest, _strip_prefix(src.path))


async def cp(args, ctx: Context) -> None:
    src, dest = parse_spec(args.src), parse_spec(args.dest)
    if src.pod and dest.pod:
        raise CommandError("one of src or dest must be a local file specification")
    if not src.pod and not dest.pod:
        raise CommandError("one of src or dest must be a remote file specification")
    if dest.pod:
        await copy_to_pod(ctx, src.path, dest, args.container, not args.no_preserve)
    else:
        await copy_from_pod(ctx, src, dest.path, args.container)
