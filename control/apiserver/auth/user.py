"""The authenticated caller, as Kubernetes' user.Info: a name and groups."""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM_MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""

    @property
    def node_name(self) -> str | None:
        """The node a `system:node:<name>` identity in `system:nodes` speaks for, else None."""
        if NODES_GROUP in self.groups and self.name.startswith(NODE_USER_PREFIX):
            return self.name[len(NODE_USER_PREFIX):] or None
        return None
