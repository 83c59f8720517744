"""The local lab end to end: `scripts/lab up --nodes 2`, a Deployment behind a Service, DNS, scaling,
a rolling update under a steady stream of requests, a node failure, and `scripts/lab down` leaving nothing.

The tests run in order and share one lab (module scope); the last one takes it down.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.containerd import in_netns
from tests.fixtures.lab import (
    ADMIN_ENV,
    LAB_ENV,
    NODES,
    SERVER,
    SKIFFCTL,
    STATE,
    endpoint_ips,
    get_json,
    host_snapshot,
    http_answer,
    http_get_in,
    https_get,
    lab,
    missing_components,
    node_ready,
    ready_pods,
    remove_leftover_lab,
    skiffctl,
)
from tests.fixtures.procs import wait_for
from tests.fixtures.tlscert import self_signed

pytestmark = pytest.mark.timeout(900)

WEB = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: web
        image: localhost:5000/whoami:1
        env: [{{name: VERSION, value: "{version}"}}]
        ports: [{{name: http, containerPort: 80}}]
        readinessProbe:
          httpGet: {{path: /, port: http}}
          periodSeconds: 1
        lifecycle:
          # Keep serving while the endpoints change spreads (Kubernetes' own advice).
          preStop: {{exec: {{command: ["sleep", "3"]}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: default}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: http}}]
"""


@pytest.fixture(scope="module")
def cluster():
    missing = missing_components()
    assert not missing, f"the lab needs components that do not import: {', '.join(missing)}"
    assert os.geteuid() == 0, "the lab needs root (namespaces, links, nftables): run the tests as root"
    remove_leftover_lab()
    before = host_snapshot()
    had_config = os.path.exists(os.path.expanduser("~/.skiff/config"))
    started = time.monotonic()
    up = lab("up", "--nodes", "2", timeout=400)
    elapsed = time.monotonic() - started
    try:
        yield {"up": up, "elapsed": elapsed, "before": before, "had_config": had_config}
    finally:
        lab("down", timeout=120)


def test_up_starts_two_nodes_and_the_demo(cluster) -> None:
    up = cluster["up"]
    assert up.returncode == 0, f"lab up failed:\n{up.stdout}\n{up.stderr}"
    assert "lab up to demo answering in" in up.stdout, up.stdout
    assert "Hostname: whoami-" in up.stdout
    print(f"lab up --nodes 2 to demo answering: {cluster['elapsed']:.1f}s")
    for node in NODES:
        assert node_ready(node)
    assert len(ready_pods("app=whoami")) == 3
    config = Path(os.path.expanduser("~/.skiff/config"))
    if not cluster["had_config"]:
        plain = subprocess.run([SKIFFCTL, "get", "nodes"], capture_output=True, text=True, timeout=60, env=LAB_ENV)
        assert plain.returncode == 0 and "node-1" in plain.stdout, f"{config}: {plain.stderr}"


def test_the_lab_runs_with_tls_and_rbac(cluster, tmp_path: Path) -> None:
    """The admin works; plaintext, an anonymous TLS client and a node's certificate beyond its rights do not."""
    assert "node-1" in skiffctl("get", "nodes")
    pki = Path(STATE) / "control-plane" / "etc" / "pki"

    def as_config(name: str, text: str) -> dict[str, str]:
        path = tmp_path / name
        path.write_text(f"server: {SERVER}\n{text}")
        return {**LAB_ENV, "SKIFFCONFIG": str(path)}

    def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([SKIFFCTL, *args], capture_output=True, text=True, timeout=60, env=env)

    plaintext = run(as_config("plain", "insecure: true\n"), "get", "nodes")
    assert plaintext.returncode != 0 and "node-1" not in plaintext.stdout, plaintext
    anonymous = run(as_config("anon", f"certificate-authority: {pki}/ca.crt\n"), "get", "nodes")
    assert anonymous.returncode != 0 and "Unauthorized" in anonymous.stderr, anonymous.stderr
    node = as_config("node", f"certificate-authority: {pki}/ca.crt\nclient-certificate: {pki}/node-node-1.crt\n"
                             f"client-key: {pki}/node-node-1.key\n")
    assert run(node, "get", "node", "node-1").returncode == 0
    forbidden = run(node, "get", "secrets", "-A")
    assert forbidden.returncode != 0 and "forbidden" in forbidden.stderr, forbidden.stderr
    for component in ("skiff-scheduler", "skiff-controller-manager"):
        assert f"{pki}/" in Path(f"/proc/{_pid_of(component)}/cmdline").read_text().replace("\0", " ")


