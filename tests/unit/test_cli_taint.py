"""kubectl taint's argument rules and the reorganisation of a node's taints."""

from __future__ import annotations

import pytest

from control.cli.commands.taint import (
    MODIFIED,
    TAINTED,
    UNTAINTED,
    Taint,
    check_conflicts,
    parse_taints,
    reorganize,
    split_args,
)
from control.cli.errors import CommandError, UsageError


def test_parse_forms():
    add, remove = parse_taints(["dedicated=special-user:NoSchedule", "bar:NoExecute", "gpu:PreferNoSchedule-",
                                "dedicated-"])
    assert add == [Taint("dedicated", "special-user", "NoSchedule"), Taint("bar", "", "NoExecute")]
    assert remove == [Taint("gpu", "", "PreferNoSchedule"), Taint("dedicated")]


@pytest.mark.parametrize(("spec", "message"), [
    ("a=b:Sometimes", "invalid taint effect: Sometimes, unsupported taint effect"),
    ("a=b", "invalid taint spec: a=b"),
    ("a=b=c:NoSchedule", "invalid taint spec: a=b=c:NoSchedule"),
    ("a:b:c", "invalid taint spec: a:b:c"),
    ("-bad:NoSchedule", "invalid taint spec: -bad:NoSchedule, name part must consist of"),
])
def test_parse_errors(spec, message):
    with pytest.raises(UsageError) as e:
        parse_taints([spec])
    assert str(e.value).startswith(message)
    assert str(e.value).endswith("See 'skiffctl taint -h' for help and examples")


def test_duplicate_in_one_command():
    with pytest.raises(UsageError, match=r"duplicated taints with the same key and effect: \{a 2 NoSchedule <nil>\}"):
        parse_taints(["a=1:NoSchedule", "a=2:NoSchedule"])


def test_split_args_order():
    assert split_args(["nodes", "n1", "n2", "a=b:NoSchedule", "c-"]) == (["nodes", "n1", "n2"],
                                                                        ["a=b:NoSchedule", "c-"])
    with pytest.raises(CommandError, match="all resources must be specified before taint changes: n2"):
        split_args(["nodes", "n1", "a=b:NoSchedule", "n2"])
    with pytest.raises(CommandError, match="at least one taint update is required"):
        split_args(["nodes", "n1"])


def test_conflicts():
    with pytest.raises(CommandError, match="remove the following taint\\(s\\) in the same command: a=$"):
        check_conflicts([Taint("a", "", "NoSchedule")], [Taint("a")])
    check_conflicts([Taint("a", "", "NoSchedule")], [Taint("a", "", "NoExecute")])


def test_reorganize():
    current = [{"key": "a", "value": "1", "effect": "NoSchedule"}, {"key": "b", "effect": "NoExecute"}]
    op, new = reorganize("n1", current, [Taint("c", "", "NoSchedule")], [], False)
    assert op == TAINTED and new[0] == {"key": "c", "effect": "NoSchedule"} and new[1:] == current
    op, new = reorganize("n1", current, [], [Taint("a")], False)
    assert (op, new) == (UNTAINTED, current[1:])
    op, new = reorganize("n1", current, [Taint("a", "2", "NoSchedule")], [], True)
    assert op == MODIFIED and new == [{"key": "a", "value": "2", "effect": "NoSchedule"}, current[1]]
    op, _ = reorganize("n1", current, [Taint("c", "", "NoSchedule")], [Taint("b", "", "NoExecute")], False)
    assert op == MODIFIED


def test_reorganize_errors():
    current = [{"key": "a", "value": "1", "effect": "NoSchedule"}]
    with pytest.raises(CommandError) as e:
        reorganize("n1", current, [Taint("a", "2", "NoSchedule")], [], False)
    assert str(e.value) == "node n1 already has a taint(s) with same effect(s) and --overwrite is false"
    with pytest.raises(CommandError) as e:
        reorganize("n1", current, [], [Taint("a", "", "NoExecute")], False)
    assert str(e.value) == 'taint "a:NoExecute" not found'
    with pytest.raises(CommandError) as e:
        reorganize("n1", current, [], [Taint("x"), Taint("y")], False)
    assert str(e.value) == '[taint "x" not found, taint "y" not found]'
