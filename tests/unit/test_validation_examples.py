"""Every manifest of the Kubernetes examples corpus is valid once defaulted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from control.apiserver.registry import apply_defaults, validate
from control.client.convert import from_dict
from tests.fixtures.examples import EXAMPLES as EXAMPLES_DIR

EXAMPLES = EXAMPLES_DIR
FILES = sorted(EXAMPLES.glob("*.yaml")) if EXAMPLES.is_dir() else []


def _documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


@pytest.mark.skipif(not FILES, reason="examples corpus not present")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_example_is_valid(path: Path) -> None:
    docs = _documents(path)
    assert docs
    for doc in docs:
        obj = from_dict(doc)
        apply_defaults(obj)
        problems = [(v.field, v.description) for v in validate(obj)]
        assert problems == [], f"{doc['kind']} {doc['metadata'].get('name')}: {problems}"


@pytest.mark.skipif(not FILES, reason="examples corpus not present")
def test_examples_cover_every_workload_kind() -> None:
    kinds = {doc["kind"] for path in FILES for doc in _documents(path)}
    assert {"Pod", "Deployment", "ReplicaSet", "Service", "ConfigMap", "Secret", "Namespace"} <= kinds


@pytest.mark.skipif(not FILES, reason="examples corpus not present")
def test_examples_still_validate_as_updates_of_themselves() -> None:
    for path in FILES:
        for doc in _documents(path):
            obj = from_dict(doc)
            apply_defaults(obj)
            assert [v.field for v in validate(obj, obj)] == [], path.name
