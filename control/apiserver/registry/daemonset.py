"""DaemonSets (apps/v1): RollingUpdate with maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10
by default; the selector is immutable. The server keeps the template's generation in the
`deprecated.daemonset.template.generation` annotation (apps/v1's form of the old
spec.templateGeneration): 1 on create, one more whenever the template changes."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import apps, apps_sets
from control.client.wellknown import ANNOTATION_TEMPLATE_GENERATION


class DaemonSetStrategy(Strategy):
    def prepare_for_create(self, obj: Message) -> None:
        super().prepare_for_create(obj)
        obj.metadata.annotations[ANNOTATION_TEMPLATE_GENERATION] = "1"

    def prepare_for_update(self, new: Message, old: Message) -> None:
        generation = _generation(old)
        if new.spec.template != old.spec.template:
            generation += 1
        new.metadata.annotations[ANNOTATION_TEMPLATE_GENERATION] = str(generation)


def _generation(ds: Message) -> int:
    try:
        return int(ds.metadata.annotations.get(ANNOTATION_TEMPLATE_GENERATION, "1"))
    except ValueError:
        return 1


strategy = DaemonSetStrategy(default=defaults.default_daemon_set, validate=apps_sets.validate_daemon_set,
                             validate_update=apps.validate_selector_update)
