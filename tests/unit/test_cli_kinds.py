"""The kind table's client-side pieces: every declared kind has all it needs, and skiffctl's lists of
kinds (get all, scale, describe, api-resources, logs/set image targets) are read from the table."""

from __future__ import annotations

import asyncio
import io
import time
from dataclasses import replace

import pytest
from google.protobuf.message import Message

from control.cli.context import Context, parse_resources
from control.cli.describe_kinds import described_kinds, describer_for, generic
from control.cli.main import parse_args
from control.client import printers
from control.client.kinds import KINDS, Kind, in_category, lookup
from control.client.selectors import field_value

_LABEL_SELECTOR = "skiff.v1.LabelSelector"


def _sample(kind: Kind) -> Message:
    obj = kind.new()
    obj.metadata.name = "sample"
    if kind.namespaced:
        obj.metadata.namespace = "default"
    obj.metadata.creation_timestamp.FromSeconds(int(time.time()) - 60)
    return obj


def _field(message: type[Message] | Message, path: str):
    """The descriptor of a dotted path of JSON names, or None."""
    descriptor, field = message.DESCRIPTOR, None
    for part in path.split("."):
        if descriptor is None:
            return None
        field = next((f for f in descriptor.fields if part in (f.json_name, f.name)), None)
        if field is None:
            return None
        descriptor = field.message_type
    return field


def _name_problems(kind: Kind) -> list[str]:
    names = {kind.kind, kind.kind.lower(), kind.plural, kind.singular, kind.resource, kind.qualified,
             *kind.short_names}
    problems = []
    for name in sorted(names):
        try:
            if lookup(name) is not kind:
                problems.append(f"{name} resolves to another kind")
        except LookupError:
            problems.append(f"{name} does not resolve")
    return problems


def _scale_problems(kind: Kind) -> list[str]:
    if not kind.scale:
        return []
    needs = {"spec.replicas": None, "status.replicas": None, "spec.selector": _LABEL_SELECTOR}
    problems = []
    for path, message in needs.items():
        field = _field(kind.message, path)
        if field is None:
            problems.append(f"scale needs {path}")
        elif message is not None and (field.message_type is None or field.message_type.full_name != message):
            problems.append(f"scale needs {path} to be a {message}")
    return problems


def _column_problems(kind: Kind) -> list[str]:
    cols, obj, now = kind.columns, _sample(kind), time.time()
    problems = []
    if not cols.headers:
        problems.append("no columns")
    for what, headers, row in (("row", cols.headers, cols.row), ("wide row", cols.wide_headers, cols.wide_row)):
        cells = row(obj, now)
        if len(cells) != len(headers):
            problems.append(f"{what} has {len(cells)} cells for {len(headers)} headers")
        elif not all(isinstance(c, str) for c in cells):
            problems.append(f"{what} has cells that are not text")
    return problems


def _field_selector_problems(kind: Kind) -> list[str]:
    problems = []
    for selector in kind.supported_field_selectors:
        try:
            field_value(_sample(kind), selector)
        except (KeyError, AttributeError):
            problems.append(f"field selector {selector} names no field of {kind.message_name}")
    return problems


def _subresource_problems(kind: Kind) -> list[str]:
    problems = [f"{kind.message_name} has no {name}" for name, wanted in
                (("metadata", True), ("status", kind.has_status), ("spec", kind.has_spec))
                if wanted and _field(kind.message, name) is None]
    if kind.rollout and not kind.has_pod_template:
        problems.append("rollout needs a pod template")
    return problems


def client_problems(kind: Kind) -> list[str]:
    return (_name_problems(kind) + _scale_problems(kind) + _column_problems(kind)
            + _field_selector_problems(kind) + _subresource_problems(kind))


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_declared_kind_has_its_client_pieces(name):
    assert client_problems(KINDS[name]) == []


