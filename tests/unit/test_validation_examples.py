"""Every manifest of the Kubernetes examples corpus whose kinds are served is valid once defaulted."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.apiserver.registry import apply_defaults, validate
from control.client.convert import from_dict
from tests.fixtures.examples import documents as _documents
from tests.fixtures.examples import ids, served_files

FILES = served_files()


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_example_is_valid(path: Path) -> None:
    docs = _documents(path)
    assert docs
    for doc in docs:
        obj = from_dict(doc)
        apply_defaults(obj)
        problems = [(v.field, v.description) for v in validate(obj)]
        assert problems == [], f"{doc['kind']} {doc['metadata'].get('name')}: {problems}"


def test_examples_cover_every_workload_kind() -> None:
    kinds = {doc["kind"] for path in FILES for doc in _documents(path)}
    assert {"Pod", "Deployment", "ReplicaSet", "Service", "ConfigMap", "Secret", "Namespace"} <= kinds


def test_examples_still_validate_as_updates_of_themselves() -> None:
    for path in FILES:
        for doc in _documents(path):
            obj = from_dict(doc)
            apply_defaults(obj)
            assert [v.field for v in validate(obj, obj)] == [], path.name
