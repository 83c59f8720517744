"""The lab's HA control plane: member addresses stay clear of the host and the nodes, every client
names every apiserver, and members are refused when the lab has none."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from lablib import controlplanes  # noqa: E402
from lablib.config import APISERVER, HOST_IP, MAX_NODES, Node  # noqa: E402


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def record(n: int) -> None:
        path = tmp_path / "control-planes.json"
        path.write_text(json.dumps({"count": n}))
        monkeypatch.setattr(controlplanes, "_CONFIG", str(path))
    monkeypatch.setattr(controlplanes, "_CONFIG", str(tmp_path / "missing.json"))
    return record


def test_member_addresses_are_apart_from_the_host_and_every_node():
    members = controlplanes.members(controlplanes.MAX_CONTROL_PLANES)
    ips = [m.ip for m in members]
    assert ips[:3] == ["172.31.250.2", "172.31.250.3", "172.31.250.4"]
    taken = {HOST_IP} | {Node(i).ip for i in range(1, MAX_NODES + 1)}
    assert not set(ips) & taken and len(set(ips)) == len(ips)
    assert members[0].etcd_url == "https://172.31.250.2:23790" and members[0].netns == "cp-1"


def test_clients_name_every_apiserver(recorded):
    assert controlplanes.apiservers() == [APISERVER]  # no record: the control plane on the host
    recorded(3)
    assert controlplanes.apiserver_target() == "172.31.250.2:6443,172.31.250.3:6443,172.31.250.4:6443"


def test_members_are_named_by_number(recorded):
    with pytest.raises(ValueError, match="one control plane on the host"):
        controlplanes.member_named("1")
    recorded(3)
    assert controlplanes.member_named("2").name == "cp-2"
    for bad in ("0", "4", "cp-1", ""):
        with pytest.raises(ValueError, match="members 1 … 3"):
            controlplanes.member_named(bad)
