"""Every field of Kubernetes' own types, for every served kind, is in Skiff's messages.

The official `kubernetes` client's models list each type's fields with their JSON names and types.
For every kind of the kind table, an object with every field set (recursively) is parsed into the
kind's message and printed back: a field unknown to Skiff fails naming its path, and a field that
does not come back equal fails too. A field added upstream shows up here once the client moves.
"""

from __future__ import annotations

import pytest

from control.client.convert import ManifestError, from_dict, to_dict
from control.client.kinds import KINDS, Kind
from tests.fixtures.schema import differences, full_object


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
