"""Containers' termination messages: the file mounted at terminationMessagePath, read once a container exits.

With terminationMessagePolicy FallbackToLogsOnError an empty file on a failed
exit falls back to the tail of the container's log, as the kubelet does.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cri.runtime.v1 import api_pb2 as cri_pb
from node import podstatus
from node.logs import LogReader, tail_offset
from node.runtime.config import termination_message_path
from skiff.v1 import node_agent_pb2 as na_pb
from skiff.v1 import pod_pb2

MESSAGE_LIMIT = 4096
FALLBACK_LINES = 80
FALLBACK_LIMIT = 2048


class TerminationMessages:
    def __init__(self, pod_dir: Callable[[str], str]) -> None:
        self._pod_dir = pod_dir
        self._messages: dict[str, str] = {}  # container id -> message, read once

    def path(self, uid: str, name: str, attempt: int) -> str:
        return os.path.join(self._pod_dir(uid), "containers", name, str(attempt), "termination-log")

    def mount(self, uid: str, spec: pod_pb2.Container, attempt: int) -> cri_pb.Mount:
        """A fresh, empty file per attempt, so a restart never reports the previous attempt's message."""
        path = self.path(uid, spec.name, attempt)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w"):
            pass
        return cri_pb.Mount(container_path=termination_message_path(spec), host_path=path)

    def messages(self, uid: str, spec: pod_pb2.Container, statuses: list[cri_pb.ContainerStatus]) -> dict[str, str]:
        out = {}
        for s in statuses:
            if s.state != cri_pb.CONTAINER_EXITED:
                continue
            if s.id not in self._messages:
                self._messages[s.id] = self._read(uid, spec, s)
            out[s.id] = self._messages[s.id]
        return out

    def forget(self, container_id: str) -> None:
        self._messages.pop(container_id, None)

    def _read(self, uid: str, spec: pod_pb2.Container, s: cri_pb.ContainerStatus) -> str:
        try:
            with open(self.path(uid, spec.name, podstatus.restart_count(s)), "rb") as f:
                text = f.read(MESSAGE_LIMIT).decode("utf-8", errors="replace")
        except OSError:
            text = ""
        if text or s.exit_code == 0 or spec.termination_message_policy != "FallbackToLogsOnError":
            return text
        return log_tail(s.log_path, lines=FALLBACK_LINES, limit=FALLBACK_LIMIT)


def log_tail(path: str, lines: int, limit: int) -> str:
    """The last lines of a CRI log file as plain text, read as `kubectl logs --tail` reads them (so the
    kubelet's fallback does), cut to the last `limit` characters."""
    try:
        with open(path, "rb") as f:
            f.seek(tail_offset(f, lines))
            text, _ = LogReader(na_pb.LogsRequest(tail_lines=lines)).initial(f.read())
    except OSError:
        return ""
    return text.decode("utf-8", errors="replace")[-limit:]
