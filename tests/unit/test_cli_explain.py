"""explain's text from the kinds' messages: headers, type hints, field paths, recursion."""

from __future__ import annotations

import pytest

from control.cli.explain import ExplainError, explain
from control.client.kinds import KINDS, lookup


def test_field_path_layout():
    fields = [("containerPort", "<integer> -required-"), ("hostIP", "<string>"), ("hostPort", "<integer>"),
              ("name", "<string>"), ("protocol", "<string>")]
    assert explain(lookup("pod"), ["spec", "containers", "ports"]) == (
        "KIND:       Pod\nVERSION:    v1\n\n"
        "FIELD: ports <[]ContainerPort>\n\n\n"
        "DESCRIPTION:\n    <empty>\n"
        "FIELDS:\n" + "".join(f"  {name}\t{hint}\n    <no description>\n\n" for name, hint in fields) + "\n")
    assert "  limits\t<map[string]Quantity>\n" in explain(lookup("pod"), ["spec", "containers", "resources"])


def test_kind_header_and_type_hints():
    text = explain(lookup("deployments"), [])
    assert text.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nDESCRIPTION:\n    <empty>\n"
                           "FIELDS:\n  apiVersion\t<string>\n")
    assert "  metadata\t<ObjectMeta>\n" in text and "  spec\t<DeploymentSpec>\n" in text
    spec = explain(lookup("pod"), ["spec"])
    for line in ("  containers\t<[]Container> -required-\n", "  nodeSelector\t<map[string]string>\n",
                 "  hostNetwork\t<boolean>\n", "  terminationGracePeriodSeconds\t<integer>\n"):
        assert line in spec
    assert "FIELD: creationTimestamp <string>\n" in explain(lookup("cm"), ["metadata", "creationTimestamp"])
    assert "FIELD: targetPort <IntOrString>\n" in explain(lookup("svc"), ["spec", "ports", "targetPort"])
    assert "FIELD: clusterIP <string>\n" in explain(lookup("svc"), ["spec", "clusterIP"])


def test_fields_sorted_and_recursive():
    text = explain(lookup("pod"), ["spec", "containers"], recursive=True)
    lines = text.split("FIELDS:\n", 1)[1].splitlines()
    top = [line.split("\t")[0].strip() for line in lines if line.startswith("  ") and not line.startswith("   ")]
    assert top == sorted(top) and "name" in top and "ports" in top
    assert "  ports\t<[]ContainerPort>\n    containerPort\t<integer> -required-\n" in text
    assert "<no description>" not in text


def test_unknown_field():
    with pytest.raises(ExplainError, match='field "nope" does not exist'):
        explain(lookup("pod"), ["spec", "nope"])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_explains_recursively(kind):
    assert explain(KINDS[kind], [], recursive=True).count("\n") > 5
