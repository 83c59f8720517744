"""Admission on create, after defaulting: DefaultTolerationSeconds and ServiceAccount for pods.

Every pod that doesn't already tolerate them gets NoExecute tolerations for
`node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable` bounded by
the configured seconds (300 in Kubernetes), so pods leave a failed node after
that long.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from control.client.wellknown import NO_EXECUTE, TAINT_NOT_READY, TAINT_UNREACHABLE

# The built-in admission plugins that can be turned off (--disable-admission-plugins), in
# kube-apiserver's names.
PLUGINS = ("ServiceAccount", "DefaultTolerationSeconds", "LimitRanger", "Priority")


class PluginError(ValueError):
    pass


def parse_plugins(text: str) -> frozenset[str]:
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(names - set(PLUGINS))
    if unknown:
        raise PluginError(f"--disable-admission-plugins: unknown or not optional here: {', '.join(unknown)} "
                          f"(these can be turned off: {', '.join(PLUGINS)})")
    return names


@dataclass
class AdmissionOptions:
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    disabled: frozenset[str] = frozenset()

    def enabled(self, plugin: str) -> bool:
        return plugin not in self.disabled


def _tolerates_key(pod: Message, key: str) -> bool:
    return any((t.key == key or (not t.key and t.operator == "Exists"))
               and t.effect in ("", NO_EXECUTE) for t in pod.spec.tolerations)


def add_default_tolerations(pod: Message, options: AdmissionOptions) -> None:
    for key, seconds in ((TAINT_NOT_READY, options.default_not_ready_toleration_seconds),
                         (TAINT_UNREACHABLE, options.default_unreachable_toleration_seconds)):
        if not _tolerates_key(pod, key):
            pod.spec.tolerations.add(key=key, operator="Exists", effect=NO_EXECUTE, toleration_seconds=seconds)


DEFAULT_SERVICE_ACCOUNT = "default"


def set_service_account(pod: Message) -> None:
    """The ServiceAccount plugin's defaulting: `default` unless named; the deprecated `serviceAccount`
    mirrors `serviceAccountName`."""
    spec = pod.spec
    name = spec.service_account_name or spec.service_account or DEFAULT_SERVICE_ACCOUNT
    spec.service_account_name = spec.service_account = name
