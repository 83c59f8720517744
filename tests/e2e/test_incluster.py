"""In-cluster access on a real node: a pod whose container runs the machine's kubectl (mounted from the
host) with nothing but what the cluster gives every container - the mounted ServiceAccount token,
ca.crt and namespace, and KUBERNETES_SERVICE_HOST/PORT - reaches the apiserver through the
`kubernetes` Service (10.96.0.1:443, the node's service proxy, the apiserver's REST port listed in its
Endpoints), and is allowed what its RoleBinding grants and refused the rest.

One netns node with containerd and skiff-agent; the controller manager makes the namespace's
`default` account and `kube-root-ca.crt`; the apiserver (gRPC on a unix socket) serves REST on the
root namespace's loopback, which the lab's gateway address relays to (tests/fixtures/relay.py)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.containerd import start_containerd
from tests.fixtures.images import BUSYBOX
from tests.fixtures.netns import NetLab, start_apiserver_unix
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import eventually, free_port, stop
from tests.fixtures.relay import Relay
from tests.fixtures.rest import kubectl_binary

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NS = "incluster"
NODE = "node-a"
SCRIPT = """exec > /dev/termination-log 2>&1
export HOME=/tmp
/kubectl get pods -o name > /tmp/pods 2>&1; pods=$?
/kubectl get secrets > /tmp/secrets 2>&1; secrets=$?
/kubectl get pods -n default > /tmp/other 2>&1; other=$?
echo "env=$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT:$KUBERNETES_SERVICE_PORT_HTTPS:$KUBERNETES_PORT"
echo "ns=$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)"
echo "pods=$pods secrets=$secrets other=$other"
cat /tmp/pods /tmp/secrets /tmp/other
"""


def kubectl_for_pods() -> str:
    """A static kubectl binary: the dispatcher's 1.32 build when the machine's kubectl is that dispatcher."""
    real = os.path.realpath(kubectl_binary())
    versioned = os.path.join(os.path.dirname(real), "kubectl.1.32")
    return versioned if os.path.exists(versioned) else real


@pytest.fixture(scope="module")
def cluster(etcd):
    lab = NetLab()
    rest_port = free_port()
    api = start_apiserver_unix(etcd, ["--rest-port", str(rest_port), "--advertise-address", lab.gateway],
                               service_account_admission=True)
    relay = Relay(lab.bridge_ns, lab.gateway, rest_port, rest_port)
    root_dir = tempfile.mkdtemp(prefix="skiff-agent-incluster-")
    containerd = manager = agent = None
    try:
        node = lab.add_node(NODE)
        containerd = start_containerd(netns=node.netns)
        manager = lab.spawn_in(lab.bridge_ns, [
            sys.executable, "-m", "control.controllers.main", "--kubeconfig", session_pki().controller_manager_config,
            "--apiserver", api.target, "--controllers", "endpoints,nodeipam,serviceaccount,root-ca-cert-publisher",
            "--root-ca-file", session_pki().ca, "--leader-elect=false"], log_name="controllers.log", cwd=REPO)
        agent = lab.spawn_in(node.netns, [
            sys.executable, "-m", "node.main", "--kubeconfig", session_pki().node_config(NODE),
            "--apiserver", api.target, "--node-name", NODE, "--container-runtime-endpoint", containerd.address,
            "--root-dir", root_dir, "--listen", f"{node.ip}:10250", "--node-ip", node.ip,
            "--cni-conf-dir", containerd.cni_conf_dir, "--node-status-update", "2"], log_name="agent.log", cwd=REPO)
        yield api
    finally:
        for name in sorted(os.listdir(lab.workdir)):
            if name.endswith(".log"):
                with open(os.path.join(lab.workdir, name), errors="replace") as f:
                    print(f"--- {name}\n{f.read()[-4000:]}")
        for proc in (agent, manager):
            if proc is not None:
                stop(proc, timeout=10)
        if containerd is not None:
            containerd.stop()
        relay.close()
        lab.cleanup()
        shutil.rmtree(root_dir, ignore_errors=True)
        api.stop()


def manifests(kubectl: str) -> list:
    rbac = "rbac.authorization.k8s.io"
    return [from_dict(d) for d in (
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader", "namespace": NS}},
        {"apiVersion": f"{rbac}/v1", "kind": "Role", "metadata": {"name": "pod-reader", "namespace": NS},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
        {"apiVersion": f"{rbac}/v1", "kind": "RoleBinding", "metadata": {"name": "reader", "namespace": NS},
         "roleRef": {"apiGroup": rbac, "kind": "Role", "name": "pod-reader"},
         "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": NS}]},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kubectl", "namespace": NS},
         "spec": {"nodeName": NODE, "serviceAccountName": "reader", "restartPolicy": "Never",
                  "terminationGracePeriodSeconds": 1,
                  "containers": [{"name": "main", "image": BUSYBOX, "imagePullPolicy": "Never",
                                  "command": ["sh", "-c", SCRIPT],
                                  "volumeMounts": [{"name": "kubectl", "mountPath": "/kubectl", "readOnly": True}]}],
                  "volumes": [{"name": "kubectl", "hostPath": {"path": kubectl, "type": "File"}}]}})]


async def test_a_pod_uses_its_service_account_through_the_kubernetes_service(cluster) -> None:
    async with Client(cluster.target) as client:
        async def ready() -> bool:
            ep = await client.get("Endpoints", "kubernetes", "default")
            await client.get("ConfigMap", "kube-root-ca.crt", "default")
            return bool(ep.subsets)
        await eventually(ready, timeout=60, what="the kubernetes Endpoints and the CA bundle")
        for obj in manifests(kubectl_for_pods()):
            if obj.kind == "Pod":
                async def namespace_ready() -> bool:
                    await client.get("ServiceAccount", "default", NS)
                    await client.get("ConfigMap", "kube-root-ca.crt", NS)
                    return True
                await eventually(namespace_ready, timeout=30, what=f"{NS}'s default account and CA bundle")
            await client.create(obj)

        async def finished() -> bool:
            pod = await client.get("Pod", "kubectl", NS)
            return pod.status.phase in ("Succeeded", "Failed")
        await eventually(finished, timeout=120, interval=1, what="the in-cluster kubectl pod finished")
        pod = await client.get("Pod", "kubectl", NS)
        message = pod.status.container_statuses[0].state.terminated.message
    svc_ip = "10.96.0.1"
    assert f"env={svc_ip}:443:443:tcp://{svc_ip}:443" in message, message
    assert f"ns={NS}" in message, message
    assert "pods=0 secrets=1 other=1" in message, message
    assert "pod/kubectl" in message, message
    assert (f'secrets is forbidden: User "system:serviceaccount:{NS}:reader" cannot list resource "secrets" '
            f'in API group "" in the namespace "{NS}"') in message, message
