"""Label and field selectors: kubectl's syntax, matching, canonical strings and errors."""

from __future__ import annotations

import pytest

from control.client.kinds import lookup
from control.client.selectors import (
    SelectorError,
    field_value,
    from_label_selector,
    parse_field_selector,
    parse_selector,
)
from skiff.v1 import core_pb2, meta_pb2, pod_pb2

LABELS = {"app": "web", "env": "prod", "tier": "frontend", "n": "5", "example.com/team": "a"}


@pytest.mark.parametrize("text, matches", [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=db", False),
    ("app!=db", True),
    ("app!=web", False),
    ("missing!=x", True),
    ("env in (prod,staging)", True),
    ("env in (staging)", False),
    ("env notin (staging, dev)", True),
    ("env notin (prod)", False),
    ("missing notin (prod)", True),
    ("missing in (prod)", False),
    ("app", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("app=web,env=prod", True),
    ("app=web,env=dev", False),
    ("app=web, tier in (frontend), !canary", True),
    ("example.com/team=a", True),
    ("n>4", True),
    ("n>5", False),
    ("n<6", True),
    ("app>1", False),  # non-integer values never compare
    ("missing=", False),
    ("  app = web  ", True),
])
def test_parse_and_match(text: str, matches: bool) -> None:
    assert parse_selector(text).matches(LABELS) is matches


def test_empty_label_value_matches_a_label_set_to_empty() -> None:
    assert parse_selector("a=").matches({"a": ""})
    assert parse_selector("a in (,b)").matches({"a": ""})
    assert not parse_selector("a=").matches({})


@pytest.mark.parametrize("text, canonical", [
    ("b=2,a=1", "a=1,b=2"),
    ("a==1", "a==1"),
    ("env in (staging, prod)", "env in (prod,staging)"),
    ("env notin (b,a,b)", "env notin (a,b)"),
    ("!x,  y", "!x,y"),
    ("n>3", "n>3"),
    ("n<3", "n<3"),
    ("a!=b", "a!=b"),
    ("", ""),
])
def test_canonical_string(text: str, canonical: str) -> None:
    sel = parse_selector(text)
    assert str(sel) == canonical
    assert str(parse_selector(str(sel))) == canonical  # round trip


def test_empty() -> None:
    assert parse_selector("").empty
    assert parse_selector("   ").empty
    assert not parse_selector("a").empty


@pytest.mark.parametrize("text, message", [
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("a in b", "found 'b', expected: '('"),
    ("a b", "found 'b', expected: '=', '!=', '==', 'in', 'notin', '>', '<'"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a,", "found 'end of string', expected: identifier after ','"),
    (",a", "found ',', expected: identifier"),
    ("a=(b)", "found '(', expected: identifier for value"),
    ("a in (b", "found 'end of string', expected: ',', ')' or identifier"),
    ("a in ()", "for 'in', 'notin' operators, values set can't be empty"),
    ("a>b", "must be an integer"),
    ("a/b/c=1", "a qualified name must consist of"),
    ("-a=b", 'key: Invalid value: "-a": name part must consist of'),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("a=-b", 'values[0][a]: Invalid value: "-b": a valid label must be an empty string'),
    ("a=" + "x" * 64, "must be no more than 63 characters"),
    ("Example.com/a=b", "prefix part a lowercase RFC 1123 subdomain"),
])
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as e:
        parse_selector(text)
    assert message in str(e.value)


def test_selector_error_is_a_value_error() -> None:
    assert issubclass(SelectorError, ValueError)


def _label_selector(match_labels=None, expressions=()) -> meta_pb2.LabelSelector:
    sel = meta_pb2.LabelSelector(match_labels=match_labels or {})
    for key, op, values in expressions:
        sel.match_expressions.add(key=key, operator=op, values=values)
    return sel


@pytest.mark.parametrize("match_labels, expressions, matches", [
    ({}, [], True),
    ({"app": "web"}, [], True),
    ({"app": "db"}, [], False),
    ({"app": "web"}, [("env", "In", ["prod"])], True),
    ({}, [("env", "NotIn", ["prod"])], False),
    ({}, [("env", "Exists", [])], True),
    ({}, [("canary", "DoesNotExist", [])], True),
    ({}, [("canary", "Exists", [])], False),
])
def test_from_label_selector(match_labels, expressions, matches: bool) -> None:
    sel = from_label_selector(_label_selector(match_labels, expressions))
    assert sel.matches(LABELS) is matches


def test_from_label_selector_string_and_empty() -> None:
    sel = from_label_selector(_label_selector({"b": "2", "a": "1"}, [("env", "In", ["y", "x"])]))
    assert str(sel) == "a=1,b=2,env in (x,y)"
    assert from_label_selector(meta_pb2.LabelSelector()).empty


@pytest.mark.parametrize("expressions, message", [
    ([("env", "Bogus", ["a"])], '"Bogus" is not a valid label selector operator'),
    ([("env", "In", [])], "values set can't be empty"),
    ([("env", "Exists", ["a"])], "values set must be empty for exists and does not exist"),
    ([("bad key", "Exists", [])], "name part must consist of"),
])
def test_from_label_selector_errors(expressions, message: str) -> None:
    with pytest.raises(SelectorError) as e:
        from_label_selector(_label_selector({}, expressions))
    assert message in str(e.value)


def _pod() -> pod_pb2.Pod:
    pod = pod_pb2.Pod()
    pod.metadata.name, pod.metadata.namespace = "web-1", "default"
    pod.spec.node_name, pod.spec.restart_policy = "node-a", "Always"
    pod.status.phase, pod.status.pod_ip = "Running", "10.244.1.5"
    return pod


@pytest.mark.parametrize("text, matches", [
    ("", True),
    ("metadata.name=web-1", True),
    ("metadata.name==web-1", True),
    ("metadata.name!=web-1", False),
    ("metadata.namespace=default", True),
    ("spec.nodeName=node-a", True),
    ("spec.nodeName=", False),
    ("spec.nodeName!=", True),
    ("status.phase=Running,spec.restartPolicy=Always", True),
    ("status.phase=Running,spec.restartPolicy=Never", False),
    ("status.podIP=10.244.1.5", True),
    ("spec.schedulerName=", True),
    ("spec.hostNetwork=false", True),
])
def test_pod_field_selectors(text: str, matches: bool) -> None:
    assert parse_field_selector(text, lookup("pods")).matches(_pod()) is matches


def test_field_selector_exact_value_and_string() -> None:
    sel = parse_field_selector("spec.nodeName=node-a,status.phase!=Failed", lookup("po"))
    assert sel.exact_value("spec.nodeName") == "node-a"
    assert sel.exact_value("status.phase") is None
    assert str(sel) == "spec.nodeName=node-a,status.phase!=Failed"
    assert not sel.empty and parse_field_selector(" ", lookup("po")).empty


def test_node_event_and_secret_fields() -> None:
    node = core_pb2.Node()
    node.metadata.name = "n1"
    node.spec.unschedulable = True
    assert parse_field_selector("spec.unschedulable=true", lookup("node")).matches(node)
    assert not parse_field_selector("spec.unschedulable=false", lookup("node")).matches(node)

    ev = core_pb2.Event(reason="Scheduled", type="Normal")
    ev.involved_object.kind, ev.involved_object.name = "Pod", "web-1"
    ev.involved_object.namespace, ev.involved_object.uid = "default", "u1"
    ev.source.component = "default-scheduler"
    text = ("involvedObject.kind=Pod,involvedObject.name=web-1,involvedObject.namespace=default,"
            "involvedObject.uid=u1,reason=Scheduled,type=Normal,source=default-scheduler")
    assert parse_field_selector(text, lookup("events")).matches(ev)

    secret = core_pb2.Secret(type="kubernetes.io/tls")
    assert parse_field_selector("type=kubernetes.io/tls", lookup("secret")).matches(secret)


def test_escaped_values() -> None:
    cm = core_pb2.ConfigMap()
    cm.metadata.name = "a,b=c\\d"
    sel = parse_field_selector(r"metadata.name=a\,b\=c\\d", lookup("cm"))
    assert sel.matches(cm)
    assert str(sel) == r"metadata.name=a\,b\=c\\d"


@pytest.mark.parametrize("text, kind, message", [
    ("spec.nodeName=x", "deployments", "field label not supported: spec.nodeName"),
    ("spec.foo=1", "pods", "field label not supported: spec.foo"),
    ("type=Opaque", "configmaps", "field label not supported: type"),
    ("metadata.labels=x", "pods", "field label not supported: metadata.labels"),
    ("abc", "pods", "invalid selector: 'abc'; can't understand 'abc'"),
    ("metadata.name=a,b", "pods", "can't understand 'b'"),
    (r"metadata.name=a\x", "pods", "invalid escape sequence"),
])
def test_field_selector_errors(text: str, kind: str, message: str) -> None:
    with pytest.raises(SelectorError) as e:
        parse_field_selector(text, lookup(kind))
    assert message in str(e.value)


def test_field_value_reads_json_paths() -> None:
    pod = _pod()
    assert field_value(pod, "spec.nodeName") == "node-a"
    assert field_value(pod, "status.podIP") == "10.244.1.5"
    assert field_value(pod, "spec.hostNetwork") == "false"
    ev = core_pb2.Event()
    ev.source.component = "kubelet"
    assert field_value(ev, "source") == "kubelet"  # the selector's name for source.component


# --- properties -----------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_names = st.sampled_from(["a", "b", "web", "x-1", "a.b", "z_9", "0", "Prod", "v1.2"])
_keys = st.one_of(_names, st.builds(lambda p, n: f"{p}.io/{n}", st.sampled_from(["k8s", "ex"]), _names))
_values = st.one_of(st.just(""), _names)
_requirements = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", _keys, _values),
    st.builds(lambda k, v: f"{k}!={v}", _keys, _values),
    st.builds(lambda k, vs: f"{k} in ({','.join(vs)})", _keys, st.lists(_names, min_size=1, max_size=3)),
    st.builds(lambda k, vs: f"{k} notin ({','.join(vs)})", _keys, st.lists(_names, min_size=1, max_size=3)),
    _keys,
    st.builds(lambda k: f"!{k}", _keys),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_requirements, max_size=4), st.dictionaries(_keys, _values, max_size=4))
def test_canonical_string_round_trips_and_matches_the_same(parts: list[str], labels: dict[str, str]) -> None:
    sel = parse_selector(",".join(parts))
    again = parse_selector(str(sel))
    assert str(again) == str(sel)
    assert again.matches(labels) == sel.matches(labels)
    assert sel.matches(labels) == all(parse_selector(p).matches(labels) for p in parts)
