"""skiff-scheduler's flags: kube-scheduler's names, defaults and duration syntax."""

from __future__ import annotations

import pytest

from control.scheduler.main import parse_args


def test_defaults_match_kube_scheduler():
    args = parse_args(["--apiserver", "127.0.0.1:1"])
    assert args.leader_elect is True
    assert (args.leader_elect_lease_duration, args.leader_elect_renew_deadline,
            args.leader_elect_retry_period) == (15, 10, 2)
    assert args.percentage_of_nodes_to_score == 0
    assert args.scheduler_name == "default-scheduler"


@pytest.mark.parametrize("flag, value", [("15s", 15), ("1m30s", 90), ("500ms", 0.5), ("2.5", 2.5)])
def test_durations(flag, value):
    args = parse_args(["--leader-elect-lease-duration", flag, "--leader-elect-renew-deadline", "0.4",
                       "--leader-elect-retry-period", "0.1"])
    assert args.leader_elect_lease_duration == value


def test_leader_elect_can_be_switched_off():
    assert parse_args(["--leader-elect=false"]).leader_elect is False
    assert parse_args(["--leader-elect"]).leader_elect is True


@pytest.mark.parametrize("argv", [
    ["--leader-elect-lease-duration", "5", "--leader-elect-renew-deadline", "10"],
    ["--leader-elect-lease-duration", "15x"],
    ["--percentage-of-nodes-to-score", "101"],
    ["--leader-elect", "maybe"],
])
def test_bad_flags_are_rejected(argv, capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(argv)
    assert e.value.code == 2
    assert "error" in capsys.readouterr().err
