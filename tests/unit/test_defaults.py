"""Kubernetes' defaults, filled in place and never overriding what the user set."""

from __future__ import annotations

import pytest

from control.apiserver.defaults import image_pull_policy
from control.apiserver.registry import apply_defaults
from control.client.convert import from_dict, to_dict


def defaulted(obj: dict) -> dict:
    msg = from_dict(obj)
    apply_defaults(msg)
    return to_dict(msg)


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
       "spec": {"containers": [{
           "name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
           "livenessProbe": {"httpGet": {"port": 80}},
           "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 5, "timeoutSeconds": 0},
           "lifecycle": {"preStop": {"httpGet": {"port": 80}}},
           "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
           "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m"}},
       }],
           "initContainers": [{"name": "i", "image": "busybox"}],
           "volumes": [{"name": "s", "secret": {"secretName": "s"}},
                       {"name": "m", "configMap": {"name": "m", "defaultMode": 256}}]}}


def test_pod_spec_defaults() -> None:
    spec = defaulted(POD)["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {}
    assert spec["enableServiceLinks"] is True
    assert spec["volumes"][0]["secret"]["defaultMode"] == 0o644
    assert spec["volumes"][1]["configMap"]["defaultMode"] == 256  # kept


def test_container_defaults() -> None:
    spec = defaulted(POD)["spec"]
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert spec["initContainers"][0]["imagePullPolicy"] == "Always"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["ports"][0]["protocol"] == "TCP"
    assert c["livenessProbe"] == {"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}, "timeoutSeconds": 1,
                                  "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    assert c["readinessProbe"]["periodSeconds"] == 5  # kept
    assert c["readinessProbe"]["timeoutSeconds"] == 1  # zero means unset, as in Kubernetes
    assert c["lifecycle"]["preStop"]["httpGet"] == {"path": "/", "port": 80, "scheme": "HTTP"}
    assert c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"


def test_pod_requests_default_to_limits() -> None:
    c = defaulted(POD)["spec"]["containers"][0]
    assert c["resources"]["requests"] == {"cpu": "100m", "memory": "1Gi"}


def test_user_values_are_kept() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"restartPolicy": "Never", "dnsPolicy": "Default", "terminationGracePeriodSeconds": 0,
                    "schedulerName": "mine", "enableServiceLinks": False,
                    "containers": [{"name": "c", "image": "x", "imagePullPolicy": "Never",
                                    "terminationMessagePolicy": "FallbackToLogsOnError",
                                    "ports": [{"containerPort": 53, "protocol": "UDP"}]}]}}
    spec = defaulted(pod)["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == ("Never", "Default", "mine")
    assert spec["terminationGracePeriodSeconds"] == 0
    assert spec["enableServiceLinks"] is False
    c = spec["containers"][0]
    assert (c["imagePullPolicy"], c["terminationMessagePolicy"]) == ("Never", "FallbackToLogsOnError")
    assert c["ports"][0]["protocol"] == "UDP"


def test_host_network_ports_get_host_ports() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"hostNetwork": True,
                    "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 8080}]}]}}
    assert defaulted(pod)["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


@pytest.mark.parametrize("image, policy", [
    ("nginx", "Always"),
    ("nginx:latest", "Always"),
    ("nginx:1.25", "IfNotPresent"),
    ("registry.local:5000/nginx", "Always"),
    ("registry.local:5000/nginx:1.0", "IfNotPresent"),
    ("registry.local:5000/team/nginx:latest", "Always"),
    ("registry.k8s.io/redis@sha256:cb111d1bd870a6a471385a4a69ad17469d326e9dd91e0e455350cacf36e1b3ee",
     "IfNotPresent"),
])
def test_image_pull_policy(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


TEMPLATE = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}


def test_replica_set_defaults() -> None:
    rs = defaulted({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "r"},
                    "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": TEMPLATE}})
    assert rs["spec"]["replicas"] == 1
    tpl = rs["spec"]["template"]["spec"]
    assert tpl["restartPolicy"] == "Always" and tpl["dnsPolicy"] == "ClusterFirst"
    assert tpl["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert "enableServiceLinks" not in tpl  # a Pod default, not a template one


def test_deployment_defaults() -> None:
    d = defaulted({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": TEMPLATE}})["spec"]
    assert d["replicas"] == 1
    assert d["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert d["revisionHistoryLimit"] == 10
    assert d["progressDeadlineSeconds"] == 600
    assert d["template"]["spec"]["schedulerName"] == "default-scheduler"


def test_deployment_keeps_explicit_values() -> None:
    d = defaulted({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"replicas": 0, "revisionHistoryLimit": 0, "selector": {"matchLabels": {"app": "a"}},
                            "strategy": {"rollingUpdate": {"maxSurge": 0}}, "template": TEMPLATE}})["spec"]
    assert d["replicas"] == 0 and d["revisionHistoryLimit"] == 0
    assert d["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": "25%"}
    recreate = defaulted({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                          "spec": {"strategy": {"type": "Recreate"}, "template": TEMPLATE}})["spec"]
    assert recreate["strategy"] == {"type": "Recreate"}


def test_service_defaults() -> None:
    svc = defaulted({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                     "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}, {"port": 53, "protocol": "UDP",
                                                                                  "targetPort": "dns"}]}})["spec"]
    assert svc["type"] == "ClusterIP"
    assert svc["sessionAffinity"] == "None"
    assert svc["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    assert svc["ports"][1]["targetPort"] == "dns"
    assert svc["ipFamilies"] == ["IPv4"] and svc["ipFamilyPolicy"] == "SingleStack"
    assert svc["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in svc
    assert "clusterIP" not in svc  # allocation is the apiserver's


def test_node_port_and_client_ip_service_defaults() -> None:
    svc = defaulted({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                     "spec": {"type": "NodePort", "sessionAffinity": "ClientIP", "ports": [{"port": 80}]}})["spec"]
    assert svc["externalTrafficPolicy"] == "Cluster"
    assert svc["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert "nodePort" not in svc["ports"][0]


def test_external_name_service_gets_no_ip_family_defaults() -> None:
    svc = defaulted({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                     "spec": {"type": "ExternalName", "externalName": "example.com"}})["spec"]
    assert "ipFamilies" not in svc and "internalTrafficPolicy" not in svc


def test_secret_endpoints_node_lease_defaults() -> None:
    assert defaulted({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})["type"] == "Opaque"
    tls = defaulted({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "kubernetes.io/tls"})
    assert tls["type"] == "kubernetes.io/tls"
    ep = defaulted({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "e"},
                    "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]})
    assert ep["subsets"][0]["ports"][0]["protocol"] == "TCP"
    node = defaulted({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
                      "status": {"capacity": {"cpu": "2", "memory": "1Gi"}}})
    assert node["status"]["allocatable"] == {"cpu": "2", "memory": "1Gi"}
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"}, "spec": {}}
    assert defaulted(lease) == to_dict(from_dict(lease))  # Leases have no defaults


def test_namespace_defaults_on_create_only() -> None:
    ns = defaulted({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}})
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    assert ns["status"]["phase"] == "Active"
    # An update (it has a resourceVersion) after the namespace controller removed the finalizer.
    updated = defaulted({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev", "resourceVersion": "5"},
                         "status": {"phase": "Terminating"}})
    assert "finalizers" not in updated.get("spec", {})
    assert updated["status"]["phase"] == "Terminating"


def test_defaults_are_idempotent() -> None:
    once = defaulted(POD)
    assert defaulted(once) == once
