"""The rest of kubectl over REST, with the machine's real kubectl: its generators (`create configmap|secret|
deployment|namespace|quota|job`), which send Kubernetes' protobuf; `auth can-i` and `auth whoami` (the
review APIs, also protobuf); `drain` (cordon, then pods/eviction, refused with 429 while a
PodDisruptionBudget allows nothing); `delete --all` and `-l`; and raw HTTPS for pods/binding,
deletecollection and SubjectAccessReview; the official Python client's delete_collection and eviction."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import subprocess
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from control.apiserver.rest.k8sencode import encode, message_of
from control.apiserver.rest.k8sproto import decode
from tests.fixtures.pki import Pki
from tests.fixtures.rest import Http, RestServer, kubectl, write_kubeconfig


@pytest.fixture(scope="module")
def admin(rest: RestServer, pki: Pki) -> Http:
    return Http(rest, pki)


def run(kube: Path, *args: str, input: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    result = kubectl(kube, *args, input=input)
    if ok:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def get_json(kube: Path, *args: str) -> dict:
    return json.loads(run(kube, "get", *args, "-o", "json").stdout)


def test_generators_send_protobuf_and_create(kube: Path) -> None:
    created = run(kube, "create", "configmap", "gen-cm", "--from-literal=a=1", "--from-literal=b=two", "-v=8")
    assert created.stdout.strip() == "configmap/gen-cm created"
    # the body and the answer both in protobuf, not JSON: the transcoders ran both ways
    assert created.stderr.count("Content-Type: application/vnd.kubernetes.protobuf") >= 2, created.stderr
    assert get_json(kube, "configmap", "gen-cm")["data"] == {"a": "1", "b": "two"}
    run(kube, "create", "secret", "generic", "gen-secret", "--from-literal=token=s3cret")
    secret = get_json(kube, "secret", "gen-secret")
    assert (secret["type"], base64.b64decode(secret["data"]["token"])) == ("Opaque", b"s3cret")
    run(kube, "create", "namespace", "gen-ns")
    assert get_json(kube, "namespace", "gen-ns")["status"]["phase"] == "Active"
    run(kube, "create", "quota", "gen-quota", "--hard=pods=5,requests.cpu=1500m,requests.memory=1Gi")
    assert get_json(kube, "quota", "gen-quota")["spec"]["hard"] == {"pods": "5", "requests.cpu": "1500m",
                                                                     "requests.memory": "1Gi"}


def test_deployment_generator_keeps_zero_replicas_and_ports(kube: Path) -> None:
    run(kube, "create", "deployment", "gen-web", "--image=busybox:1", "--replicas=0", "--port=8080")
    deploy = get_json(kube, "deployment", "gen-web")
    assert deploy["spec"]["replicas"] == 0  # a pointer's zero on the wire is kept, not defaulted to 1
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"], container["ports"]) == \
        ("busybox", "busybox:1", [{"containerPort": 8080, "protocol": "TCP"}])
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "gen-web"}}
    assert deploy["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}


def test_job_generator_and_dry_run(kube: Path) -> None:
    run(kube, "create", "job", "gen-job", "--image=busybox:1", "--", "sh", "-c", "echo hi")
    job = get_json(kube, "job", "gen-job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c", "echo hi"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    out = run(kube, "create", "configmap", "gen-dry", "--from-literal=x=y", "--dry-run=server").stdout
    assert out.strip() == "configmap/gen-dry created (server dry run)"
    assert run(kube, "get", "configmap", "gen-dry", ok=False).returncode == 1


def test_generator_refusals_come_back_in_kubernetes_words(kube: Path) -> None:
    run(kube, "create", "configmap", "gen-twice")
    again = run(kube, "create", "configmap", "gen-twice", ok=False)
    assert again.returncode == 1
    assert again.stderr.strip() == 'error: failed to create configmap: configmaps "gen-twice" already exists'


def test_auth_can_i_and_whoami(kube: Path, rest: RestServer, pki: Pki, admin: Http) -> None:
    assert run(kube, "auth", "can-i", "create", "pods").stdout.strip() == "yes"
    alice = write_kubeconfig(kube.parent / "alice", pki, rest.url, cert=None, token=pki.tokens["alice"])
    denied = kubectl(alice, "auth", "can-i", "delete", "nodes")
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "alice-view", "namespace": "default"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}
    assert admin.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                         binding)[0] == 201
    assert kubectl(alice, "auth", "can-i", "list", "pods").stdout.strip() == "yes"
    assert kubectl(alice, "auth", "can-i", "list", "pods", "-n", "kube-system").stdout.strip() == "no"
    assert run(kube, "auth", "can-i", "get", "/healthz").stdout.strip() == "yes"
    listed = kubectl(alice, "auth", "can-i", "--list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line[line.rindex("["):].strip() for line in listed.stdout.splitlines()[1:]}
    assert rows["pods"] == "[get list watch]" and rows["selfsubjectreviews.authentication.k8s.io"] == "[create]"
    assert "secrets" not in rows  # view does not read secrets
    assert kubectl(alice, "auth", "can-i", "--list", "-n", "kube-system").stdout.count("pods ") == 0
    admin_rows = run(kube, "auth", "can-i", "--list").stdout.splitlines()
    assert admin_rows[1].split() == ["*.*", "[]", "[]", "[*]"]
    who = kubectl(alice, "auth", "whoami", "-o", "json")
    assert who.returncode == 0, who.stderr
    user = json.loads(who.stdout)["status"]["userInfo"]
    assert (user["username"], "system:authenticated" in user["groups"]) == ("alice", True)
    table = run(kube, "auth", "whoami").stdout
    assert table.split("\n")[1].split() == ["Username", "admin"]


def test_subject_access_review_needs_its_own_permission(admin: Http, rest: RestServer, pki: Pki) -> None:
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
              "spec": {"user": "bob", "resourceAttributes": {"verb": "get", "resource": "pods",
                                                              "namespace": "default"}}}
    code, _, doc = admin.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
    assert (code, doc["status"]["allowed"], doc["spec"]["user"]) == (201, False, "bob")
    code, _, doc = admin.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                 {**review, "spec": {**review["spec"], "groups": ["system:masters"]}})
    assert (code, doc["status"]["allowed"]) == (201, True)
    code, _, doc = admin.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                 {**review, "spec": {"resourceAttributes": {"verb": "get"}}})
    assert (code, doc["reason"]) == (422, "Invalid")
    assert doc["details"]["causes"][0]["field"] == "spec.user"
    bob = Http(rest, pki, cert=None, token=pki.tokens["bob"])
    code, _, doc = bob.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
    assert (code, doc["message"]) == (403, 'subjectaccessreviews.authorization.k8s.io is forbidden: User "bob" '
                                            'cannot create resource "subjectaccessreviews" in API group '
                                            '"authorization.k8s.io" at the cluster scope')
    local = {**review, "kind": "LocalSubjectAccessReview", "metadata": {"namespace": "default"}}
    path = "/apis/authorization.k8s.io/v1/namespaces/other/localsubjectaccessreviews"
    code, _, doc = admin.request("POST", path, {**local, "metadata": {}})
    assert code == 422 and doc["details"]["causes"][0]["field"] == "spec.resourceAttributes.namespace"


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "NAME", "labels": {"app": "drained"}},
       "spec": {"nodeName": "NODE", "containers": [{"name": "c", "image": "busybox:1"}]}}


def _pod(admin: Http, name: str, node: str = "", namespace: str = "default") -> None:
    pod = json.loads(json.dumps(POD).replace("NAME", name).replace("NODE", node))
    if not node:
        del pod["spec"]["nodeName"]
    code, _, doc = admin.request("POST", f"/api/v1/namespaces/{namespace}/pods", pod)
    assert code == 201, doc


def _running(admin: Http, namespace: str, name: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/pods/{name}/status"
    code, _, doc = admin.request("PATCH", path, {"status": {"phase": "Running"}},
                                 content_type="application/merge-patch+json")
    assert code == 200 and doc["status"]["phase"] == "Running", doc


def test_binding_subresource(admin: Http) -> None:
    assert admin.request("POST", "/api/v1/nodes", {"kind": "Node", "metadata": {"name": "bind-node"}})[0] == 201
    _pod(admin, "to-bind")
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "to-bind"},
               "target": {"kind": "Node", "name": "bind-node"}}
    code, _, doc = admin.request("POST", "/api/v1/namespaces/default/pods/to-bind/binding", binding)
    assert (code, doc["status"]) == (201, "Success")
    assert admin.request("GET", "/api/v1/namespaces/default/pods/to-bind")[2]["spec"]["nodeName"] == "bind-node"
    code, _, doc = admin.request("POST", "/api/v1/namespaces/default/pods/to-bind/binding", binding)
    assert (code, doc["reason"]) == (409, "Conflict")
    code, _, doc = admin.request("POST", "/api/v1/namespaces/default/pods/other/binding", binding)
    assert (code, doc["message"]) == (400, "name in URL does not match name in Binding object")
    assert admin.request("GET", "/api/v1/namespaces/default/pods/to-bind/binding")[0] == 405


def test_drain_evicts_and_a_budget_refuses_with_429(kube: Path, admin: Http) -> None:
    assert admin.request("POST", "/api/v1/nodes", {"kind": "Node", "metadata": {"name": "drain-node"}})[0] == 201
    run(kube, "create", "namespace", "drain")
    for name in ("guarded", "free"):
        _pod(admin, name, "drain-node", "drain")
        _running(admin, "drain", name)  # a Pending pod is evicted whatever the budgets say
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "keep"},
           "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "drained"}}}}
    assert admin.request("POST", "/apis/policy/v1/namespaces/drain/poddisruptionbudgets", pdb)[0] == 201
    refused = run(kube, "drain", "drain-node", "--force", "--grace-period=0", "--timeout=3s", ok=False)
    assert refused.returncode == 1
    assert "Cannot evict pod as it would violate the pod's disruption budget." in refused.stderr
    code, _, doc = admin.request("POST", "/api/v1/namespaces/drain/pods/free/eviction",
                                 {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "free"}})
    assert (code, doc["reason"], doc["details"]["causes"][0]["reason"]) == (429, "TooManyRequests",
                                                                             "DisruptionBudget")
    assert get_json(kube, "node", "drain-node")["spec"]["unschedulable"] is True
    run(kube, "delete", "pdb", "keep", "-n", "drain")
    drained = run(kube, "drain", "drain-node", "--force", "--grace-period=0", "--timeout=30s")
    assert "node/drain-node drained" in drained.stdout
    assert get_json(kube, "pods", "-n", "drain")["items"] == []


def test_delete_all_selectors_and_deletecollection(kube: Path, admin: Http) -> None:
    run(kube, "create", "namespace", "sweep")
    for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
        cm = {"kind": "ConfigMap", "metadata": {"name": name, "labels": {"tier": tier}}}
        assert admin.request("POST", "/api/v1/namespaces/sweep/configmaps", cm)[0] == 201
    out = run(kube, "delete", "configmaps", "-l", "tier=db", "-n", "sweep").stdout
    assert out.strip() == 'configmap "c" deleted'
    code, _, doc = admin.request("DELETE", "/api/v1/namespaces/sweep/configmaps?labelSelector=tier%3Dweb")
    assert (code, doc["kind"], sorted(i["metadata"]["name"] for i in doc["items"])) == (200, "ConfigMapList",
                                                                                       ["a", "b"])
    names = [i["metadata"]["name"] for i in get_json(kube, "configmaps", "-n", "sweep")["items"]]
    assert "a" not in names and "b" not in names
    for name in ("p1", "p2"):
        _pod(admin, name, namespace="sweep")
    run(kube, "delete", "pods", "--all", "-n", "sweep")
    assert get_json(kube, "pods", "-n", "sweep")["items"] == []
    assert admin.request("POST", "/api/v1/namespaces/sweep/configmaps", {"metadata": {"name": "kept"}})[0] == 201
    assert admin.request("DELETE", "/api/v1/configmaps")[0] == 405  # not across namespaces
    assert admin.request("DELETE", "/api/v1/namespaces")[0] == 405  # namespaces have no deletecollection
    code, _, doc = admin.request("DELETE", "/api/v1/namespaces/sweep/configmaps?dryRun=All")
    assert (code, [i["metadata"]["name"] for i in doc["items"]]) == (200, ["kept"])
    assert [i["metadata"]["name"] for i in get_json(kube, "configmaps", "-n", "sweep")["items"]] == ["kept"]


def test_more_generators_int_or_string_and_nested_messages(kube: Path) -> None:
    run(kube, "create", "service", "clusterip", "gen-svc", "--tcp=80:8080")
    port = get_json(kube, "service", "gen-svc")["spec"]["ports"][0]
    assert (port["port"], port["targetPort"], port["protocol"]) == (80, 8080, "TCP")
    run(kube, "create", "service", "nodeport", "gen-np", "--tcp=8443:https")
    assert get_json(kube, "service", "gen-np")["spec"]["ports"][0]["targetPort"] == "https"
    run(kube, "create", "poddisruptionbudget", "gen-pdb", "--selector=app=x", "--min-available=50%")
    assert get_json(kube, "pdb", "gen-pdb")["spec"]["minAvailable"] == "50%"
    run(kube, "create", "cronjob", "gen-cron", "--image=busybox:1", "--schedule=*/5 * * * *", "--", "date")
    cron = get_json(kube, "cronjob", "gen-cron")
    assert cron["spec"]["schedule"] == "*/5 * * * *"
    assert cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] == ["date"]
    run(kube, "create", "role", "gen-role", "--verb=get,list", "--resource=pods,deployments.apps")
    rules = get_json(kube, "role", "gen-role")["rules"]
    assert {(tuple(r["apiGroups"]), tuple(r["resources"])) for r in rules} == {(("",), ("pods",)),
                                                                               (("apps",), ("deployments",))}
    run(kube, "create", "rolebinding", "gen-rb", "--role=gen-role", "--user=jane", "--serviceaccount=default:sa")
    subjects = get_json(kube, "rolebinding", "gen-rb")["subjects"]
    assert [(s["kind"], s["name"]) for s in subjects] == [("User", "jane"), ("ServiceAccount", "sa")]
    run(kube, "create", "priorityclass", "gen-pc", "--value=1000", "--description=high", "--preemption-policy=Never")
    pc = get_json(kube, "priorityclass", "gen-pc")
    assert (pc["value"], pc["description"], pc["preemptionPolicy"], pc.get("globalDefault", False)) == \
        (1000, "high", "Never", False)
    run(kube, "create", "ingress", "gen-ing", "--rule=example.com/api*=gen-svc:80")
    path = get_json(kube, "ingress", "gen-ing")["spec"]["rules"][0]["http"]["paths"][0]
    assert (path["path"], path["pathType"], path["backend"]["service"]["port"]["number"]) == ("/api", "Prefix", 80)
    run(kube, "create", "serviceaccount", "gen-sa")
    run(kube, "create", "secret", "docker-registry", "gen-reg", "--docker-server=r.example", "--docker-username=u",
        "--docker-password=p")
    secret = get_json(kube, "secret", "gen-reg")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    assert auths["r.example"]["username"] == "u"


def test_python_client_delete_collection_and_eviction(rest: RestServer, pki: Pki, kube: Path, admin: Http) -> None:
    path = write_kubeconfig(kube.parent / "pyclient", pki, rest.url)
    api = k8s_config.new_client_from_config(config_file=str(path))
    try:
        core = k8s.CoreV1Api(api)
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="pycoll")))
        for name in ("x", "y"):
            core.create_namespaced_config_map("pycoll", k8s.V1ConfigMap(
                metadata=k8s.V1ObjectMeta(name=name, labels={"set": "one"}), data={"k": name}))
        core.delete_collection_namespaced_config_map("pycoll", label_selector="set=one",
                                                     body=k8s.V1DeleteOptions(propagation_policy="Background"))
        assert core.list_namespaced_config_map("pycoll", label_selector="set=one").items == []
        _pod(admin, "evictee", namespace="pycoll")
        core.create_namespaced_pod_eviction("evictee", "pycoll", k8s.V1Eviction(
            metadata=k8s.V1ObjectMeta(name="evictee", namespace="pycoll")))
        assert core.list_namespaced_pod("pycoll").items == []
    finally:
        api.close()


def test_protobuf_answers_read_back_as_the_json_ones(rest: RestServer, pki: Pki, admin: Http) -> None:
    assert admin.request("POST", "/api/v1/namespaces/default/configmaps",
                         {"metadata": {"name": "wire", "labels": {"a": "b"}}, "data": {"k": "v"}})[0] == 201
    ctx = ssl.create_default_context(cafile=pki.ca)
    ctx.load_cert_chain(pki.file("admin.crt"), pki.file("admin.key"))
    for path in ("/api/v1/namespaces/default/configmaps/wire", "/api/v1/namespaces/default/configmaps"):
        conn = http.client.HTTPSConnection("127.0.0.1", rest.port, context=ctx, timeout=20)
        conn.request("GET", path, headers={"Accept": "application/vnd.kubernetes.protobuf, application/json"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert (resp.status, resp.getheader("Content-Type")) == (200, "application/vnd.kubernetes.protobuf")
        as_json = admin.request("GET", path)[2]
        assert decode(body) == decode(encode(as_json, message_of(as_json)))
    code, headers, doc = admin.request("GET", "/api/v1/namespaces/default/configmaps/absent",
                                       headers={"Accept": "application/vnd.kubernetes.protobuf"})
    assert (code, headers["Content-Type"], doc["reason"]) == (404, "application/json", "NotFound")
