"""skiffctl's output: kubectl's ages, columns and statuses, and the json/yaml/name forms."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from google.protobuf.timestamp_pb2 import Timestamp

from control.cli.printers import format_objects, format_table
from control.client.convert import from_dict
from control.client.humanize import human_duration, parse_quantity
from control.client.podprinting import pod_ready_text, pod_status_text
from control.client.printers import node_status_text, service_ports_text


@pytest.mark.parametrize("seconds,text", [
    (-5, "<invalid>"), (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (312, "5m12s"), (600, "10m"),
    (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 300, "3h5m"), (8 * 3600, "8h"), (47 * 3600, "47h"),
    (3 * 86400, "3d"), (3 * 86400 + 7200, "3d2h"), (30 * 86400, "30d"), (800 * 86400, "2y70d"),
    (9 * 365 * 86400, "9y"),
])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


@pytest.mark.parametrize("text,value", [("500m", 0.5), ("2", 2), ("1.5", 1.5), ("128Mi", 128 * 2**20),
                                        ("1G", 1e9), ("1e3", 1000)])
def test_parse_quantity(text, value):
    assert parse_quantity(text) == pytest.approx(value)


def _pod(status: dict, spec: dict | None = None, meta: dict | None = None):
    spec = spec or {"containers": [{"name": "a", "image": "x"}]}
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", **(meta or {})},
                      "spec": spec, "status": status})


@pytest.mark.parametrize("status,text", [
    ({"phase": "Pending"}, "Pending"),
    ({"phase": "Pending", "containerStatuses": [{"name": "a", "state": {"waiting": {"reason": "ContainerCreating"}}}]},
     "ContainerCreating"),
    ({"phase": "Running", "containerStatuses": [{"name": "a", "ready": True, "state": {"running": {}}}]}, "Running"),
    ({"phase": "Running", "containerStatuses": [{"name": "a", "restartCount": 4,
                                                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]},
     "CrashLoopBackOff"),
    ({"phase": "Succeeded", "containerStatuses": [{"name": "a",
                                                   "state": {"terminated": {"reason": "Completed"}}}]},
     "Completed"),
    ({"phase": "Failed", "containerStatuses": [{"name": "a", "state": {"terminated": {"exitCode": 3}}}]},
     "ExitCode:3"),
    ({"phase": "Failed", "reason": "Evicted"}, "Evicted"),
])
def test_pod_status(status, text):
    assert pod_status_text(_pod(status)) == text


def test_pod_status_init_and_terminating():
    spec = {"initContainers": [{"name": "i", "image": "x"}], "containers": [{"name": "a", "image": "x"}]}
    running_init = {"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"running": {}}}]}
    assert pod_status_text(_pod(running_init, spec)) == "Init:0/1"
    failed_init = {"phase": "Pending", "initContainerStatuses": [
        {"name": "i", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    assert pod_status_text(_pod(failed_init, spec)) == "Init:CrashLoopBackOff"
    deleting = _pod({"phase": "Running"}, meta={"deletionTimestamp": "2024-01-01T00:00:00Z"})
    assert pod_status_text(deleting) == "Terminating"


def test_pod_ready_counts_sidecars():
    spec = {"initContainers": [{"name": "side", "image": "x", "restartPolicy": "Always"}],
            "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "x"}]}
    status = {"initContainerStatuses": [{"name": "side", "ready": True}],
              "containerStatuses": [{"name": "a", "ready": True}, {"name": "b"}]}
    assert pod_ready_text(_pod(status, spec)) == "2/3"


def _ago(seconds: int) -> str:
    ts = Timestamp()
    ts.FromSeconds(int(time.time()) - seconds)
    return ts.ToJsonString()


def test_pod_table_plain_and_wide():
    pod = _pod({"phase": "Running", "podIP": "10.244.1.5",
                "containerStatuses": [{"name": "a", "ready": True, "restartCount": 0, "state": {"running": {}}}]},
               {"nodeName": "node-1", "containers": [{"name": "a", "image": "x"}]},
               {"namespace": "default", "creationTimestamp": _ago(312)})
    assert format_table("Pod", [pod], wide=False, with_namespace=False).splitlines() == [
        "NAME   READY   STATUS    RESTARTS   AGE",
        "p      1/1     Running   0          5m12s",
    ]
    wide = format_table("Pod", [pod], wide=True, with_namespace=True).splitlines()
    assert wide[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                               "NOMINATED", "NODE", "READINESS", "GATES"]
    assert wide[1].split() == ["default", "p", "1/1", "Running", "0", "5m12s", "10.244.1.5", "node-1",
                               "<none>", "<none>"]


def test_deployment_and_service_tables():
    d = from_dict({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "web", "creationTimestamp": _ago(3 * 86400)},
                   "spec": {"replicas": 3}, "status": {"readyReplicas": 2, "updatedReplicas": 3,
                                                       "availableReplicas": 2}})
    assert format_table("Deployment", [d], False, False).splitlines()[1].split() == ["web", "2/3", "3", "2", "3d"]
    svc = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                     "spec": {"type": "NodePort", "clusterIP": "10.96.0.10",
                              "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                                        {"port": 53, "protocol": "UDP"}]}})
    assert service_ports_text(svc) == "80:30080/TCP,53/UDP"
    row = format_table("Service", [svc], False, False).splitlines()[1].split()
    assert row == ["s", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP,53/UDP", "<unknown>"]


def test_node_status():
    node = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
                      "spec": {"unschedulable": True},
                      "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert node_status_text(node) == "Ready,SchedulingDisabled"
    node.spec.unschedulable = False
    node.status.conditions[0].status = "Unknown"
    assert node_status_text(node) == "NotReady"


def test_json_yaml_name_forms():
    secret = from_dict({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                        "data": {"k": "dmFsdWU="}})
    cm = from_dict({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}})
    one = json.loads(format_objects([secret], "json", as_list=False))
    assert list(one)[:3] == ["apiVersion", "kind", "metadata"] and one["data"] == {"k": "dmFsdWU="}
    many = json.loads(format_objects([secret, cm], "json", as_list=True))
    assert many["kind"] == "List" and many["metadata"] == {"resourceVersion": ""}
    assert [i["kind"] for i in many["items"]] == ["Secret", "ConfigMap"]
    assert yaml.safe_load(format_objects([cm], "yaml", as_list=False))["data"] == {"a": "1"}
    deploy = from_dict({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}})
    assert format_objects([cm, deploy], "name", as_list=True) == "configmap/c\ndeployment.apps/web\n"


def test_endpoints_events_leases_namespaces_configmaps():
    ep = from_dict({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
                    "subsets": [{"addresses": [{"ip": f"10.244.0.{i}"} for i in range(1, 6)],
                                 "ports": [{"port": 8080}]}]})
    assert format_table("Endpoints", [ep], False, False).splitlines()[1].split()[:2] == \
        ["web", "10.244.0.1:8080,10.244.0.2:8080,10.244.0.3:8080"]
    assert "+ 2 more..." in format_table("Endpoints", [ep], False, False)
    ev = from_dict({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "type": "Warning",
                    "reason": "BackOff", "message": "Back-off restarting failed container",
                    "lastTimestamp": _ago(30), "involvedObject": {"kind": "Pod", "name": "web-1"}})
    lines = format_table("Event", [ev], False, False).splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert lines[1].split()[:4] == ["30s", "Warning", "BackOff", "pod/web-1"]
    lease = from_dict({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "n1"},
                       "spec": {"holderIdentity": "n1"}})
    assert format_table("Lease", [lease], False, False).splitlines()[1].split()[:2] == ["n1", "n1"]
    ns = from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"},
                    "status": {"phase": "Terminating"}})
    assert format_table("Namespace", [ns], False, False).splitlines()[1].split()[:2] == ["x", "Terminating"]
    cm = from_dict({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"},
                    "binaryData": {"c": "AA=="}})
    assert format_table("ConfigMap", [cm], False, False).splitlines()[1].split()[:2] == ["c", "3"]


def test_label_columns_show_labels_and_sort_by():
    from control.cli.commands.get import sort_objects
    pods = [from_dict({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": n, "labels": labels}, "spec": {"priority": prio}})
            for n, labels, prio in (("b", {"app": "web", "tier": "x"}, 10), ("a", {}, 2), ("c", {"app": "db"}, 5))]
    table = format_table("Pod", pods, False, False, label_columns=("app", "example.com/tier"), show_labels=True)
    lines = table.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "APP", "TIER", "LABELS"]
    assert lines[1].split()[-2:] == ["web", "app=web,tier=x"]
    assert [p.metadata.name for p in sort_objects(pods, ".metadata.name")] == ["a", "b", "c"]
    assert [p.metadata.name for p in sort_objects(pods, "{.spec.priority}")] == ["a", "c", "b"]
    assert [p.metadata.name for p in sort_objects(pods, "metadata.labels.app")] == ["a", "c", "b"]


def test_policy_rule_rows_spell_resources_as_kubectl_describe_does():
    from control.cli.describe_kinds import _rule_rows
    from skiff.v1 import rbac_pb2

    rules = [rbac_pb2.PolicyRule(api_groups=["apps"], resources=["deployments", "deployments/scale"], verbs=["get"]),
             rbac_pb2.PolicyRule(api_groups=[""], resources=["pods/log"], verbs=["get", "list"])]
    assert [row[0] for row in _rule_rows(rules)] == ["deployments.apps", "deployments.apps/scale", "pods/log"]
