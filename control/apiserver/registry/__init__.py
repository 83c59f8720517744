"""The apiserver's registry: one module per kind (`<kind>.py`, the kind's name in lower case),
each defining `strategy` with the kind's server rules (see base.Strategy).

Which modules exist is derived from the kind table: every declared kind must have one
(`strategy_for` fails loudly otherwise, and a unit test checks them all).
"""

from __future__ import annotations

import importlib

from google.protobuf.message import Message

from control.apiserver.registry.base import Strategy
from control.apiserver.validation.errors import FieldViolation
from control.apiserver.validation.meta import validate_object_meta, validate_object_meta_update
from control.client.kinds import KINDS, Kind, kind_of

__all__ = ["Strategy", "strategy_for", "apply_defaults", "validate", "module_name"]

_LOADED: dict[str, Strategy] = {}


def module_name(kind: Kind) -> str:
    return f"{__name__}.{kind.singular}"


def strategy_for(kind: Kind) -> Strategy:
    strategy = _LOADED.get(kind.kind)
    if strategy is None:
        module = importlib.import_module(module_name(kind))
        strategy = module.strategy
        if not isinstance(strategy, Strategy):
            raise TypeError(f"{module_name(kind)}.strategy is not a registry Strategy")
        _LOADED[kind.kind] = strategy
    return strategy


def load_all() -> dict[str, Strategy]:
    """Every kind's strategy (imported eagerly at start, so a missing module fails at once)."""
    return {name: strategy_for(kind) for name, kind in KINDS.items()}


def apply_defaults(obj: Message) -> None:
    """Fills Kubernetes' defaults into `obj` in place."""
    strategy_for(kind_of(obj)).default(obj)


def validate(obj: Message, old: Message | None = None) -> list[FieldViolation]:
    """All violations of `obj` (and, on update, of the change from `old`). Objects are expected to
    have been defaulted first."""
    kind = kind_of(obj)
    strategy = strategy_for(kind)
    errs = validate_object_meta(obj.metadata, kind, strategy.name_check)
    errs += strategy.validate(obj)
    if old is not None:
        errs += validate_object_meta_update(obj.metadata, old.metadata)
        errs += strategy.validate_update(obj, old)
    return errs
