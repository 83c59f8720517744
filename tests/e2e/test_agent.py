"""skiff-agent against real etcd + apiserver + containerd/runc: registration and the pod lifecycle.

containerd and its pods live in a network namespace the test creates (the CNI bridge too);
the agent process runs in the root namespace so it reaches the apiserver on loopback, and
talks to containerd over its unix socket. One containerd and one agent serve the module.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile

import pytest

from control.client.client import Client
from control.client.convert import from_dict
from node.cri import CRI, POD_UID_LABEL
from tests.fixtures.agent import (
    agent_node,
    busybox,
    condition,
    delete_and_wait,
    exec_in,
    get_pod,
    pod_manifest,
    update_with_retry,
    wait_phase,
    wait_ready,
)
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.images import BUSYBOX, WHOAMI
from tests.fixtures.procs import eventually, require_host


@pytest.fixture(scope="module", autouse=True)
def _host_has_what_it_needs() -> None:
    require_host("containerd")


SUBNET = "10.123.0.0/24"


@pytest.fixture(scope="module")
def node_env(apiserver: ApiServer):
    with agent_node(apiserver, "skag", SUBNET) as node:
        yield node


@pytest.fixture
async def cri(node_env):
    c = CRI(node_env[1].address)
    yield c
    await c.close()


# ---- registration ----

async def test_node_registers_with_status_and_lease(client: Client, node_env):
    agent, _ = node_env

    async def ready():
        node = await client.get("Node", agent.node_name)
        return condition(node, "Ready").status == "True"
    await eventually(ready, timeout=30, what="node Ready")
    node = await client.get("Node", agent.node_name)
    assert node.metadata.labels["kubernetes.io/hostname"]
    assert node.metadata.labels["kubernetes.io/os"] == "linux"
    assert node.metadata.labels["kubernetes.io/arch"]
    assert node.status.capacity["pods"] == "110" and int(node.status.capacity["cpu"]) >= 1
    assert node.status.capacity["memory"].endswith("Ki") and node.status.allocatable["memory"].endswith("Ki")
    assert {a.type: a.address for a in node.status.addresses}["InternalIP"] == "127.0.0.1"
    assert "Hostname" in {a.type for a in node.status.addresses}
    assert node.status.daemon_endpoints.kubelet_endpoint.port == agent.port
    assert node.status.node_info.container_runtime_version.startswith("containerd://")
    for ctype in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        assert condition(node, ctype).status in ("False", "True") and condition(node, ctype).reason
    ready_cond = condition(node, "Ready")
    assert ready_cond.reason == "KubeletReady" and ready_cond.HasField("last_heartbeat_time")

    async def leased():
        return bool(await client.get("Lease", agent.node_name, "kube-node-lease"))
    await eventually(leased, timeout=10, what="the node lease")
    lease = await client.get("Lease", agent.node_name, "kube-node-lease")
    assert lease.spec.holder_identity == agent.node_name and lease.spec.lease_duration_seconds == 40
    assert lease.metadata.owner_references[0].uid == node.metadata.uid
    first_heartbeat = ready_cond.last_heartbeat_time.ToNanoseconds()

    async def heartbeat():
        n = await client.get("Node", agent.node_name)
        return condition(n, "Ready").last_heartbeat_time.ToNanoseconds() > first_heartbeat
    await eventually(heartbeat, timeout=10, what="a newer node heartbeat")
    assert condition(await client.get("Node", agent.node_name), "Ready").last_transition_time == \
        ready_cond.last_transition_time


async def test_registration_keeps_spec_owned_by_others(client: Client, node_env):
    agent, _ = node_env
    def cordon(node):
        node.spec.unschedulable = True
        node.spec.pod_cidr = "10.244.7.0/24"
    await update_with_retry(client, "Node", agent.node_name, "", cordon)
    node = await client.get("Node", agent.node_name)
    before = condition(node, "Ready").last_heartbeat_time.ToNanoseconds()

    async def refreshed():
        n = await client.get("Node", agent.node_name)
        return condition(n, "Ready").last_heartbeat_time.ToNanoseconds() > before
    await eventually(refreshed, timeout=10, what="a status update after the spec change")
    node = await client.get("Node", agent.node_name)
    assert node.spec.unschedulable and node.spec.pod_cidr == "10.244.7.0/24"
    await update_with_retry(client, "Node", agent.node_name, "", lambda n: setattr(n.spec, "unschedulable", False))


# ---- pods ----

async def test_pod_runs_with_env_resources_dns(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "settings", "namespace": "default"},
                                   "data": {"color": "blue", "size": "L"}}))
    await client.create(from_dict({"apiVersion": "v1", "kind": "Secret",
                                   "metadata": {"name": "creds", "namespace": "default"},
                                   "stringData": {"password": "hunter2"}}))
    svc = await client.create(from_dict({"apiVersion": "v1", "kind": "Service",
                                         "metadata": {"name": "back-end", "namespace": "default"},
                                         "spec": {"selector": {"app": "x"}, "ports": [{"port": 8080}]}}))
    env = [{"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "color"}}},
           {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
           {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
           {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
           {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
           {"name": "GREETING", "value": "hello-$(COLOR)"}]
    resources = {"requests": {"cpu": "250m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "64Mi"}}
    pod = pod_manifest("web", agent.node_name, [busybox("app", "sleep 3600", env=env, resources=resources,
                                                        envFrom=[{"configMapRef": {"name": "settings"},
                                                                  "prefix": "CFG_"}])])
    await client.create(pod)
    pod = await wait_ready(client, "web")
    assert pod.status.phase == "Running"
    cs = pod.status.container_statuses[0]
    assert cs.ready and cs.started and cs.restart_count == 0 and cs.state.HasField("running")
    assert cs.container_id.startswith("containerd://") and cs.image == BUSYBOX and cs.image_id
    assert pod.status.pod_ip.startswith("10.123.0.") and pod.status.host_ip == "127.0.0.1"
    assert pod.status.HasField("start_time") and pod.status.qos_class == "Burstable"
    assert {c.type for c in pod.status.conditions} >= {"PodScheduled", "Initialized", "ContainersReady", "Ready"}
    environ = dict(line.split("=", 1) for line in (await exec_in(cri, pod, "app", ["env"])).splitlines()
                   if "=" in line)
    assert environ["COLOR"] == "blue" and environ["PASSWORD"] == "hunter2" and environ["MY_POD"] == "web"
    assert environ["MY_IP"] == pod.status.pod_ip and environ["MEM_MI"] == "64"
    assert environ["GREETING"] == "hello-blue" and environ["CFG_size"] == "L"
    assert environ["BACK_END_SERVICE_HOST"] == svc.spec.cluster_ip and environ["BACK_END_SERVICE_PORT"] == "8080"
    resolv = await exec_in(cri, pod, "app", ["cat", "/etc/resolv.conf"])
    assert "nameserver 10.96.0.10" in resolv and "ndots:5" in resolv
    assert "search default.svc.cluster.local svc.cluster.local cluster.local" in resolv
    assert (await exec_in(cri, pod, "app", ["hostname"])).strip() == "web"
    hosts = await exec_in(cri, pod, "app", ["cat", "/etc/hosts"])
    assert f"{pod.status.pod_ip}\tweb" in hosts.splitlines()
    limit = await exec_in(cri, pod, "app", ["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"])
    assert int(limit) == 64 * 2**20
    quota = await exec_in(cri, pod, "app", ["cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"])
    shares = await exec_in(cri, pod, "app", ["cat", "/sys/fs/cgroup/cpu/cpu.shares"])
    assert int(quota) == 50_000 and int(shares) == 256
    await delete_and_wait(client, "web")


async def test_init_containers_run_in_order_with_a_sidecar(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    work = [{"name": "w", "mountPath": "/work"}]
    pod = pod_manifest("inits", agent.node_name,
                       [busybox("main", "cat /work/log; sleep 3600", volumeMounts=work)],
                       initContainers=[
                           busybox("first", "echo one >> /work/log", volumeMounts=work),
                           busybox("side", "echo side >> /work/log; sleep 3600", restartPolicy="Always",
                                   volumeMounts=work),
                           busybox("second", "echo two >> /work/log", volumeMounts=work),
                       ],
                       volumes=[{"name": "w", "emptyDir": {}}])
    await client.create(pod)
    pod = await wait_ready(client, "inits")
    init = {s.name: s for s in pod.status.init_container_statuses}
    assert init["first"].state.terminated.reason == "Completed" and init["second"].state.terminated.exit_code == 0
    assert init["side"].state.HasField("running") and init["side"].ready
    assert condition(pod, "Initialized").status == "True"
    assert (await exec_in(cri, pod, "main", ["cat", "/work/log"])).split() == ["one", "side", "two"]
    await delete_and_wait(client, "inits")


async def test_sidecar_stops_when_the_job_is_done(client: Client, node_env):
    agent, _ = node_env
    side = busybox("side", "trap 'exit 0' TERM; while true; do sleep 0.2; done", restartPolicy="Always")
    await client.create(pod_manifest("job", agent.node_name, [busybox("main", "sleep 1; exit 0")],
                                     initContainers=[side], restartPolicy="Never"))
    pod = await wait_phase(client, "job", "Succeeded", timeout=30)
    assert pod.status.container_statuses[0].state.terminated.exit_code == 0
    assert pod.status.init_container_statuses[0].state.HasField("terminated")
    await delete_and_wait(client, "job")


async def test_restart_policies_and_crash_loop_back_off(client: Client, node_env):
    agent, _ = node_env
    await client.create(pod_manifest("crash", agent.node_name, [busybox("c", "exit 3")]))
    await client.create(pod_manifest("never", agent.node_name, [busybox("c", "exit 4")], restartPolicy="Never"))
    await client.create(pod_manifest("done", agent.node_name, [busybox("c", "exit 0")], restartPolicy="OnFailure"))
    seen_reasons: set[str] = set()

    async def crash_looping():
        cs = (await get_pod(client, "crash")).status.container_statuses[0]
        if cs.state.HasField("waiting"):
            seen_reasons.add(cs.state.waiting.reason)
        return cs.restart_count >= 3 and "CrashLoopBackOff" in seen_reasons
    await eventually(crash_looping, timeout=40, interval=0.1, what="restarts with CrashLoopBackOff")
    cs = (await get_pod(client, "crash")).status.container_statuses[0]
    assert cs.last_state.terminated.exit_code == 3 and cs.last_state.terminated.reason == "Error"
    never = await wait_phase(client, "never", "Failed")
    assert never.status.container_statuses[0].state.terminated.exit_code == 4
    assert never.status.container_statuses[0].restart_count == 0
    done = await wait_phase(client, "done", "Succeeded")
    assert done.status.container_statuses[0].state.terminated.reason == "Completed"
    assert condition(done, "Ready").reason == "PodCompleted"
    for name in ("crash", "never", "done"):
        await delete_and_wait(client, name)


async def test_image_errors(client: Client, node_env):
    agent, _ = node_env
    reasons: dict[str, set[str]] = {"nopull": set(), "badpull": set()}

    async def watch():
        async for event in client.watch("Pod", "default"):
            pod = event.object
            if pod.metadata.name in reasons and pod.status.container_statuses:
                reasons[pod.metadata.name].add(pod.status.container_statuses[0].state.waiting.reason)
    watcher = asyncio.create_task(watch())
    try:
        await client.create(pod_manifest("nopull", agent.node_name, [
            {"name": "c", "image": "localhost:5000/absent:1", "imagePullPolicy": "Never"}]))
        await client.create(pod_manifest("badpull", agent.node_name, [
            {"name": "c", "image": "localhost:5000/absent:1"}]))

        async def seen(name: str, reason: str):
            return reason in reasons[name]
        await eventually(lambda: seen("nopull", "ErrImageNeverPull"), timeout=20, what="ErrImageNeverPull")
        await eventually(lambda: seen("badpull", "ErrImagePull"), timeout=20, what="ErrImagePull")
        await eventually(lambda: seen("badpull", "ImagePullBackOff"), timeout=20, what="ImagePullBackOff")
    finally:
        watcher.cancel()
    assert (await get_pod(client, "badpull")).status.phase == "Pending"
    for name in ("nopull", "badpull"):
        await delete_and_wait(client, name)


async def test_probes_drive_readiness_and_restarts(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    live = {"exec": {"command": ["test", "-f", "/tmp/alive"]}, "periodSeconds": 1, "failureThreshold": 1,
            "initialDelaySeconds": 1}
    ready = {"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1}
    await client.create(pod_manifest("probed", agent.node_name, [busybox(
        "c", "touch /tmp/alive; sleep 3600", livenessProbe=live, readinessProbe=ready)]))
    pod = await wait_phase(client, "probed", "Running")

    async def running_not_ready():
        p = await get_pod(client, "probed")
        cs = p.status.container_statuses[0]
        return cs.state.HasField("running") and not cs.ready and condition(p, "Ready").status == "False"
    await eventually(running_not_ready, timeout=10, what="running but not ready")
    pod = await get_pod(client, "probed")
    await exec_in(cri, pod, "c", ["touch", "/tmp/ready"])
    pod = await wait_ready(client, "probed", timeout=10)
    first_id = pod.status.container_statuses[0].container_id
    await exec_in(cri, pod, "c", ["rm", "/tmp/alive"])

    async def restarted():
        cs = (await get_pod(client, "probed")).status.container_statuses[0]
        return cs.restart_count == 1 and cs.container_id != first_id and cs.state.HasField("running")
    await eventually(restarted, timeout=30, what="liveness restart")
    cs = (await get_pod(client, "probed")).status.container_statuses[0]
    assert cs.last_state.terminated.container_id == first_id and not cs.ready
    await delete_and_wait(client, "probed")


async def test_failing_startup_probe_restarts_and_gates_readiness(client: Client, node_env):
    agent, _ = node_env
    startup = {"exec": {"command": ["test", "-f", "/tmp/started"]}, "periodSeconds": 1, "failureThreshold": 2}
    await client.create(pod_manifest("slowstart", agent.node_name, [busybox(
        "c", "sleep 3600", startupProbe=startup, readinessProbe={"exec": {"command": ["true"]}, "periodSeconds": 1})]))

    early_started: list[bool] = []

    async def unstarted_then_restarted():
        cs = (await get_pod(client, "slowstart")).status.container_statuses
        if cs and cs[0].state.HasField("running") and cs[0].restart_count == 0:
            early_started.append(cs[0].started or cs[0].ready)
        return bool(cs) and cs[0].restart_count >= 1
    await eventually(unstarted_then_restarted, timeout=30, what="restart after the startup probe failed")
    assert early_started and not any(early_started)
    await delete_and_wait(client, "slowstart")


async def test_changed_image_restarts_the_container(client: Client, node_env):
    agent, _ = node_env
    await client.create(pod_manifest("upgrade", agent.node_name, [busybox("c", "sleep 3600")]))
    pod = await wait_ready(client, "upgrade")
    first_id = pod.status.container_statuses[0].container_id
    await update_with_retry(client, "Pod", "upgrade", "default",
                            lambda p: setattr(p.spec.containers[0], "image", WHOAMI))

    async def upgraded():
        cs = (await get_pod(client, "upgrade")).status.container_statuses[0]
        return cs.image == WHOAMI and cs.restart_count == 1 and cs.ready and cs.container_id != first_id
    await eventually(upgraded, timeout=30, what="the container restarted with the new image")
    await delete_and_wait(client, "upgrade")


async def test_graceful_deletion_runs_pre_stop_and_sigterm(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    host_dir = tempfile.mkdtemp(prefix="skiff-agent-host-")
    try:
        script = "trap 'echo term > /host/term; exit 0' TERM; while true; do sleep 0.2; done"
        pre_stop = {"exec": {"command": ["/bin/sh", "-c", "echo prestop > /host/prestop"]}}
        await client.create(pod_manifest("graceful", agent.node_name, [busybox(
            "c", script, lifecycle={"preStop": pre_stop}, volumeMounts=[{"name": "h", "mountPath": "/host"}])],
            volumes=[{"name": "h", "hostPath": {"path": host_dir}}], terminationGracePeriodSeconds=10))
        pod = await wait_ready(client, "graceful")
        uid = pod.metadata.uid
        await delete_and_wait(client, "graceful")
        with open(os.path.join(host_dir, "prestop")) as f:
            assert f.read().strip() == "prestop"
        with open(os.path.join(host_dir, "term")) as f:
            assert f.read().strip() == "term"
        assert await cri.list_pod_sandboxes({POD_UID_LABEL: uid}) == []
        assert await cri.list_containers({POD_UID_LABEL: uid}) == []
        assert not os.path.exists(os.path.join(agent.root_dir, "pods", uid))
    finally:
        shutil.rmtree(host_dir, ignore_errors=True)


async def test_volumes_reach_containers(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "files", "namespace": "default"},
                                   "data": {"app.conf": "debug=true"}}))
    mounts = [{"name": "cfg", "mountPath": "/etc/app"}, {"name": "scratch", "mountPath": "/scratch"}]
    await client.create(pod_manifest("vols", agent.node_name, [busybox("c", "sleep 3600", volumeMounts=mounts)],
                                     volumes=[{"name": "cfg", "configMap": {"name": "files"}},
                                              {"name": "scratch", "emptyDir": {"medium": "Memory"}}]))
    pod = await wait_ready(client, "vols")
    assert (await exec_in(cri, pod, "c", ["cat", "/etc/app/app.conf"])) == "debug=true"
    assert "tmpfs" in await exec_in(cri, pod, "c", ["sh", "-c", "grep ' /scratch ' /proc/mounts"])
    await update_with_retry(client, "ConfigMap", "files", "default",
                            lambda cm: cm.data.update({"app.conf": "debug=false"}))

    async def updated():
        return (await exec_in(cri, pod, "c", ["cat", "/etc/app/app.conf"])) == "debug=false"
    await eventually(updated, timeout=25, interval=0.5, what="the configMap update inside the container")
    await delete_and_wait(client, "vols")


async def test_active_deadline_host_network_and_events(client: Client, node_env):
    agent, _ = node_env
    await client.create(pod_manifest("deadline", agent.node_name, [busybox("c", "sleep 3600")],
                                     activeDeadlineSeconds=3))
    await client.create(pod_manifest("hostnet", agent.node_name, [busybox("c", "sleep 3600")], hostNetwork=True))
    pod = await wait_phase(client, "deadline", "Failed", timeout=30)
    assert pod.status.reason == "DeadlineExceeded"
    assert pod.status.message == "Pod was active on the node longer than the specified deadline"
    hostnet = await wait_ready(client, "hostnet")
    assert hostnet.status.pod_ip == hostnet.status.host_ip == "127.0.0.1"

    async def recorded():
        events, _ = await client.list_all("Event", "default")
        reasons = {e.reason for e in events if e.involved_object.name == "deadline"}
        return {"Created", "Started", "Killing", "DeadlineExceeded"} <= reasons
    await eventually(recorded, timeout=15, what="the pod's events")
    for name in ("deadline", "hostnet"):
        await delete_and_wait(client, name)


async def test_logs_and_exec_through_the_apiserver(client: Client, node_env):
    agent, _ = node_env
    await client.create(pod_manifest("talker", agent.node_name, [busybox("c", "echo hello; echo world; sleep 3600")]))
    await wait_ready(client, "talker")

    async def logged():
        chunks = [c.data async for c in client.logs("default", "talker")]
        return b"".join(chunks) == b"hello\nworld\n"
    await eventually(logged, timeout=10, what="logs through the apiserver")
    result = await client.exec("default", "talker", ["sh", "-c", "echo $HOSTNAME; exit 3"])
    assert result.stdout == b"talker\n" and result.exit_code == 3
    summary = await client.node_stats(agent.node_name)
    assert summary.node_name == agent.node_name and summary.cpu_count >= 1 and summary.memory_capacity_bytes > 0
    assert ("default", "talker") in {(p.namespace, p.name) for p in summary.pods}
    await delete_and_wait(client, "talker")


async def test_termination_messages_from_the_file_and_from_logs(client: Client, node_env):
    agent, _ = node_env
    await client.create(pod_manifest("term-msg", agent.node_name, [
        busybox("file", "echo -n 'disk full' > /dev/termination-log; exit 3"),
        busybox("logs", "echo first; echo last words; exit 4", terminationMessagePolicy="FallbackToLogsOnError"),
        busybox("quiet", "echo not a message; exit 5"),
    ], restartPolicy="Never"))
    pod = await wait_phase(client, "term-msg", "Failed")
    terminated = {s.name: s.state.terminated for s in pod.status.container_statuses}
    assert (terminated["file"].exit_code, terminated["file"].message) == (3, "disk full")
    assert (terminated["logs"].exit_code, terminated["logs"].message) == (4, "first\nlast words\n")
    assert (terminated["quiet"].exit_code, terminated["quiet"].message) == (5, "")
    await delete_and_wait(client, "term-msg")
