"""Field ownership and server-side apply on plain documents: field sets, comparisons, the apply
merge, FieldsV1, and the Apply and Update operations with their conflicts."""

from __future__ import annotations

import json

import pytest

from control.apiserver.apply import fieldpath, lastapplied, managedfields, typed
from control.apiserver.apply.managedfields import APPLY, UPDATE, ConflictError, Entry, Scope
from control.client.kinds import KINDS

DEPLOY = KINDS["Deployment"]
SCOPE = Scope(typed.root(DEPLOY.message.DESCRIPTOR), "apps/v1", "", True)
CM_SCOPE = Scope(typed.root(KINDS["ConfigMap"].message.DESCRIPTOR), "v1")
SVC_NODE = typed.root(KINDS["Service"].message.DESCRIPTOR)
T = 1_700_000_000


def deployment(replicas: int = 3, image: str = "app:1", **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "app", "image": image,
                                                           "ports": [{"containerPort": 80}]}]}}, **spec}}


def paths(*texts: str) -> set[tuple[str, ...]]:
    return {tuple(t.split("/")) for t in texts}


C = 'f:spec/f:template/f:spec/f:containers/k:{"name":"app"}'


@pytest.mark.parametrize(("doc", "node", "expected"), [
    # struct fields and map keys one by one; an atomic struct (LabelSelector) whole
    ({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "1"}}}},
     SCOPE.node, paths("f:metadata/f:labels/f:a", "f:spec/f:replicas", "f:spec/f:selector")),
    # keyed lists: the element and its fields; container ports keyed by port and (defaulted) protocol
    ({"spec": {"template": {"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80}]}]}}}},
     SCOPE.node, paths(C, f"{C}/f:name", C + '/f:ports/k:{"containerPort":80,"protocol":"TCP"}',
                       C + '/f:ports/k:{"containerPort":80,"protocol":"TCP"}/f:containerPort')),
    # an empty struct is a leaf; atomic lists (args) are leaves
    ({"spec": {"template": {"spec": {"containers": [{"name": "app", "resources": {}, "args": ["a"]}]}}}},
     SCOPE.node, paths(C, f"{C}/f:name", f"{C}/f:resources", f"{C}/f:args")),
    # a set of scalars (finalizers) value by value; an atomic map (a Service's selector) whole
    ({"metadata": {"finalizers": ["a", "b"]}, "spec": {"selector": {"app": "x"}}},
     SVC_NODE, paths('f:metadata/f:finalizers/v:"a"', 'f:metadata/f:finalizers/v:"b"', "f:spec/f:selector")),
    # an int-or-string is a leaf
    ({"spec": {"strategy": {"rollingUpdate": {"maxSurge": "25%"}}}}, SCOPE.node,
     paths("f:spec/f:strategy/f:rollingUpdate/f:maxSurge")),
])
def test_field_set(doc, node, expected) -> None:
    assert typed.field_set(doc, node) == expected


def test_a_keyed_element_without_its_key_cannot_be_placed() -> None:
    with pytest.raises(typed.FieldError, match='omits key field "name"'):
        typed.field_set({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}, SCOPE.node)


def test_compare_names_added_modified_and_removed_fields() -> None:
    old = deployment()
    new = deployment(replicas=5, image="app:2")
    del new["metadata"]["labels"]
    new["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "s"})
    c = typed.compare(old, new, SCOPE.node)
    side = 'f:spec/f:template/f:spec/f:containers/k:{"name":"side"}'
    assert c.modified == paths("f:spec/f:replicas", f"{C}/f:image")
    assert c.added == paths(side, f"{side}/f:name", f"{side}/f:image")
    assert c.removed == paths("f:metadata/f:labels", "f:metadata/f:labels/f:app")


def test_merge_keeps_live_fields_and_merges_keyed_lists() -> None:
    live = deployment()
    live["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "s"})
    config = {"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}
    out = typed.merge(live, config, SCOPE.node)
    containers = out["spec"]["template"]["spec"]["containers"]
    assert out["spec"]["replicas"] == 2 and out["metadata"]["labels"] == {"app": "web"}
    assert containers == [{"name": "app", "image": "app:2", "ports": [{"containerPort": 80}]},
                          {"name": "side", "image": "s"}]
    assert typed.merge({"spec": {"selector": {"matchLabels": {"a": "1"}}}},
                       {"spec": {"selector": {"matchLabels": {"b": "2"}}}}, SCOPE.node) == \
        {"spec": {"selector": {"matchLabels": {"b": "2"}}}}  # atomic: replaced


def test_remove_paths_through_keyed_lists() -> None:
    doc = deployment()
    out = typed.remove(doc, paths(f"{C}/f:image", "f:metadata/f:labels/f:app", "f:spec/f:nothing"), SCOPE.node)
    assert "image" not in out["spec"]["template"]["spec"]["containers"][0]
    assert out["metadata"]["labels"] == {} and doc["metadata"]["labels"] == {"app": "web"}


def test_fieldsv1_round_trip_marks_owned_parents_with_dot() -> None:
    owned = paths(C, f"{C}/f:image", "f:spec/f:replicas")
    encoded = fieldpath.encode(owned)
    assert encoded == {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
        'k:{"name":"app"}': {".": {}, "f:image": {}}}}}}}
    assert fieldpath.decode(encoded) == owned
    assert fieldpath.describe(tuple(f"{C}/f:image".split("/"))) == '.spec.template.spec.containers[name="app"].image'
    assert fieldpath.describe(("f:metadata", "f:finalizers", 'v:"a"')) == '.metadata.finalizers[="a"]'


