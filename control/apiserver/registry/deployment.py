"""Deployments (apps/v1): RollingUpdate 25 %/25 %, revisionHistoryLimit 10, progress deadline
600 s by default; the selector is immutable."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import apps


class DeploymentStrategy(Strategy):
    def default(self, obj: Message) -> None:
        defaults.default_deployment(obj)

    def validate(self, obj: Message) -> list:
        return apps.validate_deployment(obj)

    def validate_update(self, new: Message, old: Message) -> list:
        return apps.validate_selector_update(new, old)


strategy = DeploymentStrategy()
