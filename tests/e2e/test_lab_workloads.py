"""The workload controllers end to end in the local lab, on real nodes (and the real kubectl and Python
client through the lab's kubeconfig): a StatefulSet's ordered start,
stable DNS names and data surviving a deleted pod; a DaemonSet on every node, one started later
included; an Indexed Job; a failing Job stopping at its backoff limit; a CronJob creating a Job on
schedule; `drain` held by a PodDisruptionBudget until a replacement is Ready.

The tests run in order and share one lab (module scope), taken down at the end, also on failure.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.fixtures.lab import ADMIN_ENV, SERVER, SKIFFCTL, get_json, lab, remove_leftover_lab, skiffctl
from tests.fixtures.procs import wait_for
from tests.fixtures.rest import kubectl_binary

pytestmark = pytest.mark.timeout(900)

STATEFULSET = """apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: db
        image: localhost:5000/busybox:1
        command: ["sh", "-c", "touch /data/ready-$(hostname); exec sleep 3600"]
        readinessProbe:
          exec: {command: ["sh", "-c", "test -f /data/ready-$(hostname)"]}
          periodSeconds: 1
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 64Mi}}
"""

DAEMONSET = """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: agent, image: localhost:5000/busybox:1, command: ["sleep", "3600"]}
"""

JOBS = """apiVersion: batch/v1
kind: Job
metadata: {name: indexed}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: work, image: localhost:5000/busybox:1, command: ["sh", "-c", "echo index=$JOB_COMPLETION_INDEX"]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: failing}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: work, image: localhost:5000/busybox:1, command: ["sh", "-c", "exit 3"]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: tick, image: localhost:5000/busybox:1, command: ["true"]}
"""

BUDGETED = """apiVersion: apps/v1
kind: Deployment
metadata: {name: guarded}
spec:
  replicas: 2
  selector: {matchLabels: {app: guarded}}
  template:
    metadata: {labels: {app: guarded}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: guarded
        image: localhost:5000/busybox:1
        command: ["sleep", "3600"]
        readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: guarded}}
