"""skiffctl (gRPC) and the machine's real kubectl (the apiserver's REST port) side by side on one
apiserver: the same command on objects of the same shape prints the same text and exits the same."""

from __future__ import annotations

import json
import time

import pytest

from control.client.convert import from_dict
from tests.fixtures.parity import BothClis, both_clis
from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer


@pytest.fixture
def both(rest: RestServer, pki: Pki, tmp_path) -> BothClis:
    return both_clis(rest, pki, tmp_path)


TAINTS = [
    ("taint", "nodes", "X", "dedicated=special-user:NoSchedule"),
    ("taint", "nodes", "X", "dedicated=other:NoSchedule"),
    ("taint", "nodes", "X", "dedicated=other:NoSchedule", "--overwrite"),
    ("taint", "node", "X", "gpu:NoExecute", "zone=a:PreferNoSchedule"),
    ("taint", "nodes", "X", "gpu:NoExecute-"),
    ("taint", "nodes", "X", "dedicated-", "zone-"),
    ("taint", "nodes", "X", "dedicated-"),
    ("taint", "nodes", "X", "a=b:Sometimes"),
    ("taint", "nodes", "X", "a=1:NoSchedule", "a-"),
]


async def test_taint_parity(both, client):
    for name in ("kname", "sname"):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}))
    for command in TAINTS:
        k, s = await both(*command)
        assert s == k, command


DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"namespace": "default", "labels": {"app": "w"}},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "w"}},
                   "template": {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [
                       {"name": "app", "image": "nginx:1", "ports": [{"containerPort": 8080}]}]}}}}
PATCHES = [
    ("patch", "deploy", "X", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}'),
    ("patch", "deploy", "X", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}'),
    ("patch", "deployment/X", "--type", "merge", "-p", '{"metadata":{"labels":{"tier":"fe"}}}'),
    ("patch", "deploy", "X", "--type", "json", "-p", '[{"op":"replace","path":"/spec/replicas","value":3}]'),
    ("patch", "deploy", "X", "--type", "foo", "-p", "{}"),
    ("patch", "deploy", "X", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"b"}]}}}}'),
    ("patch", "deploy", "X", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}'),
    ("patch", "deploy", "X", "-p", '{"spec":{"replicas":2}}', "-o", "name"),
    ("patch", "deploy", "X"),
    ("expose", "deploy", "X", "--port", "80", "--target-port", "8080"),
    ("expose", "svc", "X", "--name", "X-again", "--port", "81"),
    ("expose", "deploy", "X", "--type", "NodePort", "--name", "X-np", "--dry-run=client", "-o", "yaml"),
    ("expose", "deploy", "X", "--protocol", "UDP", "--name", "X-udp", "--dry-run=client", "-o", "yaml"),
    ("expose", "node", "X"),
]


async def test_patch_and_expose_parity(both, client):
    for name in ("kname", "sname"):
        await client.create(from_dict({**DEPLOY, "metadata": {**DEPLOY["metadata"], "name": name}}))
    for command in PATCHES:
        k, s = await both(*command)
        assert s == k, command
    got = await both("get", "svc", "X", "-o", "json")
    k_svc, s_svc = json.loads(got[0][1]), json.loads(got[1][1])
    for svc in (k_svc, s_svc):
        for port in svc["spec"]["ports"]:
            port.pop("nodePort", None)
    assert (s_svc["spec"]["ports"], s_svc["spec"]["selector"], s_svc["metadata"]["labels"]) == \
        (k_svc["spec"]["ports"], k_svc["spec"]["selector"], k_svc["metadata"]["labels"])


