"""The objects skiffctl's imperative commands make, printed as kubectl prints a client dry run."""

from __future__ import annotations

import base64
import json

import pytest

from control.cli import generators
from control.cli.errors import CommandError
from control.cli.printers import format_dicts

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: d
  name: d
spec:
  replicas: 3
  selector:
    matchLabels:
      app: d
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: d
    spec:
      containers:
      - image: a/b:1
        name: b
        ports:
        - containerPort: 8080
        resources: {}
      - image: c
        name: c
        resources: {}
status: {}
"""

NODEPORT_YAML = """\
apiVersion: v1
kind: Service
metadata:
  creationTimestamp: null
  labels:
    app: np
  name: np
spec:
  ports:
  - name: 80-8080
    nodePort: 30080
    port: 80
    protocol: TCP
    targetPort: 8080
  - name: "443"
    nodePort: 30080
    port: 443
    protocol: TCP
    targetPort: 443
  selector:
    app: np
  type: NodePort
status:
  loadBalancer: {}
"""


def _yaml(obj: dict) -> str:
    return format_dicts([generators.kubectl_view(obj)], "yaml")


def test_deployment_and_service_as_kubectl_prints_them():
    assert _yaml(generators.deployment("d", ["a/b:1", "c"], 3, 8080)) == DEPLOYMENT_YAML
    assert _yaml(generators.service("np", "NodePort", ["80:8080", "443"], node_port=30080)) == NODEPORT_YAML
    headless = generators.service("h", "ClusterIP", [], cluster_ip="None")
    assert headless["spec"] == {"type": "ClusterIP", "selector": {"app": "h"}, "clusterIP": "None"}
    named = generators.service("n", "ClusterIP", ["80:http"])["spec"]["ports"][0]
    assert (named["name"], named["targetPort"]) == ("80-http", "http")
    with pytest.raises(CommandError, match="at least one tcp port specifier must be provided"):
        generators.service("x", "ClusterIP", [])
    with pytest.raises(CommandError, match='parsing "http": invalid syntax'):
        generators.service("x", "ClusterIP", ["http:80"])


def test_namespace_view():
    assert _yaml(generators.namespace("foo")) == (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  creationTimestamp: null\n  name: foo\nspec: {}\nstatus: {}\n")


def test_data_sources(tmp_path, monkeypatch):
    env = tmp_path / "e.env"
    env.write_text("\ufeffA=1\n# comment\n  B=two words\n\nC\n")
    monkeypatch.setenv("C", "from-env")
    assert generators.data_sources([], [], [str(env)], "Secret", "s") == \
        {"A": b"1", "B": b"two words", "C": b"from-env"}
    (tmp_path / "f.txt").write_text("hello\n")
    data = generators.data_sources(["x=y"], [str(tmp_path / "f.txt"), f"k={tmp_path / 'f.txt'}"], [],
                                   "ConfigMap", "c")
    assert data == {"f.txt": b"hello\n", "k": b"hello\n", "x": b"y"}
    with pytest.raises(CommandError, match="from-env-file cannot be combined with from-file or from-literal"):
        generators.data_sources(["a=b"], [], [str(env)], "Secret", "s")
    with pytest.raises(CommandError, match="invalid literal source a, expected key=value"):
        generators.data_sources(["a"], [], [], "Secret", "s")
    with pytest.raises(CommandError, match='cannot add key "a", another key by that name already exists in Data '
                                           'for ConfigMap "c"'):
        generators.data_sources(["a=1", "a=2"], [], [], "ConfigMap", "c")
    env.write_text("bad key=1\n")
    with pytest.raises(CommandError, match='"bad key" is not a valid key name: a valid environment variable'):
        generators.data_sources([], [], [str(env)], "Secret", "s")


def test_secrets(tmp_path):
    reg = generators.docker_registry_secret("reg", "r.example", "u", "p", "e@x", [])
    assert reg["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(reg["data"][".dockerconfigjson"]))
    assert config == {"auths": {"r.example": {"username": "u", "password": "p", "email": "e@x", "auth": "dTpw"}}}
    (tmp_path / "c").write_text("CERT")
    (tmp_path / "k").write_text("KEY")
    tls = generators.tls_secret("t", str(tmp_path / "c"), str(tmp_path / "k"))
    assert (tls["type"], tls["data"]) == ("kubernetes.io/tls", {"tls.crt": "Q0VSVA==", "tls.key": "S0VZ"})
    with pytest.raises(CommandError, match="key and cert must be specified"):
        generators.tls_secret("t", str(tmp_path / "c"), "")


def test_yaml_quoting_like_go():
    data = {"a": "y", "b": "1e3", "c": "@x", "d": "plain", "e": "", "f": "true", "g": "a: b"}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "q"}, "data": data}
    text = format_dicts([cm], "yaml")
    assert 'a: "y"\n' in text and 'b: "1e3"\n' in text and "c: '@x'\n" in text and "d: plain\n" in text
    assert 'e: ""\n' in text and 'f: "true"\n' in text and "g: 'a: b'\n" in text


def test_run_pod():
    pod = generators.run_pod("p", "nginx", ["A=1"], 80, "", ["note=x"], "OnFailure", True, ["sleep", "1"])
    assert pod["metadata"] == {"name": "p", "labels": {"run": "p"}, "annotations": {"note": "x"}}
    assert pod["spec"] == {"containers": [{"name": "p", "image": "nginx", "command": ["sleep", "1"],
                                           "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 80}]}],
                           "dnsPolicy": "ClusterFirst", "restartPolicy": "OnFailure"}
    with pytest.raises(CommandError, match="invalid restart policy: Sometimes"):
        generators.run_pod("p", "nginx", [], -1, "", [], "Sometimes", False, [])


def test_expose_service():
    rs = {"kind": "ReplicaSet", "metadata": {"name": "r", "labels": {"l": "1"}},
          "spec": {"selector": {"matchLabels": {"app": "r"}}, "template": {"spec": {"containers": [
              {"name": "c", "ports": [{"containerPort": 80}]}]}}}}
    svc = generators.expose_service(rs, "", "", "http", "", "")
    assert svc["metadata"] == {"name": "r", "labels": {"l": "1"}}
    assert svc["spec"] == {"selector": {"app": "r"}, "ports": [{"port": 80, "protocol": "TCP", "targetPort": "http"}]}
    rs["spec"]["selector"] = {"matchExpressions": [{"key": "a", "operator": "Exists"}]}
    with pytest.raises(CommandError, match="to map-based selector format"):
        generators.expose_service(rs, "", "", "", "", "")
    with pytest.raises(CommandError, match="cannot expose a Node"):
        generators.expose_service({"kind": "Node", "metadata": {"name": "n"}}, "", "80", "", "", "")
