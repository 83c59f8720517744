"""PriorityClasses (scheduling.k8s.io/v1): names for pod priorities; one may be the global default."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import priority
from control.apiserver.context import ApiContext
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import priorityclasses
from control.client.wellknown import PREEMPT_LOWER_PRIORITY


def _default(pc: Message) -> None:
    if not pc.HasField("preemption_policy"):
        pc.preemption_policy = PREEMPT_LOWER_PRIORITY


class PriorityClassStrategy(Strategy):
    async def admit(self, obj: Message, api: ApiContext) -> None:
        priority.admit_priority_class(obj, api)


strategy = PriorityClassStrategy(default=_default, validate=priorityclasses.validate_priority_class,
                                 validate_update=priorityclasses.validate_priority_class_update)
