"""What every command gets: the client, the resolved config, output streams, and argument helpers."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from control.cli.config import Config
from control.cli.errors import CommandError
from control.client.client import Client
from control.client.kinds import Kind, in_category, lookup
from control.client.kubeconfig import make_channel


@dataclass
class Context:
    client: Client
    config: Config
    namespace_given: bool = False  # -n on the command line (apply checks manifests against it)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    failed: bool = False  # some part failed; the command still went on and exits 1
    exit_code: int = 0  # set by exec: the remote command's own exit code

    @property
    def namespace(self) -> str:
        return self.config.namespace

    def out(self, text: str) -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    def warn(self, text: str) -> None:
        """A message on stderr that is not a failure (kubectl's warnings and retries)."""
        self.stderr.write(text if text.endswith("\n") else text + "\n")
        self.stderr.flush()

    def err(self, text: str) -> None:
        self.warn(text)
        self.failed = True

    def namespace_for(self, kind: Kind, all_namespaces: bool = False) -> str:
        if not kind.namespaced or all_namespaces:
            return ""
        return self.namespace


def make_client(config: Config) -> Client:
    return Client(config.target, make_channel(config.target, config))


def parse_resources(args: list[str]) -> list[tuple[Kind, str | None]]:
    """kubectl's resource arguments: `KIND`, `KIND NAME...`, `KIND/NAME...`, `pods,svc`."""
    if not args:
        raise CommandError("you must specify the type of resource to get")
    if any("/" in a for a in args):
        return [_kind_slash_name(a) for a in args]
    kinds = [kind for k in args[0].split(",") if k for kind in _expand_category(k)]
    names = args[1:]
    if names and len(kinds) > 1:
        raise CommandError("you may only specify a single resource type when naming resources")
    if not names:
        return [(k, None) for k in kinds]
    return [(kinds[0], n) for n in names]


def _expand_category(name: str) -> list[Kind]:
    """A category (`all`) names its kinds in discovery's order: the core group first, then by group,
    resources alphabetically within a group; any other name is one kind."""
    kinds = in_category(name.lower())
    if kinds:
        return sorted(kinds, key=lambda k: (k.group, k.plural))
    return [lookup(name)]


def _kind_slash_name(arg: str) -> tuple[Kind, str]:
    kind, _, name = arg.partition("/")
    if not kind or not name:
        raise CommandError(f"arguments in resource/name form must have a single resource and name: {arg}")
    return lookup(kind), name


def one_resource(arg: str, default_kind: str | None = None, allowed: tuple[str, ...] = ()) -> tuple[Kind, str]:
    """A single `KIND/NAME` (or bare NAME when the verb implies the kind)."""
    if "/" in arg:
        kind, name = _kind_slash_name(arg)
    elif default_kind:
        kind, name = lookup(default_kind), arg
    else:
        raise CommandError(f"arguments in resource/name form must have a single resource and name: {arg}")
    if allowed and kind.kind not in allowed:
        raise CommandError(f'no {"/".join(allowed)} named "{name}" ({kind.qualified} is not supported)')
    return kind, name