def _pid_of(name: str) -> int:
    with open(Path(STATE) / "run" / f"{name}.pid") as f:
        return int(f.read().split()[0])


def test_up_again_is_idempotent(cluster) -> None:
    again = lab("up", "--nodes", "2", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert skiffctl("get", "nodes").count(" Ready ") == 2
    assert len(ready_pods("app=whoami")) == 3


def test_service_answers_from_a_node_and_from_a_pod_by_name(cluster) -> None:
    print(skiffctl("apply", "-f", "-", stdin=WEB.format(replicas=2, version="1")))
    wait_for(lambda: len(endpoint_ips()) == 2, timeout=90, interval=0.5, what="2 ready endpoints for web")
    cluster_ip = get_json("service", "web")["spec"]["clusterIP"]
    cluster["ip"] = cluster_ip
    answer = lab("exec", "node-1", "--", "wget", "-qO-", "-T", "3", f"http://{cluster_ip}/")
    assert answer.returncode == 0 and "Hostname: web-" in answer.stdout, answer.stderr
    pod = ready_pods()[0]["metadata"]["name"]
    for name in ("web", "web.default.svc.cluster.local"):
        # busybox-static's wget crashes (static glibc's getaddrinfo); nslookup has its own resolver, nc works.
        script = f"ip=$(nslookup {name} 2>/dev/null | awk '/^Address: /{{print $2; exit}}'); " \
                 'echo "resolved $ip"; printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 "$ip" 80'
        out = skiffctl("exec", pod, "--", "sh", "-c", script)
        assert f"resolved {cluster_ip}\n" in out, out
        assert "Hostname: web-" in out, out


def test_scale(cluster) -> None:
    skiffctl("scale", "deployment/web", "--replicas", "4")
    wait_for(lambda: len(endpoint_ips()) == 4, timeout=90, interval=0.5, what="4 endpoints after scaling")
    assert {p["spec"]["nodeName"] for p in ready_pods()} == set(NODES), "pods spread over both nodes"


LB_SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 8080, targetPort: http}]
"""

INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  tls: [{hosts: [secure.lab.test], secretName: web-tls}]
  rules:
  - host: plain.lab.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}]}
  - host: secure.lab.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
"""


def test_load_balancer_address_answers_from_the_host(cluster) -> None:
    skiffctl("apply", "-f", "-", stdin=LB_SERVICE)

    def address() -> str:
        ingress = get_json("service", "web-lb").get("status", {}).get("loadBalancer", {}).get("ingress", [])
        return ingress[0].get("ip", "") if ingress else ""
    wait_for(address, timeout=30, interval=0.5, what="web-lb's load balancer address")
    ip = address()
    assert ip.startswith("172.31.250.2"), ip  # the lab's pool, 172.31.250.200-250
    assert ip in skiffctl("get", "service", "web-lb")  # EXTERNAL-IP
    assert "LoadBalancer Ingress:" in skiffctl("describe", "service", "web-lb")
    url = f"http://{ip}:8080/"
    wait_for(lambda: http_answer(url).startswith("Hostname: web-"), timeout=30, interval=0.5,
             what=f"{url} from the host")
    skiffctl("delete", "service", "web-lb")


def _tls_secret() -> tuple[str, str]:
    """A kubernetes.io/tls Secret manifest for secure.lab.test and its certificate's SHA-256."""
    pem, key_pem, fingerprint = self_signed("secure.lab.test")
    manifest = json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                           "metadata": {"name": "web-tls", "namespace": "default"},
                           "data": {"tls.crt": base64.b64encode(pem).decode(),
                                    "tls.key": base64.b64encode(key_pem).decode()}})
    return manifest, fingerprint


