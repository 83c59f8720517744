"""Leases (coordination.k8s.io/v1): leader election and node heartbeats."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import core


class LeaseStrategy(Strategy):
    def validate(self, obj: Message) -> list:
        return core.validate_lease(obj)


strategy = LeaseStrategy()
