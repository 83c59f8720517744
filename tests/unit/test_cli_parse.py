"""skiffctl's command line as kubectl's: flags anywhere, whole flag names, words after `--`."""

from __future__ import annotations

import pytest

from control.cli.main import parse_args


def test_positionals_after_flags():
    assert parse_args(["get", "pods", "-o", "wide", "web"]).resources == ["pods", "web"]
    assert parse_args(["taint", "nodes", "-l", "a=b", "k=v:NoSchedule"]).args == ["nodes", "k=v:NoSchedule"]
    assert parse_args(["expose", "deploy", "--port", "80", "web"]).resources == ["deploy", "web"]


def test_flags_are_never_abbreviated():
    args = parse_args(["version", "--client"])
    assert args.client is True and args.client_key is None
    with pytest.raises(SystemExit) as e:
        parse_args(["get", "pods", "--selec", "a=b"])
    assert e.value.code == 1


def test_words_after_dashes():
    assert parse_args(["run", "p", "--image", "x", "--", "sh", "-c", "echo"]).command == ["sh", "-c", "echo"]
    assert parse_args(["exec", "p", "--", "ls", "-l"]).command == ["ls", "-l"]
    with pytest.raises(SystemExit):
        parse_args(["get", "pods", "--", "x"])
