"""The authenticated caller, as Kubernetes' user.Info: a name, groups, a uid and extra values."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import struct_pb2

SYSTEM_MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()  # key -> values, as user.Info's Extra

    def fill(self, out) -> None:
        """Into an authentication.k8s.io UserInfo message."""
        out.username, out.uid = self.name, self.uid
        out.groups.extend(self.groups)
        for key, values in self.extra:
            out.extra[key].values.extend(struct_pb2.Value(string_value=v) for v in values)

    @property
    def node_name(self) -> str | None:
        """The node a `system:node:<name>` identity in `system:nodes` speaks for, else None."""
        if NODES_GROUP in self.groups and self.name.startswith(NODE_USER_PREFIX):
            return self.name[len(NODE_USER_PREFIX):] or None
        return None
