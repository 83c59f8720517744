"""Events (v1): expire after the apiserver's --event-ttl (the storage layer's etcd leases)."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import core


class EventStrategy(Strategy):
    def validate(self, obj: Message) -> list:
        return core.validate_event(obj)


strategy = EventStrategy()
