"""Endpoints (v1): written by the endpoints controller from a Service's ready pods."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import service


class EndpointsStrategy(Strategy):
    def default(self, obj: Message) -> None:
        defaults.default_endpoints(obj)

    def validate(self, obj: Message) -> list:
        return service.validate_endpoints(obj)


strategy = EndpointsStrategy()
