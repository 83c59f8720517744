"""ReplicaSets (apps/v1): replicas default to 1; the selector is immutable."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import apps


class ReplicaSetStrategy(Strategy):
    def default(self, obj: Message) -> None:
        defaults.default_replica_set(obj)

    def validate(self, obj: Message) -> list:
        return apps.validate_replica_set(obj)

    def validate_update(self, new: Message, old: Message) -> list:
        return apps.validate_selector_update(new, old)


strategy = ReplicaSetStrategy()