"""


def pods(label: str) -> list[dict]:
    return [p for p in get_json("pods", "-l", label)["items"] if not p["metadata"].get("deletionTimestamp")]


def is_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def condition(obj: dict, kind: str) -> dict | None:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), None)


@pytest.fixture(scope="module")
def cluster():
    remove_leftover_lab()
    up = lab("up", "--nodes", "2", "--no-demo", timeout=400)
    try:
        assert up.returncode == 0, f"lab up failed:\n{up.stdout}\n{up.stderr}"
        yield
    finally:
        lab("down", timeout=120)


def test_statefulset_starts_in_order_with_stable_names_and_data(cluster) -> None:
    skiffctl("apply", "-f", "-", stdin=STATEFULSET)
    # OrderedReady: db-1 is created only once db-0 is Running and Ready.
    seen_early: list[str] = []

    def both_ready() -> bool:
        current = {p["metadata"]["name"]: p for p in pods("app=db")}
        if "db-1" in current and not ("db-0" in current and is_ready(current["db-0"])):
            seen_early.append("db-1 before db-0 was Ready")
        return len(current) == 2 and all(is_ready(p) for p in current.values())
    wait_for(both_ready, timeout=180, interval=0.5, what="db-0 and db-1 Ready")
    assert not seen_early, seen_early
    claims = {c["metadata"]["name"]: c for c in get_json("pvc", "-l", "app=db")["items"]}
    assert set(claims) == {"data-db-0", "data-db-1"} and all(c["status"]["phase"] == "Bound"
                                                             for c in claims.values())
    db1_ip = next(p for p in pods("app=db") if p["metadata"]["name"] == "db-1")["status"]["podIP"]
    answer = skiffctl("exec", "db-0", "--", "nslookup", "db-1.db.default.svc.cluster.local")
    assert db1_ip in answer, answer
    skiffctl("exec", "db-0", "--", "sh", "-c", "echo kept > /data/note")
    old_uid = get_json("pod", "db-0")["metadata"]["uid"]
    skiffctl("delete", "pod", "db-0")

    def back() -> bool:
        pod = next((p for p in pods("app=db") if p["metadata"]["name"] == "db-0"), None)
        return pod is not None and pod["metadata"]["uid"] != old_uid and is_ready(pod)
    wait_for(back, timeout=120, interval=0.5, what="db-0 recreated and Ready")
    assert skiffctl("exec", "db-0", "--", "cat", "/data/note").strip() == "kept"
    assert skiffctl("exec", "db-0", "--", "hostname").strip() == "db-0"


def test_kubectl_and_the_python_client_drive_the_lab(cluster) -> None:
    """The lab's standard kubeconfig (`scripts/lab kubeconfig`) serves the real kubectl and the
    official Python client over the REST port."""
    path = lab("kubeconfig").stdout.strip()
    env = {**os.environ, "KUBECONFIG": path}

    def kubectl(*args: str) -> str:
        result = subprocess.run([kubectl_binary(), *args], capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout
    nodes = kubectl("get", "nodes", "-o", "name").split()
    assert nodes == ["node/node-1", "node/node-2"]
    assert "db-0" in kubectl("get", "pods", "-l", "app=db", "-o", "wide")
    assert kubectl("exec", "db-0", "--", "hostname").strip() == "db-0"
    kubectl("create", "configmap", "from-kubectl", "--from-literal=a=b")
    assert "from-kubectl" in skiffctl("get", "configmaps")
    client = k8s_config.new_client_from_config(config_file=path)
    try:
        pods = k8s.CoreV1Api(client).list_namespaced_pod("default", label_selector="app=db")
        assert sorted(p.metadata.name for p in pods.items) == ["db-0", "db-1"]
    finally:
        client.close()


def test_jobs_and_cronjob(cluster) -> None:
    skiffctl("apply", "-f", "-", stdin=JOBS)
    started = time.monotonic()
    wait_for(lambda: condition(get_json("job", "indexed"), "Complete"), timeout=180, interval=1,
             what="the Indexed Job Complete")
    logs = {skiffctl("logs", p["metadata"]["name"]).strip() for p in pods("batch.kubernetes.io/job-name=indexed")}
    assert logs == {"index=0", "index=1", "index=2"}
    wait_for(lambda: condition(get_json("job", "failing"), "Failed"), timeout=180, interval=1,
             what="the failing Job Failed")
    failed = get_json("job", "failing")
    assert condition(failed, "Failed")["reason"] == "BackoffLimitExceeded"
    assert failed["status"]["failed"] == 2  # the first try and one retry (backoffLimit 1)

    def scheduled() -> bool:
        jobs = [j for j in get_json("jobs")["items"]
                if any(o["kind"] == "CronJob" and o["name"] == "tick"
                       for o in j["metadata"].get("ownerReferences", []))]
        return bool(jobs) and any(condition(j, "Complete") for j in jobs)
    wait_for(scheduled, timeout=max(30, 150 - (time.monotonic() - started)), interval=1,
             what="a Job of the CronJob completed")
    assert get_json("cronjob", "tick")["status"].get("lastScheduleTime")
    skiffctl("delete", "cronjob", "tick")


def test_daemonset_runs_on_every_node_including_a_later_one(cluster) -> None:
    skiffctl("apply", "-f", "-", stdin=DAEMONSET)

    def on_nodes(names: set[str]) -> bool:
        running = {p["spec"].get("nodeName") for p in pods("app=agent") if is_ready(p)}
        return running == names
    wait_for(lambda: on_nodes({"node-1", "node-2"}), timeout=120, interval=1, what="agent on node-1 and node-2")
    grown = lab("up", "--nodes", "3", "--no-demo", timeout=400)
    assert grown.returncode == 0, f"lab up --nodes 3 failed:\n{grown.stdout}\n{grown.stderr}"
    wait_for(lambda: on_nodes({"node-1", "node-2", "node-3"}), timeout=180, interval=1,
             what="agent on node-3 as well")
    status = get_json("daemonset", "agent")["status"]
    assert status["desiredNumberScheduled"] == status["numberReady"] == 3


def test_drain_waits_for_the_budget(cluster) -> None:
    skiffctl("cordon", "node-2")
    skiffctl("cordon", "node-3")
    skiffctl("apply", "-f", "-", stdin=BUDGETED)
    wait_for(lambda: len([p for p in pods("app=guarded") if is_ready(p)]) == 2, timeout=120, interval=1,
             what="both guarded pods Ready on node-1")
    assert {p["spec"]["nodeName"] for p in pods("app=guarded")} == {"node-1"}
    skiffctl("uncordon", "node-2")
    drain = subprocess.run([SKIFFCTL, "--server", SERVER, "drain", "node-1", "--ignore-daemonsets",
                            "--delete-emptydir-data", "--timeout=180s"], capture_output=True, text=True,
                           timeout=240, env=ADMIN_ENV)
    assert drain.returncode == 0, drain.stderr
    assert "node/node-1 drained" in drain.stdout, drain.stdout
    # The second pod's eviction waited for the first one's replacement to be Ready.
    assert "Cannot evict pod as it would violate the pod's disruption budget" in drain.stderr, drain.stderr
    guarded = pods("app=guarded")
    assert len(guarded) == 2 and all(p["spec"]["nodeName"] == "node-2" for p in guarded)
