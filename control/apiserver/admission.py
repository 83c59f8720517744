"""Admission on create, after defaulting: DefaultTolerationSeconds for pods.

Every pod that doesn't already tolerate them gets NoExecute tolerations for
`node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable` bounded by
the configured seconds (300 in Kubernetes), so pods leave a failed node after
that long.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


@dataclass
class AdmissionOptions:
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300


def _tolerates_key(pod: Message, key: str) -> bool:
    return any((t.key == key or (not t.key and t.operator == "Exists"))
               and t.effect in ("", "NoExecute") for t in pod.spec.tolerations)


def admit(obj: Message, options: AdmissionOptions) -> None:
    if obj.kind != "Pod":
        return
    for key, seconds in ((NOT_READY, options.default_not_ready_toleration_seconds),
                         (UNREACHABLE, options.default_unreachable_toleration_seconds)):
        if not _tolerates_key(obj, key):
            obj.spec.tolerations.add(key=key, operator="Exists", effect="NoExecute", toleration_seconds=seconds)
