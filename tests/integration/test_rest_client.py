"""The official Python `kubernetes` client and raw HTTPS requests against the REST port: typed calls,
watch, Status errors (401, 403, 404, 409, 422), discovery, Table, selectors, pagination, dryRun,
PATCH of every type, /status, /scale, DeleteOptions, 410 Expired and the audit log."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException

from tests.fixtures.pki import Pki
from tests.fixtures.rest import Http, RestServer, write_kubeconfig

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"


REST_ARGS = ["--bookmark-interval", "0.5"]  # the shared `rest` fixture's extra flags


@pytest.fixture(scope="module")
def api_client(rest: RestServer, pki: Pki, tmp_path_factory) -> k8s.ApiClient:
    path = write_kubeconfig(tmp_path_factory.mktemp("pyclient") / "config", pki, rest.url)
    c = k8s_config.new_client_from_config(config_file=str(path))
    yield c
    c.close()


@pytest.fixture(scope="module")
def admin(rest: RestServer, pki: Pki) -> Http:
    return Http(rest, pki)


def _cm(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


def test_typed_crud_and_errors(api_client: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api_client)
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="typed", labels={"app": "py"}), data={"a": "1"})
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid and created.metadata.resource_version
    assert core.read_namespaced_config_map("typed", "default").data == {"a": "1"}
    listed = core.list_namespaced_config_map("default", label_selector="app=py")
    assert [c.metadata.name for c in listed.items] == ["typed"]
    with pytest.raises(ApiException) as conflict:
        core.create_namespaced_config_map("default", body)
    assert conflict.value.status == 409 and json.loads(conflict.value.body)["reason"] == "AlreadyExists"
    deleted = core.delete_namespaced_config_map("typed", "default")
    assert deleted["status"] == "Success" and deleted["details"]["name"] == "typed"
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("typed", "default")
    assert missing.value.status == 404
    status = json.loads(missing.value.body)
    assert status["message"] == 'configmaps "typed" not found'
    assert status["details"] == {"name": "typed", "group": "", "kind": "configmaps"}
    apps = k8s.AppsV1Api(api_client)
    assert apps.list_namespaced_deployment("default").items == []


def test_typed_watch(api_client: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api_client)
    start = core.list_namespaced_config_map("default").metadata.resource_version
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def consume() -> None:
        w = k8s_watch.Watch()
        for event in w.stream(core.list_namespaced_config_map, "default", resource_version=start,
                              timeout_seconds=20):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                w.stop()
        done.set()
    threading.Thread(target=consume, daemon=True).start()
    core.create_namespaced_config_map("default", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="watched")))
    core.patch_namespaced_config_map("watched", "default", {"data": {"x": "y"}})
    core.delete_namespaced_config_map("watched", "default")
    assert done.wait(20)
    assert seen == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]


def test_discovery(admin: Http) -> None:
    code, _, version = admin.request("GET", "/version")
    assert code == 200 and version["major"] == "1" and version["gitVersion"].startswith("v1.")
    _, _, apis = admin.request("GET", "/apis")
    assert {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}} in apis["groups"]
    _, _, core = admin.request("GET", "/api/v1")
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["kind"] == "Pod" and pods["namespaced"] and pods["shortNames"] == ["po"]
    assert pods["categories"] == ["all"] and "watch" in pods["verbs"] and pods["singularName"] == "pod"
    _, _, apps = admin.request("GET", "/apis/apps/v1")
    scale = next(r for r in apps["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    code, headers, agg = admin.request("GET", "/apis", headers={"Accept": AGGREGATED})
    assert code == 200 and headers["Content-Type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
    apps_item = next(i for i in agg["items"] if i["metadata"]["name"] == "apps")
    deployments = next(r for r in apps_item["versions"][0]["resources"] if r["resource"] == "deployments")
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert deployments["scope"] == "Namespaced"
    _, _, openapi = admin.request("GET", "/openapi/v3")
    url = openapi["paths"]["apis/apps/v1"]["serverRelativeURL"]
    _, _, doc = admin.request("GET", url)
    op = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert op["x-kubernetes-group-version-kind"]["kind"] == "Deployment"


def test_status_errors(admin: Http, rest: RestServer, pki: Pki) -> None:
    code, _, status = Http(rest, pki, cert=None).request("GET", "/api/v1/pods")
    assert (code, status["reason"], status["message"]) == (401, "Unauthorized", "Unauthorized")
    bob = Http(rest, pki, cert=None, token=pki.tokens["bob"])
    code, _, status = bob.request("GET", "/api/v1/namespaces/kube-system/secrets/x")
    assert (code, status["reason"]) == (403, "Forbidden")
    assert status["message"] == ('secrets "x" is forbidden: User "bob" cannot get resource "secrets" in API group "" '
                                 'in the namespace "kube-system"')
    bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
    code, _, status = admin.request("POST", "/api/v1/namespaces/default/pods", bad)
    assert (code, status["reason"]) == (422, "Invalid")
    assert status["details"]["causes"] == [{"reason": "FieldValueRequired", "message": "Required value",
                                            "field": "spec.containers[0].image"}]
    assert status["details"]["kind"] == "Pod" and status["details"]["name"] == "p"
    code, _, status = admin.request("GET", "/api/v1/nothings")
    assert (code, status["reason"]) == (404, "NotFound")
    admin.request("POST", "/api/v1/namespaces/default/configmaps", _cm("stale"))
    code, _, status = admin.request("PUT", "/api/v1/namespaces/default/configmaps/stale",
                                    {**_cm("stale"), "metadata": {"name": "stale", "resourceVersion": "1"}})
    assert (code, status["reason"]) == (409, "Conflict")
    assert status["message"].startswith('Operation cannot be fulfilled on configmaps "stale": the object has been')


def test_lists_selectors_pages_and_tables(admin: Http) -> None:
    for n in range(5):
        admin.request("POST", "/api/v1/namespaces/default/configmaps", _cm(f"page-{n}", set="paged"))
    code, _, first = admin.request("GET", "/api/v1/namespaces/default/configmaps?labelSelector=set%3Dpaged&limit=2")
    assert code == 200 and len(first["items"]) == 2 and first["metadata"]["continue"]
    names = [i["metadata"]["name"] for i in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        _, _, page = admin.request("GET", f"/api/v1/namespaces/default/configmaps?labelSelector=set%3Dpaged"
                                          f"&limit=2&continue={token}")
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    assert names == [f"page-{n}" for n in range(5)]
    _, _, one = admin.request("GET", "/api/v1/configmaps?fieldSelector=metadata.name%3Dpage-3")
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in one["items"]] == [("default", "page-3")]
    _, _, table = admin.request("GET", "/api/v1/namespaces/default/configmaps?labelSelector=set%3Dpaged",
                                headers={"Accept": TABLE})
    assert table["kind"] == "Table" and [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert table["rows"][0]["cells"][:2] == ["page-0", "1"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_dry_run_patches_status_scale_and_delete_options(admin: Http) -> None:
    base = "/api/v1/namespaces/default/configmaps"
    code, _, _ = admin.request("POST", f"{base}?dryRun=All", _cm("dry"))
    assert code == 201 and admin.request("GET", f"{base}/dry")[0] == 404
    admin.request("POST", base, _cm("patched", app="p"))
    code, _, merged = admin.request("PATCH", f"{base}/patched", {"data": {"k": None, "n": "1"}},
                                    content_type="application/merge-patch+json")
    assert code == 200 and merged["data"] == {"n": "1"}
    ops = [{"op": "add", "path": "/metadata/labels/added", "value": "yes"}, {"op": "replace", "path": "/data/n",
                                                                              "value": "2"}]
    _, _, jsonpatched = admin.request("PATCH", f"{base}/patched", ops, content_type="application/json-patch+json")
    assert jsonpatched["metadata"]["labels"]["added"] == "yes" and jsonpatched["data"] == {"n": "2"}
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
        "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}}
    dpath = "/apis/apps/v1/namespaces/default/deployments"
    assert admin.request("POST", dpath, deploy)[0] == 201
    smp = {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                                          "containers": [{"name": "b", "image": "b:2"}]}}}}
    _, _, strategic = admin.request("PATCH", f"{dpath}/d", smp, content_type="application/strategic-merge-patch+json")
    assert [(c["name"], c["image"]) for c in strategic["spec"]["template"]["spec"]["containers"]] == \
        [("a", "a:1"), ("b", "b:2")]
    _, _, scale = admin.request("PATCH", f"{dpath}/d/scale", {"spec": {"replicas": 3}},
                                content_type="application/merge-patch+json")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 3 and scale["status"]["selector"] == "app=d"
    _, _, status_write = admin.request("PATCH", f"{dpath}/d/status", {"status": {"observedGeneration": 7}},
                                       content_type="application/merge-patch+json")
    assert status_write["status"]["observedGeneration"] == 7 and status_write["spec"]["replicas"] == 3
    code, _, status = admin.request("DELETE", f"{base}/patched", {"preconditions": {"uid": "wrong"}})
    assert (code, status["reason"]) == (409, "Conflict") and "Precondition failed: UID in precondition" in \
        status["message"]
    code, _, _ = admin.request("DELETE", f"{base}/patched", {"propagationPolicy": "Background", "dryRun": ["All"]})
    assert code == 200 and admin.request("GET", f"{base}/patched")[0] == 200
    assert admin.request("DELETE", f"{base}/patched", {"propagationPolicy": "Foreground"})[0] == 200


def test_watch_bookmarks_and_timeout(admin: Http, rest: RestServer) -> None:
    _, _, listed = admin.request("GET", "/api/v1/namespaces/default/configmaps")
    conn = http.client.HTTPSConnection("127.0.0.1", rest.port, context=admin.ctx, timeout=20)
    conn.request("GET", "/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=2"
                        f"&resourceVersion={listed['metadata']['resourceVersion']}")
    resp = conn.getresponse()
    bookmark = json.loads(resp.readline())
    assert bookmark["type"] == "BOOKMARK" and bookmark["object"]["kind"] == "ConfigMap"
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) >= int(listed["metadata"]["resourceVersion"])
    assert all(json.loads(line)["type"] == "BOOKMARK" for line in resp.read().splitlines())  # ends at the timeout
    conn.close()


def test_watch_expired_is_an_error_event(admin: Http, rest: RestServer) -> None:
    """A watch from a compacted revision: 200, then one ERROR event carrying a 410 Expired Status."""
    _, _, listed = admin.request("GET", "/api/v1/namespaces/default/configmaps")
    current = listed["metadata"]["resourceVersion"]
    subprocess.run(["etcdctl", "--endpoints", rest.apiserver.etcd.url, "compact", current], check=True,
                   capture_output=True)
    conn = http.client.HTTPSConnection("127.0.0.1", rest.port, context=admin.ctx, timeout=20)
    conn.request("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    event = json.loads(resp.readline())
    conn.close()
    assert event["type"] == "ERROR"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")


def test_audit_log_records_rest_writes(admin: Http, rest: RestServer) -> None:
    admin.request("POST", "/api/v1/namespaces/default/configmaps", _cm("audited"))
    lines = [json.loads(line) for line in Path(rest.apiserver.audit_log).read_text().splitlines()]
    assert any(e["verb"] == "create" and e["objectRef"].get("name") == "audited" and
               e["user"]["username"] == "admin" for e in lines)


def test_rbac_patch_and_node_restriction(admin: Http, rest: RestServer, pki: Pki) -> None:
    """A PATCH is authorized as `patch` by RBAC; NodeRestriction checks the patched object."""
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "alice-edit", "namespace": "default"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}
    assert admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                         binding)[0] == 201
    admin.request("POST", "/api/v1/namespaces/default/configmaps", _cm("alices"))
    admin.request("POST", "/api/v1/namespaces/kube-system/configmaps", _cm("system"))
    alice = Http(rest, pki, cert=None, token=pki.tokens["alice"])
    merge = "application/merge-patch+json"
    code, _, patched = alice.request("PATCH", "/api/v1/namespaces/default/configmaps/alices",
                                     {"metadata": {"labels": {"by": "alice"}}}, content_type=merge)
    assert code == 200 and patched["metadata"]["labels"] == {"by": "alice"}
    code, _, status = alice.request("PATCH", "/api/v1/namespaces/kube-system/configmaps/system",
                                    {"metadata": {"labels": {"by": "alice"}}}, content_type=merge)
    assert code == 403 and status["message"] == ('configmaps "system" is forbidden: User "alice" cannot patch '
                                                 'resource "configmaps" in API group "" in the namespace '
                                                 '"kube-system"')
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "rest-node"}}
    assert admin.request("POST", "/api/v1/nodes", node)[0] == 201
    pki.node_config("rest-node")
    own = Http(rest, pki, cert="node-rest-node")
    taint = {"spec": {"taints": [{"key": "mine", "effect": "NoSchedule"}]}}
    code, _, status = own.request("PATCH", "/api/v1/nodes/rest-node", taint, content_type=merge)
    assert code == 403 and "taints" in status["message"]
    code, _, _ = own.request("PATCH", "/api/v1/nodes/rest-node", {"metadata": {"labels": {"ok": "1"}}},
                             content_type=merge)
    assert code == 200