def test_ingress_answers_on_every_node_over_http_and_tls(cluster) -> None:
    classes = get_json("ingressclass")["items"]
    assert [c["metadata"]["name"] for c in classes if c["metadata"].get("annotations", {}).get(
        "ingressclass.kubernetes.io/is-default-class") == "true"] == ["nginx"]
    secret, fingerprint = _tls_secret()
    skiffctl("apply", "-f", "-", stdin=secret)
    skiffctl("apply", "-f", "-", stdin=INGRESS)
    node_ips = ["172.31.250.11", "172.31.250.12"]
    for ip in node_ips:
        wait_for(lambda ip=ip: http_answer(f"http://{ip}/", "plain.lab.test").startswith("Hostname: web-"),
                 timeout=60, interval=0.5, what=f"the Ingress on {ip}:80 from the host")
    wait_for(lambda: https_get(node_ips[0], "secure.lab.test")[1] == fingerprint, timeout=30, interval=0.5,
             what="the Secret's certificate on :443")
    body, _ = https_get(node_ips[1], "secure.lab.test")
    assert body.startswith("Hostname: web-"), body
    ingress = get_json("ingress", "web")
    assert ingress["spec"]["ingressClassName"] == "nginx"  # the default class
    wait_for(lambda: sorted(i["ip"] for i in get_json("ingress", "web").get("status", {}).get(
        "loadBalancer", {}).get("ingress", [])) == node_ips, timeout=30, interval=0.5, what="the Ingress's status")
    # The controller runs as a user of its own, whose ClusterRole reads but cannot write Secrets.
    cmdline = Path(f"/proc/{_pid_of('node-1-ingress')}/cmdline").read_text().replace("\0", " ")
    assert "ingress-controller.conf" in cmdline, cmdline
    role = get_json("clusterrole", "skiff-ingress-controller")
    verbs = {v for rule in role["rules"] if "secrets" in rule.get("resources", []) for v in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}


def test_rolling_update_serves_every_request(cluster) -> None:
    url = f"http://{cluster['ip']}/"
    stop = threading.Event()
    results: list[str] = []

    def stream() -> None:
        deadline = time.monotonic() + 240
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(url, timeout=2).read().decode()
                results.append("ok" if "Hostname: web-" in body else f"bad answer {body[:80]!r}")
            except OSError as e:
                results.append(f"error {e}")
            time.sleep(0.05)

    streamer = threading.Thread(target=lambda: in_netns("node-1", stream))
    streamer.start()
    try:
        wait_for(lambda: len(results) >= 5, timeout=30, what="the request stream to start")
        skiffctl("apply", "-f", "-", stdin=WEB.format(replicas=4, version="2"))
        status = subprocess.run([SKIFFCTL, "--server", SERVER, "rollout", "status", "deployment/web",
                                 "--timeout", "180s"], capture_output=True, text=True, timeout=200, env=ADMIN_ENV)
        assert status.returncode == 0, status.stdout + status.stderr
        wait_for(lambda: len(endpoint_ips()) == 4, timeout=60, interval=0.5, what="4 endpoints after the update")
    finally:
        stop.set()
        streamer.join()
    failures = [r for r in results if r != "ok"]
    print(f"rolling update: {len(results)} requests, {len(failures)} failed")
    assert len(results) > 20, f"only {len(results)} requests ran"
    assert not failures, f"{len(failures)} of {len(results)} requests failed during the update: {failures[:5]}"
    versions = {e["value"] for p in ready_pods() for c in p["spec"]["containers"] for e in c.get("env", [])}
    assert versions == {"2"}


def test_stopped_node_pods_come_back_elsewhere(cluster) -> None:
    on_node_2 = [p["metadata"]["name"] for p in ready_pods() if p["spec"]["nodeName"] == "node-2"]
    assert on_node_2, "the test needs web pods on node-2"
    stopped = lab("stop-node", "node-2", timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    wait_for(lambda: not node_ready("node-2"), timeout=60, interval=1, what="node-2 NotReady")

    def replaced() -> bool:
        pods = ready_pods()
        return len(pods) == 4 and all(p["spec"]["nodeName"] == "node-1" for p in pods)
    wait_for(replaced, timeout=150, interval=1, what="node-2's web pods replaced on node-1")
    assert http_get_in("node-1", f"http://{cluster['ip']}/").startswith("Hostname: web-")
    started = lab("start-node", "node-2", timeout=120)
    assert started.returncode == 0, started.stderr
    wait_for(lambda: node_ready("node-2"), timeout=90, interval=1, what="node-2 Ready again")


def test_down_leaves_nothing_behind(cluster) -> None:
    before = cluster["before"]
    down = lab("down", timeout=120)
    assert down.returncode == 0, down.stderr
    after = host_snapshot()
    for what in ("netns", "links", "nft", "routes", "mounts", "procs"):
        left = after[what] - before[what]
        assert not left, f"lab down left {what}: {sorted(left)}"
    assert not os.path.exists(STATE)
    if not cluster["had_config"]:
        assert not os.path.exists(os.path.expanduser("~/.skiff/config"))
    assert lab("down", timeout=60).returncode == 0, "a second down must be harmless"
