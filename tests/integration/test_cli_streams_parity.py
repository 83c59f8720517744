"""skiffctl's streaming verbs (port-forward, attach, cp, debug, exec, run -i) against the machine's kubectl
on one apiserver, where no node runs the pods: the same refusals in the same words and exit codes."""

from __future__ import annotations

import pytest

from control.client.convert import from_dict
from tests.fixtures.parity import BothClis, both_clis
from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer


@pytest.fixture
def both(rest: RestServer, pki: Pki, tmp_path) -> BothClis:
    return both_clis(rest, pki, tmp_path)

PENDING = [
    ("port-forward", "pod/X", "8080:80"),
    ("port-forward", "svc/nosuch", "80"),
    ("port-forward", "pod/X"),
    ("port-forward", "pod/X", "x:80"),
    ("cp", "/tmp/a", "/tmp/b"),
    ("cp", "X:/tmp/a", "X:/tmp/b"),
    ("attach", "X"),
    ("attach", "X", "-i"),
    ("attach", "X", "-c", "nope"),
    ("exec", "X", "--", "true"),
    ("debug", "X"),
    ("debug", "X", "--image=busybox", "-t"),
    ("run", "X2", "--image=busybox", "-t"),
]


async def test_streaming_verbs_refuse_alike(both, client):
    for name in ("kname", "sname"):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": name, "namespace": "default"},
                                       "spec": {"containers": [{"name": "c", "image": "busybox"}]}}))
    differences = []
    for command in PENDING:
        k, s = await both(*command)
        if s != k:
            differences.append((command, "kubectl:", k, "skiffctl:", s))
    assert not differences, "\n".join(map(str, differences))
