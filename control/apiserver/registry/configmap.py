"""ConfigMaps (v1): data and binaryData, immutable once `immutable` is set."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import core


class ConfigMapStrategy(Strategy):
    def validate(self, obj: Message) -> list:
        return core.validate_config_map(obj)

    def validate_update(self, new: Message, old: Message) -> list:
        return core.validate_config_map_update(new, old)


strategy = ConfigMapStrategy()