def test_the_checks_find_a_kind_that_lacks_a_piece():
    configmap, pod = KINDS["ConfigMap"], KINDS["Pod"]
    assert _scale_problems(replace(configmap, scale=True)) == [
        "scale needs spec.replicas", "scale needs status.replicas", "scale needs spec.selector"]
    short_row = printers.Columns(("NAME", "AGE", "EXTRA"), (), printers.DEFAULT.row)
    assert _column_problems(replace(configmap, columns=short_row)) == ["row has 2 cells for 3 headers"]
    assert _field_selector_problems(replace(pod, field_selectors=("spec.nope",))) == [
        "field selector spec.nope names no field of Pod"]
    assert _subresource_problems(replace(configmap, rollout=True)) == ["rollout needs a pod template"]
    renamed = replace(configmap, short_names=("cmx",))
    assert "cmx does not resolve" in _name_problems(renamed)


def test_every_category_member_is_a_declared_kind():
    for category in {c for k in KINDS.values() for c in k.categories}:
        members = in_category(category)
        assert members and all(KINDS[k.kind] is k and category in k.categories for k in members)


def test_get_all_expands_in_discovery_order():
    assert [k.kind for k, _ in parse_resources(["all"])] == ["Pod", "Service", "DaemonSet", "Deployment",
        "ReplicaSet", "StatefulSet", "HorizontalPodAutoscaler", "CronJob", "Job"]


def test_pod_specs_are_read_from_the_messages():
    with_specs = {k.kind: k.pod_spec_path for k in KINDS.values() if k.pod_spec_path}
    assert with_specs == {"Pod": ("spec",), "ReplicaSet": ("spec", "template", "spec"),
                          "Deployment": ("spec", "template", "spec"), "DaemonSet": ("spec", "template", "spec"),
                          "StatefulSet": ("spec", "template", "spec"), "Job": ("spec", "template", "spec"),
                          "CronJob": ("spec", "job_template", "spec", "template", "spec")}


def test_describers_are_registered_for_declared_kinds():
    assert set(described_kinds()) <= set(KINDS)
    assert describer_for(KINDS["Lease"]) == (generic, True)
    assert describer_for(KINDS["ClusterRole"])[1] is False
    assert describer_for(KINDS["Pod"])[0].__name__ == "pod"


def _run(argv: list[str]) -> tuple[str, str, bool]:
    args = parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(client=None, config=None, stdout=out, stderr=err)  # type: ignore[arg-type]
    asyncio.run(args.run(args, ctx))
    return out.getvalue(), err.getvalue(), ctx.failed


def test_api_resources_wide_lists_verbs_and_categories():
    out, _, _ = _run(["api-resources", "-o", "wide"])
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "CATEGORIES"]
    rows = {line[0]: line for line in lines[1:]}
    assert rows["pods"] == ["pods", "po", "v1", "true", "Pod", "create,delete,get,list,update,watch", "all"]
    assert rows["leases"] == ["leases", "coordination.k8s.io/v1", "true", "Lease",
                              "create,delete,get,list,update,watch"]
    assert len(rows) == len(KINDS)


def test_api_resources_filters():
    out, _, _ = _run(["api-resources", "--api-group", "apps", "--no-headers", "-o", "name"])
    assert out == ("controllerrevisions.apps\ndaemonsets.apps\ndeployments.apps\nreplicasets.apps\n"
                   "statefulsets.apps\n")
    out, _, _ = _run(["api-resources", "--categories", "all", "--no-headers"])
    assert [line.split()[0] for line in out.splitlines()] == ["pods", "services", "daemonsets", "deployments",
        "replicasets", "statefulsets", "horizontalpodautoscalers", "cronjobs", "jobs"]
    out, _, _ = _run(["api-resources", "--api-group", "", "--namespaced", "false", "-o", "name"])
    assert out == "namespaces\nnodes\npersistentvolumes\n"
    out, _, _ = _run(["api-resources", "--api-group", "", "--sort-by", "kind", "-o", "name"])
    assert out.splitlines()[:3] == ["configmaps", "endpoints", "events"]
    out, _, _ = _run(["api-resources", "--verbs", "get,watch", "--sort-by", "name", "-o", "name"])
    assert out.splitlines()[:3] == ["clusterrolebindings.rbac.authorization.k8s.io",
                                    "clusterroles.rbac.authorization.k8s.io", "configmaps"]


def test_scale_refuses_a_kind_without_the_scale_subresource():
    _, err, failed = _run(["scale", "configmap/x", "--replicas", "2"])
    assert failed and err == ('error: cannot scale configmaps "x": '
                              'only deployments, replicasets and statefulsets scale\n')
