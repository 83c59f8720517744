"""Every declared kind has its server rules: a registry module whose strategy handles the kind's
own RPCs, defaults and validates its objects; nothing in the registry lacks a kind."""

from __future__ import annotations

import pkgutil
from types import SimpleNamespace

import pytest

import control.apiserver.registry as registry
from control.apiserver.registry import Strategy, apply_defaults, strategy_for, validate
from control.client.kinds import KINDS, Kind

KIND_LIST = list(KINDS.values())


@pytest.mark.parametrize("kind", KIND_LIST, ids=lambda k: k.kind)
def test_every_kind_has_a_registry_module(kind: Kind) -> None:
    assert isinstance(strategy_for(kind), Strategy)


def test_every_registry_module_belongs_to_a_kind() -> None:
    modules = {m.name for m in pkgutil.iter_modules(registry.__path__)} - {"base"}
    assert modules == {k.singular for k in KIND_LIST}


@pytest.mark.parametrize("kind", KIND_LIST, ids=lambda k: k.kind)
def test_the_kinds_own_rpcs_have_handlers(kind: Kind) -> None:
    agents = SimpleNamespace(stats=None, exec=None, logs=None, exec_stream=None, attach=None, port_forward=None)
    guard = SimpleNamespace(unary=lambda fn, action: fn, streaming=lambda fn, action: fn,
                            exec_stream=lambda relay, action, first_name="": relay)
    methods = strategy_for(kind).rpc_methods(SimpleNamespace(agents=agents), guard)
    assert set(methods) == {r.name for r in kind.rpcs}


@pytest.mark.parametrize("kind", KIND_LIST, ids=lambda k: k.kind)
def test_an_empty_object_is_defaulted_and_refused_with_field_paths(kind: Kind) -> None:
    obj = kind.new()
    apply_defaults(obj)
    violations = validate(obj)
    assert any(v.field == "metadata.name" for v in violations), violations


@pytest.mark.parametrize("kind", KIND_LIST, ids=lambda k: k.kind)
def test_a_named_object_validates_without_exceptions(kind: Kind) -> None:
    obj = kind.new()
    obj.metadata.name = "example"
    if kind.namespaced:
        obj.metadata.namespace = "default"
    apply_defaults(obj)
    old = kind.new()
    old.CopyFrom(obj)
    for v in validate(obj, old):
        assert v.field and v.description
