"""Every manifest of the Kubernetes examples corpus whose kinds are served is valid once defaulted
and prepared for create as the apiserver does (which generates a Job's selector)."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.apiserver import strategy
from control.apiserver.registry import apply_defaults, strategy_for, validate
from control.client.convert import from_dict
from control.client.kinds import kind_of
from tests.fixtures.examples import documents as _documents
from tests.fixtures.examples import ids, served_files

FILES = served_files()


def _created(doc: dict):
    obj = from_dict(doc)
    apply_defaults(obj)
    strategy.prepare_for_create(kind_of(obj), obj)
    strategy_for(kind_of(obj)).prepare_for_create(obj)
    return obj


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_example_is_valid(path: Path) -> None:
    docs = _documents(path)
    assert docs
    for doc in docs:
        obj = _created(doc)
        problems = [(v.field, v.description) for v in validate(obj)]
        assert problems == [], f"{doc['kind']} {doc['metadata'].get('name')}: {problems}"


def test_examples_cover_every_workload_kind() -> None:
    kinds = {doc["kind"] for path in FILES for doc in _documents(path)}
    assert {"Pod", "Deployment", "ReplicaSet", "Service", "ConfigMap", "Secret", "Namespace"} <= kinds


def test_examples_still_validate_as_updates_of_themselves() -> None:
    for path in FILES:
        for doc in _documents(path):
            obj = _created(doc)
            assert [v.field for v in validate(obj, obj)] == [], path.name