DRY_RUNS = [
    ("run", "X", "--image=nginx", "--env=A=1", "--port=80", "--labels=x=y,z=w", "--restart=Never",
     "--dry-run=client", "-o", "yaml", "--", "sh", "-c", "echo hi"),
    ("run", "X", "--image=nginx", "--command", "--dry-run=client", "-o", "yaml", "--", "sleep", "10"),
    ("create", "deployment", "X", "--image=a/b:1", "--replicas=2", "--port=80", "--dry-run=client", "-o", "yaml"),
    ("create", "service", "nodeport", "X", "--tcp=80:8080", "--dry-run=client", "-o", "yaml"),
    ("create", "configmap", "X", "--from-literal=a=1", "--from-literal=b=yes", "--dry-run=client", "-o", "yaml"),
    ("create", "secret", "generic", "X", "--from-literal=a=1", "--dry-run=client"),
    ("create", "secret", "docker-registry", "X", "--docker-username=u", "--docker-password=p", "--dry-run=client",
     "-o", "yaml"),
    ("create", "service", "clusterip", "X", "--clusterip=None", "--dry-run=client", "-o", "yaml"),
    ("create", "service", "clusterip", "X", "--dry-run=client", "-o", "yaml"),
    ("create", "namespace", "X", "--dry-run=client", "-o", "json"),
    ("run", "X", "--image=nginx", "--port=80", "--expose", "--dry-run=client", "-o", "yaml"),
    ("run", "X", "--image=nginx", "--restart=Sometimes"),
    ("run", "X", "--image=nginx", "--rm"),
    ("create", "configmap", "X", "--from-literal=bad key=1", "--dry-run=client"),
    ("create", "secret", "generic", "X", "--from-literal=a=1", "--from-literal=a=2", "--dry-run=client"),
    ("create", "configmap", "X", "--from-literal=a", "--dry-run=client"),
    ("create", "ingress", "X", "--class=nginx", "--rule=shop.test/app*=web:80,tls=shop-tls",
     "--rule=shop.test/exact=api:http", "--rule=/=root:8080", "--default-backend=def:80", "--annotation=a=b",
     "--dry-run=client", "-o", "yaml"),
    ("create", "ingress", "X", "--rule=shop.test=web:80", "--dry-run=client"),
    ("create", "ingress", "X", "--dry-run=client"),
]


async def test_dry_run_parity(both):
    for command in DRY_RUNS:
        k, s = await both(*command)
        assert s == k, command


async def test_explain_and_events_parity(both, client):
    for command in (("explain", "pods.spec.containers.ports"), ("explain", "deploy.spec.selector", "--recursive"),
                    ("explain", "svc.spec.bogus")):
        k, s = await both(*command)
        assert s == k, command
    k, s = await both("events")
    assert s == k and k[2] == "No events found in default namespace."
    now = time.time()
    for name, type_, reason, count, first in (("a", "Normal", "Pulled", 1, 1230), ("b", "Warning", "BackOff", 3, 2430)):
        await client.create(from_dict({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "default"},
            "involvedObject": {"kind": "Pod", "apiVersion": "v1", "name": "web", "namespace": "default"},
            "type": type_, "reason": reason, "message": f"{reason} here", "count": count,
            "firstTimestamp": _iso(now - first), "lastTimestamp": _iso(now - 1230)}))  # 20m30s: a stable "20m"
    for command in (("events",), ("events", "--types", "Warning"), ("events", "-A"), ("events", "--for", "pod/web")):
        k, s = await both(*command)
        assert s == k, command


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


async def test_config_parity(both, pki, tmp_path):
    cfg = ("--kubeconfig", str(tmp_path / "X.conf"))
    steps = [
        ("set-cluster", "prod", "--server=https://10.0.0.1:6443", f"--certificate-authority={pki.ca}", "--embed-certs"),
        ("set-cluster", "dev", "--server=https://127.0.0.1:6443", f"--certificate-authority={pki.ca}",
         "--tls-server-name=kubernetes"),
        ("set-credentials", "admin", f"--client-certificate={pki.file('admin.crt')}",
         f"--client-key={pki.file('admin.key')}"),
        ("set-credentials", "jane", "--token=secret123"),
        ("set-context", "dev", "--cluster=dev", "--user=admin", "--namespace=team"),
        ("set-context", "prod", "--cluster=prod", "--user=jane"),
        ("set-context", "dev", "--namespace=other"),
        ("current-context",), ("use-context", "dev"), ("use-context", "nope"),
        ("get-contexts",), ("get-contexts", "prod"), ("get-contexts", "nope"), ("get-contexts", "-o", "name"),
        ("view",), ("view", "--raw"), ("view", "-o", "json"), ("view", "--minify"),
        ("get-clusters",), ("get-users",), ("set-context", "--current", "--namespace=zz"),
        ("rename-context", "prod", "production"), ("delete-context", "production"), ("delete-cluster", "prod"),
        ("delete-user", "jane"), ("delete-context", "nope"), ("set-context",), ("delete-context", "dev"), ("view",),
    ]
    for step in steps:
        k, s = await both("config", *step, *cfg)
        if step[0] in ("get-clusters", "get-users"):  # kubectl lists these in Go's random map order
            k = (k[0], sorted(k[1].splitlines()), k[2])
            s = (s[0], sorted(s[1].splitlines()), s[2])
        assert s == k, step
    assert (tmp_path / "kname.conf").read_text() == (tmp_path / "sname.conf").read_text()


async def test_version_parity(both):
    k, s = await both("version", "-o", "json")
    assert (k[0], s[0]) == (0, 0)
    assert json.loads(s[1])["serverVersion"] == json.loads(k[1])["serverVersion"]
