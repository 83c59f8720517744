"""The Vagrant lab booted for real: scripts/build-box's offline box, `vagrant up` of one control plane and
two workers on libvirt (software emulation where there is no KVM), provisioned offline by the install
scripts onto systemd, then the cluster end to end against the VMs, and `vagrant destroy -f` leaving
nothing behind on the host.

The tests run in order and share one lab (module scope); the last one destroys it (the fixture does too,
also on failure). The timings are printed for the README (run with -s).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.fixtures.procs import wait_for
from tests.vm import from_host
from tests.vm.vagrantlab import NETWORK, Lab, booted, destroy_leaves_nothing_behind

CONTROL_PLANE_IP = f"{NETWORK}.10"
WORKERS = {"node-1": f"{NETWORK}.11", "node-2": f"{NETWORK}.12"}
UP_TIMEOUT = 1500

pytestmark = pytest.mark.timeout(2400)
# busybox-static's wget crashes here (static glibc), also on plain addresses; its nc speaks HTTP/1.0.
HTTP_GET = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | {nc} -w 5 {host} {port}"

DEMO = """apiVersion: apps/v1
kind: Deployment
metadata: {name: whoami, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: whoami}}
  template:
    metadata: {labels: {app: whoami}}
    spec:
      terminationGracePeriodSeconds: 5
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector: {matchLabels: {app: whoami}}
      containers:
      - name: whoami
        image: localhost:5000/whoami:1
        ports: [{name: http, containerPort: 80}]
        readinessProbe:
          httpGet: {path: /, port: http}
          periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata: {name: whoami, namespace: default}
spec:
  type: NodePort
  selector: {app: whoami}
  ports: [{name: http, port: 80, targetPort: http}]
