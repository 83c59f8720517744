"""User namespaces for pods with `hostUsers: false` (the kubelet's userns manager).

The runtime must say it can make them: CRI Status lists each runtime handler with its features,
and a handler without `user_namespaces` (or a runtime that lists no handlers, as containerd before
2.0) cannot, so the sandbox is refused with the kubelet's message and retried. Where it can, each
such pod gets a range of 65536 host IDs of its own, mapped to IDs 0-65535 inside, kept in a file
in the pod's directory so an agent restarted later hands the pod the same range.
"""

from __future__ import annotations

import json
import os

from cri.runtime.v1 import api_pb2 as cri_pb
from node.cri import CRI, CRIError
from node.volumes import pod_dir
from skiff.v1 import pod_pb2

UNSUPPORTED = "can't set `spec.hostUsers: false`, runtime does not support user namespaces"
LENGTH = 65536  # IDs per pod
FIRST_ID = LENGTH  # host IDs below this (the node's own users) are never handed out
MAPPINGS_FILE = "userns"


def wants_user_namespace(pod: pod_pb2.Pod) -> bool:
    return pod.spec.HasField("host_users") and not pod.spec.host_users


async def handler_supports(cri: CRI, handler: str = "") -> bool:
    """Whether the runtime's handler (the default one: "") says it makes user namespaces."""
    try:
        handlers = await cri.runtime_handlers()
    except CRIError:
        return False
    return any(h.name == handler and h.features.user_namespaces for h in handlers)


class UserNamespaces:
    """Allocates each pod's host ID range, recorded in `<root>/pods/<uid>/userns`."""

    def __init__(self, root_dir: str, max_pods: int) -> None:
        self.root_dir = root_dir
        self.max_pods = max_pods

    def _file(self, uid: str) -> str:
        return os.path.join(pod_dir(self.root_dir, uid), MAPPINGS_FILE)

    def _recorded(self, uid: str) -> int | None:
        try:
            with open(self._file(uid)) as f:
                return int(json.load(f)["hostID"])
        except (OSError, ValueError, KeyError):
            return None

    def _taken(self) -> set[int]:
        pods = os.path.join(self.root_dir, "pods")
        uids = os.listdir(pods) if os.path.isdir(pods) else []
        return {first for uid in uids if (first := self._recorded(uid)) is not None}

    def host_id(self, uid: str) -> int:
        """The pod's first host ID: the one recorded, else the lowest free range (recorded now)."""
        first = self._recorded(uid)
        if first is not None:
            return first
        taken = self._taken()
        free = (FIRST_ID + i * LENGTH for i in range(self.max_pods))
        first = next((f for f in free if f not in taken), None)
        if first is None:
            raise RuntimeError("no user namespace range left on this node")
        os.makedirs(pod_dir(self.root_dir, uid), exist_ok=True)
        with open(self._file(uid), "w") as f:
            json.dump({"hostID": first, "length": LENGTH}, f)
        return first

    def options(self, uid: str) -> cri_pb.UserNamespace:
        mapping = cri_pb.IDMapping(host_id=self.host_id(uid), container_id=0, length=LENGTH)
        return cri_pb.UserNamespace(mode=cri_pb.POD, uids=[mapping], gids=[mapping])
