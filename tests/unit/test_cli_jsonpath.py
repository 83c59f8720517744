"""kubectl's JSONPath templates (-o jsonpath=..., -o custom-columns=...)."""

from __future__ import annotations

import pytest

from control.cli.jsonpath import JSONPathError, render
from control.cli.printers import custom_columns
from control.client.convert import from_dict

DATA = {"kind": "List", "items": [
    {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "web"}},
     "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "False"}],
                "restarts": 3}},
    {"metadata": {"name": "b"}, "status": {"conditions": [{"type": "Ready", "status": "False"}], "restarts": 0}},
]}


@pytest.mark.parametrize("template,text", [
    ("{.items[*].metadata.name}", "a b"),
    ("{.items[0].metadata.name}", "a"),
    ("{.items[-1].metadata.name}", "b"),
    ("{.items[0:1].metadata.name}", "a"),
    ("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}", "web"),
    ("{.items[0].metadata.labels['app.kubernetes.io/name']}", "web"),
    ("{..name}", "a b"),
    ("{.items[?(@.status.restarts>1)].metadata.name}", "a"),
    ('{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
     "a=True\nb=False\n"),
    ("name: {.items[1].metadata.name}!", "name: b!"),
    ("{.items[5].metadata.name}{.missing.field}", ""),
    ("{.items[1].metadata}", '{"name":"b"}'),
    ("{$.kind}", "List"),
])
def test_templates(template, text):
    assert render(template, DATA) == text


@pytest.mark.parametrize("bad", ["{.items[*]", "{end}", "{range .items[*]}{.x}", "{.items[x]}"])
def test_bad_templates(bad):
    with pytest.raises(JSONPathError):
        render(bad, DATA)


def test_custom_columns():
    pods = [from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": n},
                       "spec": {"containers": [{"name": "c1", "image": "x"}, {"name": "c2", "image": "y"}]}})
            for n in ("p1", "p2")]
    out = custom_columns("NAME:.metadata.name,IMAGES:.spec.containers[*].image,NODE:.spec.nodeName", pods)
    assert out.splitlines() == ["NAME   IMAGES   NODE", "p1     x,y      <none>", "p2     x,y      <none>"]
