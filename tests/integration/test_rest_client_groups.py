"""The official Python client across the API groups beyond core: typed create, read, list, replace with a
stale resourceVersion, patches, /status, deletes with preconditions, and the answers' JSON as
kube-apiserver writes it: messages naming `resource.group`, Go's always-written structs (`"status": {}`,
a container's `"resources": {}`, a template's `"creationTimestamp": null`) with the scalars they require."""

from __future__ import annotations

import json

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer, write_kubeconfig

NS = "default"
TEMPLATE = {"metadata": {"labels": {"app": "g"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


@pytest.fixture(scope="module")
def api(rest: RestServer, pki: Pki, tmp_path_factory) -> k8s.ApiClient:
    path = write_kubeconfig(tmp_path_factory.mktemp("groups") / "config", pki, rest.url)
    c = k8s_config.new_client_from_config(config_file=str(path))
    yield c
    c.close()


def _statefulset(name: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "labels": {"tier": "db"}},
            "spec": {"serviceName": name, "replicas": 1, "selector": {"matchLabels": {"app": "g"}},
                     "template": TEMPLATE}}


def _status(e: pytest.ExceptionInfo) -> dict:
    return json.loads(e.value.body)


def test_messages_name_the_resource_with_its_group(api: k8s.ApiClient) -> None:
    apps = k8s.AppsV1Api(api)
    created = apps.create_namespaced_stateful_set(NS, _statefulset("db"))
    with pytest.raises(ApiException) as exists:
        apps.create_namespaced_stateful_set(NS, _statefulset("db"))
    assert _status(exists)["message"] == 'statefulsets.apps "db" already exists'
    stale = _statefulset("db")
    stale["metadata"]["resourceVersion"] = str(int(created.metadata.resource_version) - 1)
    apps.patch_namespaced_stateful_set("db", NS, {"metadata": {"labels": {"moved": "on"}}})
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_stateful_set("db", NS, stale)
    assert (conflict.value.status, _status(conflict)["reason"]) == (409, "Conflict")
    assert _status(conflict)["message"] == f'Operation cannot be fulfilled on statefulsets.apps "db": {MODIFIED}'
    with pytest.raises(ApiException) as wrong_uid:
        apps.delete_namespaced_stateful_set("db", NS, body=k8s.V1DeleteOptions(
            preconditions=k8s.V1Preconditions(uid="not-its-uid")))
    assert _status(wrong_uid)["message"].startswith('Operation cannot be fulfilled on statefulsets.apps "db": '
                                                    "Precondition failed: UID in precondition: not-its-uid")
    apps.delete_namespaced_stateful_set("db", NS, body=k8s.V1DeleteOptions(
        propagation_policy="Background", preconditions=k8s.V1Preconditions(uid=created.metadata.uid)))
    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_stateful_set("db", NS)
    status = _status(missing)
    assert status["message"] == 'statefulsets.apps "db" not found'
    assert status["details"] == {"name": "db", "group": "apps", "kind": "statefulsets"}
    with pytest.raises(ApiException) as missing_rule:
        k8s.NetworkingV1Api(api).read_namespaced_ingress("none", NS)
    assert _status(missing_rule)["message"] == 'ingresses.networking.k8s.io "none" not found'


def test_answers_write_the_structs_go_always_writes(api: k8s.ApiClient) -> None:
    apps, policy = k8s.AppsV1Api(api), k8s.PolicyV1Api(api)
    raw = json.loads(apps.create_namespaced_stateful_set(NS, _statefulset("web"), _preload_content=False).data)
    assert raw["status"] == {"replicas": 0}
    template = raw["spec"]["template"]
    assert template["metadata"] == {"labels": {"app": "g"}, "creationTimestamp": None}
    assert template["spec"]["containers"][0]["resources"] == {}
    daemons = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
               "spec": {"selector": {"matchLabels": {"app": "g"}}, "template": TEMPLATE}}
    ds = apps.create_namespaced_daemon_set(NS, daemons)
    assert (ds.status.number_ready, ds.status.desired_number_scheduled) == (0, 0)
    listed = apps.list_namespaced_daemon_set(NS, label_selector="!missing")
    assert listed.items[0].status.current_number_scheduled == 0
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"selector": {"matchLabels": {"app": "g"}}, "template": TEMPLATE}}
    assert apps.create_namespaced_deployment(NS, deploy).status is not None  # `"status": {}`, as Go writes it
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
           "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "g"}}}}
    budget = json.loads(policy.create_namespaced_pod_disruption_budget(NS, pdb, _preload_content=False).data)
    assert budget["status"] == {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web"},
               "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}}
    created = k8s.NetworkingV1Api(api).create_namespaced_ingress(NS, ingress, _preload_content=False)
    assert json.loads(created.data)["status"] == {"loadBalancer": {}}


def test_a_json_patch_adds_below_an_empty_struct(api: k8s.ApiClient) -> None:
    apps, networking = k8s.AppsV1Api(api), k8s.NetworkingV1Api(api)
    apps.create_namespaced_stateful_set(NS, _statefulset("limits"))
    ops = [{"op": "add", "path": "/spec/template/spec/containers/0/resources/limits", "value": {"cpu": "1"}}]
    patched = apps.patch_namespaced_stateful_set("limits", NS, ops)
    assert patched.spec.template.spec.containers[0].resources.limits == {"cpu": "1"}
    networking.create_namespaced_ingress(NS, {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                                              "metadata": {"name": "lb"}, "spec": {"defaultBackend": {
                                                  "service": {"name": "lb", "port": {"number": 80}}}}})
    ops = [{"op": "add", "path": "/status/loadBalancer/ingress", "value": [{"ip": "192.0.2.7"}]}]
    status = networking.patch_namespaced_ingress_status("lb", NS, ops)
    assert status.status.load_balancer.ingress[0].ip == "192.0.2.7"


def test_sending_back_what_was_read_changes_nothing(api: k8s.ApiClient) -> None:
    """The empty structs of an answer (`resources: {}`, `status: {}`) sent back in a replace are no change:
    the generation stays, so no rollout starts."""
    apps = k8s.AppsV1Api(api)
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "round-trip"},
              "spec": {"selector": {"matchLabels": {"app": "g"}}, "template": TEMPLATE}}
    apps.create_namespaced_deployment(NS, deploy)
    read = apps.read_namespaced_deployment("round-trip", NS)
    assert read.spec.template.spec.containers[0].resources is not None  # `{}` in the answer
    replaced = apps.replace_namespaced_deployment("round-trip", NS, read)
    assert replaced.metadata.generation == 1
    sent = json.loads(apps.read_namespaced_deployment("round-trip", NS, _preload_content=False).data)
    assert sent["spec"]["template"]["spec"]["containers"][0]["resources"] == {}
