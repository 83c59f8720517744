"""Every field of Kubernetes' own types, for every served kind, is in Skiff's messages.

The official `kubernetes` client's models list each type's fields with their JSON names and types.
For every kind of the kind table, an object with every field set (recursively) is parsed into the
kind's message and printed back: a field unknown to Skiff fails naming its path, and a field that
does not come back equal fails too. A field added upstream shows up here once the client moves.
"""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import models

from control.client.convert import ManifestError, from_dict, to_dict
from control.client.kinds import KINDS, Kind

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("schema_proto", ROOT / "scripts" / "gen" / "schema_proto.py")
schema_proto = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(schema_proto)

SAMPLE_SCALARS: dict[str, Any] = {
    "str": "x", "int": 7, "bool": True, "float": 1.5, "object": "x",
    "datetime": "2024-01-02T03:04:05Z", "date": "2024-01-02T03:04:05Z",
    "bytes": base64.b64encode(b"x").decode(),
}
MAX_DEPTH = 12  # recursive types (none among served kinds today) stop here


def sample(type_text: str, depth: int = 0) -> Any:
    if type_text.startswith("List["):
        return [sample(type_text[5:-1], depth)]
    if type_text.startswith("Dict[str, "):
        return {"k": sample(type_text[len("Dict[str, "):-1], depth)}
    if type_text in SAMPLE_SCALARS:
        return SAMPLE_SCALARS[type_text]
    return sample_object(type_text, depth + 1)


def sample_object(model: str, depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        return {}
    cls = getattr(models, model)
    return {cls.attribute_map[a]: sample(t, depth) for a, t in cls.openapi_types.items()}


def full_object(kind: Kind) -> dict[str, Any]:
    obj = sample_object(schema_proto.kind_model(kind.group, kind.version, kind.kind), 0)
    obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
    return obj


def differences(want: Any, got: Any, path: str = "") -> list[str]:
    if isinstance(want, dict) and isinstance(got, dict):
        found = [f"{path}.{k}: missing after a round trip" for k in want if k not in got]
        found += [f"{path}.{k}: not sent, yet returned" for k in got if k not in want]
        for key in want.keys() & got.keys():
            found += differences(want[key], got[key], f"{path}.{key}")
        return found
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [d for i, (w, g) in enumerate(zip(want, got, strict=True)) for d in differences(w, g, f"{path}[{i}]")]
    return [] if want == got else [f"{path}: sent {want!r}, got {got!r}"]


@pytest.mark.parametrize("kind", [v for k in KINDS.values() for v in k.versions], ids=lambda k: f"{k.kind}.{k.version}")
def test_every_upstream_field_is_accepted_and_returned(kind: Kind) -> None:
    obj = full_object(kind)
    try:
        msg = from_dict(obj, kind)
    except ManifestError as e:
        pytest.fail(f"{kind.kind}: {e}")
    problems = differences(obj, to_dict(msg))
    assert not problems, f"{kind.kind}:\n" + "\n".join(problems)


def test_the_sample_covers_nested_types() -> None:
    pod = full_object(KINDS["Pod"])
    security = pod["spec"]["securityContext"]
    assert security["seccompProfile"] == {"localhostProfile": "x", "type": "x"}
    assert "topologySpreadConstraints" in pod["spec"] and "ephemeral" in pod["spec"]["volumes"][0]