def test_update_gives_its_manager_the_fields_it_changed() -> None:
    created = managedfields.update({}, deployment(), {}, "kubectl-create", SCOPE, now=T)
    entry = created[("kubectl-create", UPDATE, "apps/v1", "")]
    assert ("f:spec", "f:replicas") in entry.fields and ("f:metadata", "f:labels") in entry.fields
    assert not any(p[:2] == ("f:metadata", "f:name") or p[0] in ("f:apiVersion", "f:kind") for p in entry.fields)
    scaled = managedfields.update(deployment(), deployment(replicas=5), created, "kubectl-scale", SCOPE, now=T + 1)
    assert scaled[("kubectl-scale", UPDATE, "apps/v1", "")].fields == {("f:spec", "f:replicas")}
    assert ("f:spec", "f:replicas") not in scaled[("kubectl-create", UPDATE, "apps/v1", "")].fields
    same = managedfields.update(deployment(), deployment(), scaled, "other", SCOPE, now=T + 2)
    assert same == scaled  # nothing changed: no entry, no new time


def test_status_is_owned_only_through_the_status_subresource() -> None:
    live, new = deployment(), deployment()
    new["status"] = {"replicas": 3}
    assert managedfields.update(live, new, {}, "m", SCOPE) == {}
    status_scope = Scope(SCOPE.node, "apps/v1", "status", True)
    out = managedfields.update(live, new, {}, "ctrl", status_scope, now=T)
    assert out[("ctrl", UPDATE, "apps/v1", "status")].fields == {("f:status", "f:replicas")}


def test_apply_creates_then_is_unchanged_on_the_same_configuration() -> None:
    merged, managers = managedfields.apply({}, deployment(), {}, "mgr", False, SCOPE, now=T)
    assert merged == deployment()
    entry = managers[("mgr", APPLY, "", "")]
    assert entry.time == T and entry.api_version == "apps/v1"
    again, after = managedfields.apply(merged, deployment(), managers, "mgr", False, SCOPE, now=T + 5)
    assert again == merged and after == managers  # unchanged: the entry keeps its time


@pytest.mark.parametrize(("owner", "message"), [
    (("kubectl-client-side-apply", UPDATE, "apps/v1", ""),
     'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'),
    (("other", APPLY, "", ""), 'Apply failed with 1 conflict: conflict with "other": .spec.replicas'),
])
def test_apply_conflicts_with_another_managers_field(owner, message) -> None:
    managers = {owner: Entry(owner[0], owner[1], "apps/v1", "", frozenset({("f:spec", "f:replicas")}), T)}
    with pytest.raises(ConflictError) as e:
        managedfields.apply(deployment(), deployment(replicas=5), managers, "mgr", False, SCOPE)
    assert e.value.message == message
    who = message.split(": ", 1)[1].rsplit(":", 1)[0]
    assert e.value.causes() == [{"reason": "FieldManagerConflict", "message": who, "field": ".spec.replicas"}]
    # the same value is no conflict: both own it
    _, shared = managedfields.apply(deployment(), deployment(), managers, "mgr", False, SCOPE)
    replicas = ("f:spec", "f:replicas")
    assert replicas in shared[owner].fields and replicas in shared[("mgr", APPLY, "", "")].fields
    # forced, the applier takes the field
    merged, forced = managedfields.apply(deployment(), deployment(replicas=5), managers, "mgr", True, SCOPE)
    assert merged["spec"]["replicas"] == 5 and owner not in forced