"""


NFS = """apiVersion: v1
kind: PersistentVolume
metadata: {name: lab-nfs}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  mountOptions: [nfsvers=4.2]
  nfs: {server: %(server)s, path: /srv/nfs}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: lab-nfs, namespace: default}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  volumeName: lab-nfs
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: nfs-writer, namespace: default}
spec:
  nodeSelector: {kubernetes.io/hostname: node-1}
  terminationGracePeriodSeconds: 1
  containers:
  - name: writer
    image: localhost:5000/busybox:1
    command: [sh, -c, "echo written-by-$(hostname) >/data/hello && exec sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: lab-nfs}
---
apiVersion: v1
kind: Pod
metadata: {name: nfs-reader, namespace: default}
spec:
  nodeSelector: {kubernetes.io/hostname: node-2}
  terminationGracePeriodSeconds: 1
  containers:
  - name: reader
    image: localhost:5000/busybox:1
    command: [sleep, "3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    nfs: {server: %(server)s, path: /srv/nfs, readOnly: true}
"""

INGRESS_HOST = "whoami.lab.test"
INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: whoami, namespace: default}
spec:
  tls: [{hosts: [whoami.lab.test], secretName: whoami-tls}]
  rules:
  - host: whoami.lab.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: whoami, port: {name: http}}}}
---
apiVersion: v1
kind: Service
metadata: {name: whoami-lb, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: whoami}
  ports: [{name: http, port: 80, targetPort: http}]
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from booted(tmp_path_factory, len(WORKERS), up_timeout=UP_TIMEOUT)


def test_nodes_ready_with_their_private_addresses(lab: Lab) -> None:
    wait_for(lambda: all(lab.node_ready(n) for n in WORKERS), timeout=300, interval=2, what="both workers Ready")
    lab.times["up to all nodes Ready"] = time.monotonic() - lab.up_started
    for name, ip in WORKERS.items():
        addresses = {a["type"]: a["address"] for a in lab.get("node", name)["status"]["addresses"]}
        assert addresses["InternalIP"] == ip, addresses
    for vm in ("control-plane", *WORKERS):
        lab.ssh(vm, "test \"$(cat /etc/machine-id)\" != ''")
    ids = {lab.ssh(vm, "cat /etc/machine-id").stdout for vm in ("control-plane", *WORKERS)}
    assert len(ids) == 3, "each VM has its own identity"
    units = lab.ssh("control-plane", "systemctl is-active etcd skiff-apiserver skiff-scheduler "
                    "skiff-controller-manager docker-registry").stdout.split()
    assert units == ["active"] * 5, units


def test_deployment_spreads_over_both_workers(lab: Lab) -> None:
    lab.skiffctl("apply", "-f", "-", stdin=DEMO)
    wait_for(lambda: len(lab.running_pods()) == 2, timeout=600, interval=2, what="2 whoami pods Ready")
    assert {p["spec"]["nodeName"] for p in lab.running_pods()} == set(WORKERS)


def test_service_answers_from_each_vm(lab: Lab) -> None:
    service = lab.get("service", "whoami")
    cluster_ip, node_port = service["spec"]["clusterIP"], service["spec"]["ports"][0]["nodePort"]

    def answers(vm: str, host: str, port: int) -> bool:
        command = HTTP_GET.format(nc="busybox nc", host=host, port=port)
        return "Hostname: whoami-" in lab.ssh(vm, command, check=False).stdout
    for vm in WORKERS:
        wait_for(lambda v=vm: answers(v, cluster_ip, 80), timeout=120, interval=2,
                 what=f"the Service's ClusterIP from {vm}")
    # The control plane runs no agent (no service proxy): it reaches the Service by a worker's NodePort.
    for ip in WORKERS.values():
        wait_for(lambda i=ip: answers("control-plane", i, node_port), timeout=60, interval=2,
                 what=f"the NodePort {ip}:{node_port} from the control plane")
    lab.times["up to demo answering"] = time.monotonic() - lab.up_started


def _pod_on(lab: Lab, node: str) -> dict:
    return next(p for p in lab.running_pods() if p["spec"]["nodeName"] == node)


def test_dns_and_pod_to_pod_across_vms(lab: Lab) -> None:
    client, server = _pod_on(lab, "node-1"), _pod_on(lab, "node-2")
    name, cluster_ip = client["metadata"]["name"], lab.get("service", "whoami")["spec"]["clusterIP"]
    # nslookup has its own resolver (busybox-static's getaddrinfo does not work).
    script = ("ip=$(nslookup whoami.default.svc.cluster.local | awk '/^Address: /{print $2; exit}'); "
              'echo "resolved $ip"; ' + HTTP_GET.format(nc="nc", host='"$ip"', port=80))
    out = lab.skiffctl("exec", name, "--", "sh", "-c", script, timeout=120)
    assert f"resolved {cluster_ip}\n" in out and "Hostname: whoami-" in out, out
    # node-1's pod to node-2's pod: the host-gw route between the VMs, no NAT on the way.
    script = HTTP_GET.format(nc="nc", host=server["status"]["podIP"], port=80)
    out = lab.skiffctl("exec", name, "--", "sh", "-c", script, timeout=120)
    assert f"Hostname: {server['metadata']['name']}" in out, out
    assert f"RemoteAddr: [::ffff:{client['status']['podIP']}]" in out, out


def test_logs_and_exec_through_the_apiserver(lab: Lab) -> None:
    pod = _pod_on(lab, "node-2")["metadata"]["name"]
    assert lab.skiffctl("exec", pod, "--", "hostname", timeout=120).strip() == pod
    lab.skiffctl("exec", pod, "--", "sh", "-c", "echo to-the-log >/proc/1/fd/1", timeout=120)
    wait_for(lambda: "to-the-log" in lab.skiffctl("logs", pod, timeout=120), timeout=60, interval=2,
             what="the line in the pod's log")


def test_ingress_and_load_balancer_answer_from_the_host(lab: Lab) -> None:
    ca, cert, key = from_host.serving_cert(lab.workdir / "tls", INGRESS_HOST)
    lab.skiffctl("create", "secret", "tls", "whoami-tls", "--cert", str(cert), "--key", str(key))
    lab.skiffctl("apply", "-f", "-", stdin=INGRESS)
    for ip in WORKERS.values():  # every worker's ingress controller, on ports 80 and 443
        wait_for(lambda i=ip: "Hostname: whoami-" in from_host.get(i, 443, INGRESS_HOST, cafile=ca)[2],
                 timeout=180, interval=2, what=f"https://{INGRESS_HOST} on {ip} from the host")
        status, location, _ = from_host.get(ip, 80, INGRESS_HOST)
        assert (status, location) == (308, f"https://{INGRESS_HOST}/"), (status, location)
    assert from_host.get(WORKERS["node-1"], 80, "unknown.lab.test")[0] == 404  # the default backend
    wait_for(lambda: sorted(i["ip"] for i in lab.get("ingress", "whoami")["status"].get("loadBalancer", {})
                            .get("ingress", [])) == sorted(WORKERS.values()),
             timeout=120, interval=2, what="the Ingress's status listing the workers")

    def lb_ip() -> str:
        return next((i["ip"] for i in lab.get("service", "whoami-lb")["status"].get("loadBalancer", {})
                     .get("ingress", [])), "")
    wait_for(lambda: lb_ip() != "", timeout=60, interval=2, what="whoami-lb's load balancer address")
    assert lb_ip().startswith(f"{NETWORK}.2"), lb_ip()  # the lab's pool, .200-.250
    wait_for(lambda: "Hostname: whoami-" in from_host.get(lb_ip())[2], timeout=120, interval=2,
             what=f"the LoadBalancer {lb_ip()} from the host")


def _phase(lab: Lab, pod: str) -> str:
    return lab.get("pod", pod).get("status", {}).get("phase", "")


def test_nfs_volume_written_on_one_worker_read_on_the_other(lab: Lab) -> None:
    lab.skiffctl("apply", "-f", "-", stdin=NFS % {"server": CONTROL_PLANE_IP})
    for pod in ("nfs-writer", "nfs-reader"):
        wait_for(lambda p=pod: _phase(lab, p) == "Running", timeout=300, interval=2, what=f"{pod} Running")
    assert lab.get("pvc", "lab-nfs")["status"]["phase"] == "Bound"
    # The export on the control plane holds what the pod on node-1 wrote through its claim.
    wait_for(lambda: lab.ssh("control-plane", "cat /srv/nfs/hello", check=False).stdout == "written-by-nfs-writer\n",
             timeout=60, interval=2, what="the file on the NFS server")
    assert lab.skiffctl("exec", "nfs-reader", "--", "cat", "/data/hello", timeout=120) == "written-by-nfs-writer\n"
    denied = lab.run_skiffctl("exec", "nfs-reader", "--", "touch", "/data/nope", timeout=120)
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr + denied.stdout, denied
    assert "nfs" in lab.ssh("node-1", "findmnt -t nfs,nfs4 -n -o FSTYPE").stdout
    lab.skiffctl("delete", "pod", "nfs-writer", "nfs-reader", "--wait=true", timeout=180)
    for vm in WORKERS:  # the agents unmounted the volumes with their pods
        assert lab.ssh(vm, "findmnt -t nfs,nfs4 -n", check=False).stdout == "", vm


def _agent_pid(lab: Lab, vm: str) -> int:
    return int(lab.ssh(vm, "systemctl show -p MainPID --value skiff-agent").stdout.strip())


def _containers(lab: Lab, node: str) -> dict[str, tuple[str, int]]:
    return {p["metadata"]["name"]: (p["status"]["containerStatuses"][0]["containerID"],
                                    p["status"]["containerStatuses"][0].get("restartCount", 0))
            for p in lab.running_pods() if p["spec"]["nodeName"] == node}


def test_killed_agent_is_restarted_by_systemd_and_adopts_its_pods(lab: Lab) -> None:
    before = _containers(lab, "node-1")
    assert before
    old = _agent_pid(lab, "node-1")
    lab.ssh("node-1", f"sudo kill -9 {old}")
    wait_for(lambda: _agent_pid(lab, "node-1") not in (0, old), timeout=60, interval=1,
             what="systemd to restart skiff-agent")
    lease = lab.get("lease", "node-1", "-n", "kube-node-lease")["spec"]["renewTime"]
    # The new agent has synced once it renews its lease; its pods must be the same containers.
    wait_for(lambda: lab.get("lease", "node-1", "-n", "kube-node-lease")["spec"]["renewTime"] != lease,
             timeout=120, interval=2, what="the restarted agent to renew its lease")
    wait_for(lambda: _containers(lab, "node-1") == before, timeout=60, interval=2,
             what="the same containers, none restarted")
    assert lab.node_ready("node-1")


def _replaced_on(lab: Lab, node: str) -> bool:
    pods = lab.running_pods()
    return len(pods) == 2 and all(p["spec"]["nodeName"] == node for p in pods)


def test_stopped_agent_makes_the_node_not_ready_and_pods_move(lab: Lab) -> None:
    lab.ssh("node-2", "sudo systemctl stop skiff-agent")
    try:
        wait_for(lambda: not lab.node_ready("node-2"), timeout=120, interval=2, what="node-2 NotReady")
        wait_for(lambda: _replaced_on(lab, "node-1"), timeout=300, interval=2,
                 what="node-2's pods Running on node-1")
    finally:
        lab.ssh("node-2", "sudo systemctl start skiff-agent")
    wait_for(lambda: lab.node_ready("node-2"), timeout=180, interval=2, what="node-2 Ready again")


def test_halted_worker_pods_run_on_the_other(lab: Lab) -> None:
    lab.skiffctl("rollout", "restart", "deployment/whoami")
    wait_for(lambda: {p["spec"]["nodeName"] for p in lab.running_pods()} == set(WORKERS)
             and len(lab.running_pods()) == 2, timeout=300, interval=2, what="whoami over both workers again")
    started = time.monotonic()
    lab.vagrant("halt", "node-1", timeout=300)
    wait_for(lambda: not lab.node_ready("node-1"), timeout=120, interval=2, what="node-1 NotReady")
    wait_for(lambda: _replaced_on(lab, "node-2"), timeout=300, interval=2, what="node-1's pods Running on node-2")
    lab.times["halted worker to pods on the other"] = time.monotonic() - started


def test_destroy_leaves_nothing_behind(lab: Lab) -> None:
    destroy_leaves_nothing_behind(lab)
