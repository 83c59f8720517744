"""Secrets (v1): type defaults to Opaque; the write-only stringData lands in data (stringData
wins); encrypted at rest by the storage layer."""

from __future__ import annotations

from google.protobuf.message import Message

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import core


def merge_string_data(secret: Message) -> None:
    for key, value in secret.string_data.items():
        secret.data[key] = value.encode()
    secret.string_data.clear()


class SecretStrategy(Strategy):
    def prepare_for_create(self, obj: Message) -> None:
        merge_string_data(obj)

    def prepare_for_update(self, new: Message, old: Message) -> None:
        merge_string_data(new)


strategy = SecretStrategy(default=defaults.default_secret, validate=core.validate_secret,
                          validate_update=core.validate_secret_update)