def test_several_conflicts_are_listed_by_manager() -> None:
    a = Entry("a", UPDATE, "apps/v1", "", frozenset({("f:spec", "f:replicas")}))
    b = Entry("b", APPLY, "apps/v1", "", frozenset({("f:spec", "f:paused")}))
    with pytest.raises(ConflictError) as e:
        managedfields.apply(deployment(paused=False), deployment(replicas=1, paused=True), {a.key: a, b.key: b},
                            "mgr", False, SCOPE)
    assert e.value.message == ('Apply failed with 2 conflicts: conflicts with "a" using apps/v1:\n- .spec.replicas\n'
                               'conflicts with "b":\n- .spec.paused')


def test_a_field_the_applier_stops_applying_is_removed_unless_another_manager_owns_it() -> None:
    live, managers = managedfields.apply({}, deployment(), {}, "mgr", False, SCOPE, now=T)
    dropped = deployment()
    del dropped["spec"]["replicas"], dropped["metadata"]["labels"]
    out, after = managedfields.apply(live, dropped, managers, "mgr", False, SCOPE, now=T + 1)
    assert "replicas" not in out["spec"] and not out["metadata"].get("labels")
    assert ("f:spec", "f:replicas") not in after[("mgr", APPLY, "", "")].fields
    # another manager owning replicas keeps it
    other = Entry("hpa", UPDATE, "apps/v1", "", frozenset({("f:spec", "f:replicas")}), T)
    kept, _ = managedfields.apply(live, dropped, {**managers, other.key: other}, "mgr", False, SCOPE)
    assert kept["spec"]["replicas"] == 3


def test_a_container_dropped_from_the_configuration_is_removed() -> None:
    two = deployment()
    two["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "s"})
    live, managers = managedfields.apply({}, two, {}, "mgr", False, SCOPE, now=T)
    out, _ = managedfields.apply(live, deployment(), managers, "mgr", False, SCOPE, now=T + 1)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["app"]


def test_managed_fields_entries_round_trip_in_kubernetes_order() -> None:
    u = Entry("kubectl-edit", UPDATE, "v1", "", frozenset({("f:data", "f:a")}), T)
    a = Entry("mgr", APPLY, "v1", "", frozenset({("f:data", "f:b")}), T + 9)
    encoded = managedfields.encode({u.key: u, a.key: a})
    assert [e.operation for e in encoded] == ["Apply", "Update"]
    assert encoded[0].fields_type == "FieldsV1" and encoded[0].time.seconds == T + 9
    assert managedfields.decode(encoded) == {u.key: u, a.key: a}


def test_update_entries_beyond_ten_merge_into_ancient_changes() -> None:
    managers: managedfields.Managers = {}
    doc: dict = {"data": {}}
    for i in range(12):
        new = {"data": {**doc["data"], f"k{i}": "v"}}
        managers = managedfields.update(doc, new, managers, f"writer-{i}", CM_SCOPE, now=T + i)
        doc = new
    assert len(managers) == 10
    ancient = managers[("ancient-changes", UPDATE, "v1", "")]
    assert ancient.fields == {("f:data", "f:k0"), ("f:data", "f:k1"), ("f:data", "f:k2")} and ancient.time == T + 2
    assert ("writer-3", UPDATE, "v1", "") in managers and ("writer-2", UPDATE, "v1", "") not in managers


def test_kubectl_takes_over_what_it_applied_client_side() -> None:
    live = deployment()
    live["metadata"]["annotations"] = {lastapplied.ANNOTATION: json.dumps(deployment())}
    assert ("f:spec", "f:replicas") in lastapplied.allowed_conflicts("kubectl", live, SCOPE.node)
    assert lastapplied.allowed_conflicts("other", live, SCOPE.node) == set()
    config = deployment(replicas=5)
    synced = lastapplied.synced("kubectl", live, typed.merge(live, config, SCOPE.node), config)
    text = synced["metadata"]["annotations"][lastapplied.ANNOTATION]
    assert text.endswith("\n") and json.loads(text) == config
    assert lastapplied.synced("kubectl", deployment(), deployment(), config) == deployment()  # no annotation


def test_a_map_owned_whole_before_stays_while_one_of_its_keys_is_applied() -> None:
    labels = ("f:metadata", "f:labels")
    before = Entry("kubectl", APPLY, "apps/v1", "", frozenset({labels, labels + ("f:app",), labels + ("f:tier",)}), T)
    out, after = managedfields.apply(deployment(), deployment(), {before.key: before}, "kubectl", False, SCOPE)
    assert out["metadata"]["labels"] == {"app": "web"}  # tier is gone, the map and app stay
    assert labels not in after[before.key].fields
