"""The lab's demo (a whoami Deployment behind a Service), waiting on the cluster, and printing its state."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time

from control.client.client import Client
from control.client.kubeconfig import load_client_config
from lablib.config import NODE_SUBNET, VENV_BIN, Node, admin_config
from lablib.controlplanes import apiserver_target

DEMO = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: whoami
  namespace: default
  labels: {app: whoami}
spec:
  replicas: 3
  selector:
    matchLabels: {app: whoami}
  template:
    metadata:
      labels: {app: whoami}
    spec:
      containers:
      - name: whoami
        image: localhost:5000/whoami:1
        ports:
        - {name: http, containerPort: 80}
        readinessProbe:
          httpGet: {path: /, port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: whoami
  namespace: default
spec:
  selector: {app: whoami}
  ports:
  - {name: http, port: 80, targetPort: http}
"""


def admin_client() -> Client:
    """The lab's admin, whatever ~/.skiff/config or $SKIFFCONFIG say."""
    return Client(apiserver_target(), config=load_client_config(admin_config()))


def skiffctl(*args: str, stdin: str | None = None, check: bool = True) -> str:
    result = subprocess.run([os.path.join(VENV_BIN, "skiffctl"), "--server", apiserver_target(), *args],
                            input=stdin, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "SKIFFCONFIG": admin_config()})
    if check and result.returncode != 0:
        raise RuntimeError(f"skiffctl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout + (result.stderr if not check else "")


class Progress:
    """Prints a line only when what it reports changes."""

    def __init__(self) -> None:
        self.last = ""
        self.start = time.monotonic()

    def say(self, text: str) -> None:
        if text != self.last:
            print(f"  [{time.monotonic() - self.start:5.1f}s] {text}", flush=True)
            self.last = text


def _ready(node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)


async def _wait_nodes(client: Client, names: set[str], progress: Progress, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            nodes, _ = await client.list_all("nodes")
            ready = {n.metadata.name for n in nodes if _ready(n)} & names
            progress.say(f"nodes Ready: {len(ready)}/{len(names)}")
            if ready == names:
                return
        except Exception as e:  # noqa: BLE001 - the apiserver may still be starting
            progress.say(f"waiting for the apiserver ({type(e).__name__})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nodes not Ready after {timeout:.0f}s: {sorted(names)}; "
                               "see scripts/lab status and the logs in /var/lib/skiff-lab/logs")
        await asyncio.sleep(0.3)


async def _wait_deployment(client: Client, progress: Progress, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            d = await client.get("deployments", "whoami", "default")
            want = d.spec.replicas
            progress.say(f"deployment whoami: {d.status.ready_replicas}/{want} ready, "
                         f"{d.status.updated_replicas} up-to-date")
            if d.status.ready_replicas == want and d.status.observed_generation >= d.metadata.generation:
                return
        except Exception as e:  # noqa: BLE001
            progress.say(f"deployment whoami: {type(e).__name__}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"deployment whoami not ready after {timeout:.0f}s; try: skiffctl describe pods")
        await asyncio.sleep(0.3)


def fetch_from_node(node: Node, url: str) -> subprocess.CompletedProcess:
    wget = ["wget"] if shutil.which("wget") else ["busybox", "wget"]
    return subprocess.run(["nsenter", f"--net=/var/run/netns/{node.netns}", "--", *wget, "-qO-", "-T", "2", url],
                          capture_output=True, text=True, timeout=10)


def _wait_service(node: Node, cluster_ip: str, progress: Progress, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        result = fetch_from_node(node, f"http://{cluster_ip}/")
        if result.returncode == 0 and result.stdout:
            return result.stdout
        progress.say(f"service whoami ({cluster_ip}) not answering from {node.name} yet")
        if time.monotonic() > deadline:
            raise RuntimeError(f"service whoami did not answer from {node.name} within {timeout:.0f}s")
        time.sleep(0.3)


async def wait_for_nodes(nodes: list[Node], timeout: float = 90) -> None:
    async with admin_client() as client:
        await _wait_nodes(client, {n.name for n in nodes}, Progress(), timeout)


async def run_demo(nodes: list[Node], timeout: float = 120) -> str:
    """Applies the demo, waits for it to answer through its Service; returns the answer."""
    progress = Progress()
    print(skiffctl("apply", "-f", "-", stdin=DEMO).rstrip())
    async with admin_client() as client:
        await _wait_deployment(client, progress, timeout)
        service = await client.get("services", "whoami", "default")
    return _wait_service(nodes[0], service.spec.cluster_ip, progress, timeout)


def print_state() -> None:
    for args in (("get", "nodes", "-o", "wide"), ("get", "deployments"), ("get", "services"),
                 ("get", "pods", "-o", "wide")):
        print(f"$ skiffctl {' '.join(args)}")
        print(skiffctl(*args, check=False).rstrip(), flush=True)
        print()


def next_steps(cluster_ip: str, manifest: str) -> str:
    return f"""Try next:
  .venv/bin/skiffctl get pods -o wide
  sudo scripts/lab exec node-1 -- wget -qO- http://{cluster_ip}      # the Service, from a node
  .venv/bin/skiffctl scale deployment/whoami --replicas 5
  .venv/bin/skiffctl create ingress whoami --rule 'whoami.lab.test/*=whoami:80'
      curl -H 'Host: whoami.lab.test' http://{NODE_SUBNET.network_address + 11}/   # nginx on every node's :80/:443
  .venv/bin/skiffctl expose deployment whoami --name whoami-lb --type LoadBalancer --port 80
      curl http://$(.venv/bin/skiffctl get svc whoami-lb -o jsonpath='{{.status.loadBalancer.ingress[0].ip}}')/
  a rolling update: change the pod template in {manifest} (an env var, say),
      .venv/bin/skiffctl apply -f {manifest} && .venv/bin/skiffctl rollout status deployment/whoami
  sudo scripts/lab stop-node node-2   # its pods come back elsewhere after ~50 s (grace 20 s + toleration 30 s)
  sudo scripts/lab start-node node-2
  your own image: skopeo copy --dest-tls-verify=false SRC docker://localhost:5000/NAME:TAG
  sudo scripts/lab status     sudo scripts/lab down"""
