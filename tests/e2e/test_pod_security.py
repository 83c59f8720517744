"""Pod security and the pod fields a Linux node honours, on real containerd/runc through skiff-agent:
one pod proves most fields at once (user and groups, capabilities, no_new_privs, seccomp, read-only
root, fsGroup, sysctls, hostAliases, dnsConfig, downward API, subPathExpr); refusals are checked
on pods that never start a container.
"""

from __future__ import annotations

import json
import os

import pytest

from control.client.client import Client
from control.client.convert import from_dict
from node.cri import CRI
from node.runtime import userns
from node.runtime.security import host_apparmor_enabled
from tests.fixtures.agent import (
    agent_node,
    busybox,
    delete_and_wait,
    exec_in,
    get_pod,
    pod_manifest,
    update_with_retry,
    wait_phase,
    wait_ready,
)
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.procs import eventually

SUBNET = "10.124.0.0/24"
CAP_CHOWN, CAP_NET_ADMIN, CAP_NET_RAW = 0, 12, 13


@pytest.fixture(scope="module")
def node_env(apiserver: ApiServer):
    with agent_node(apiserver, "skps", SUBNET) as node:
        yield node


@pytest.fixture
async def cri(node_env):
    c = CRI(node_env[1].address)
    yield c
    await c.close()


def secure_pod(node: str):
    container = busybox("app", "sleep 3600", env=[
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        resources={"limits": {"cpu": "500m", "memory": "64Mi"}},
        securityContext={"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                         "capabilities": {"drop": ["NET_RAW", "chown"]}},
        volumeMounts=[{"name": "data", "mountPath": "/data"}, {"name": "info", "mountPath": "/etc/info"},
                      {"name": "data", "mountPath": "/mine", "subPathExpr": "$(POD_NAME)"},
                      {"name": "all", "mountPath": "/etc/all"}])
    info = {"items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "tier", "fieldRef": {"fieldPath": "metadata.labels['tier']"}},
        {"path": "cpu_limit", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu",
                                                   "divisor": "1m"}},
        {"path": "mem_limit", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory"}}]}
    # Container-level seccomp profiles override the pod's: a Localhost profile file and Unconfined.
    peer = busybox("peer", "sleep 3601", securityContext={"seccompProfile": {"type": "Localhost",
                                                                           "localhostProfile": "allow.json"}})
    loose = busybox("loose", "sleep 3602", securityContext={"seccompProfile": {"type": "Unconfined"}})
    manifest = pod_manifest("secure", node, [container, peer, loose], shareProcessNamespace=True, securityContext={
        "runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 3000, "supplementalGroups": [4000], "fsGroup": 2000,
        "seccompProfile": {"type": "RuntimeDefault"},
        "sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"},
                    {"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}]},
        hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}], subdomain="sec",
        setHostnameAsFQDN=True,
        dnsPolicy="None", dnsConfig={"nameservers": ["192.0.2.1"], "searches": ["example.test"],
                                     "options": [{"name": "ndots", "value": "2"}]},
        volumes=[{"name": "data", "emptyDir": {}}, {"name": "info", "downwardAPI": info},
                 {"name": "all", "projected": {"sources": [
                     {"configMap": {"name": "sec-cm"}},
                     {"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}]}}])
    manifest.metadata.labels.update({"app": "sec", "tier": "front"})
    return manifest


def cap_bits(status: str, field: str) -> int:
    line = [x for x in status.splitlines() if x.startswith(field + ":")][0]
    return int(line.split()[1], 16)


async def test_one_pod_proves_the_security_context_and_pod_files(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "sec-cm", "namespace": "default"}, "data": {"k": "v"}}))
    os.makedirs(os.path.join(agent.root_dir, "seccomp"), exist_ok=True)
    with open(os.path.join(agent.root_dir, "seccomp", "allow.json"), "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW"}, f)
    await client.create(secure_pod(agent.node_name))
    pod = await wait_ready(client, "secure")

    async def sh(script: str) -> str:
        return await exec_in(cri, pod, "app", ["sh", "-c", script])

    ident = await sh("id")
    assert "uid=1000" in ident and "gid=3000" in ident, ident
    groups = ident.split("groups=")[1]
    assert "2000" in groups and "4000" in groups, ident
    status = await sh("cat /proc/self/status")
    eff = cap_bits(status, "CapEff") | cap_bits(status, "CapBnd")
    assert not eff & (1 << CAP_NET_RAW) and not eff & (1 << CAP_CHOWN)
    assert "\nNoNewPrivs:\t1" in status and "\nSeccomp:\t2" in status
    assert "\nSeccomp:\t2" in await exec_in(cri, pod, "peer", ["cat", "/proc/self/status"])
    assert "\nSeccomp:\t0" in await exec_in(cri, pod, "loose", ["cat", "/proc/self/status"])
    assert "sleep 3601" in await sh("ps")  # shareProcessNamespace: the peer's process is visible
    assert "read-only" in (await sh("touch /tmp/x 2>&1 || true")).lower()  # /tmp is 1777: only a read-only root refuses
    await sh("touch /data/ok")
    assert (await sh("stat -c %g /data")).strip() == "2000"
    assert (await sh("stat -c %g /data/ok")).strip() == "2000"  # setgid directory
    assert await sh("cat /proc/sys/kernel/shm_rmid_forced") == "1\n"
    assert await sh("cat /proc/sys/net/ipv4/ip_unprivileged_port_start") == "80\n"
    assert "10.1.2.3\tfoo.local\tbar.local" in await sh("cat /etc/hosts")
    assert await sh("hostname") == "secure.sec.default.svc.cluster.local\n"
    resolv = await sh("cat /etc/resolv.conf")
    assert "nameserver 192.0.2.1" in resolv and "search example.test" in resolv and "ndots:2" in resolv
    assert await sh("cat /etc/info/labels") == 'app="sec"\ntier="front"'
    assert await sh("cat /etc/info/cpu_limit") == "500"
    assert await sh("cat /etc/info/mem_limit") == str(64 * 1024 * 1024)
    assert await sh("cat /etc/all/k; echo; cat /etc/all/name") == "v\nsecure"
    await sh("echo mine > /mine/f")
    assert await sh("cat /data/secure/f") == "mine\n"
    mounts = await sh("cat /proc/mounts")  # procMount Default: the kubelet's masked and read-only paths
    assert " /sys/firmware tmpfs ro" in mounts and " /proc/sys proc ro" in mounts, mounts

    await update_with_retry(client, "Pod", "secure", "default", lambda p: p.metadata.labels.update({"tier": "back"}))

    async def relabelled():
        return await sh("cat /etc/info/tier") == "back"
    await eventually(relabelled, timeout=20, interval=0.5, what="the downward-API file after a label change")
    await delete_and_wait(client, "secure")


async def test_host_namespaces_and_privileged(client: Client, node_env, cri: CRI):
    agent, _ = node_env
    await client.create(pod_manifest("hostns", agent.node_name, [busybox("c", "sleep 3600", securityContext={
        "privileged": True})], hostPID=True, hostIPC=True))
    pod = await wait_ready(client, "hostns")
    for ns in ("pid", "ipc"):  # the test runs in the host's pid and ipc namespaces
        assert (await exec_in(cri, pod, "c", ["readlink", f"/proc/self/ns/{ns}"])).strip() == os.readlink(
            f"/proc/self/ns/{ns}")
    with open("/proc/self/status") as f:
        host_caps = cap_bits(f.read(), "CapEff")
    assert cap_bits(await exec_in(cri, pod, "c", ["cat", "/proc/self/status"]), "CapEff") == host_caps
    assert " /sys/firmware " not in await exec_in(cri, pod, "c", ["cat", "/proc/mounts"])  # nothing masked
    await delete_and_wait(client, "hostns")


async def test_refusals_on_the_node(client: Client, node_env):
    agent, _ = node_env
    node = agent.node_name
    await client.create(pod_manifest("nonroot", node, [busybox("c", "sleep 3600")],
                                     securityContext={"runAsNonRoot": True}))
    await client.create(pod_manifest("unsafe-sysctl", node, [busybox("c", "sleep 3600")],
                                     securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}))
    await client.create(pod_manifest("nfs", node, [busybox("c", "sleep 3600", volumeMounts=[
        {"name": "share", "mountPath": "/share"}])], volumes=[{"name": "share", "nfs": {"server": "192.0.2.9",
                                                                                          "path": "/x"}}]))

    async def waiting():
        pod = await get_pod(client, "nonroot")
        return [s.state.waiting for s in pod.status.container_statuses if s.state.HasField("waiting")]

    async def refused():
        return [w.reason for w in await waiting()] == ["CreateContainerConfigError"]
    await eventually(refused, timeout=30, what="runAsNonRoot refusal")
    uid = (await get_pod(client, "nonroot")).metadata.uid
    assert (await waiting())[0].message == ('container has runAsNonRoot and image will run as root '
                               f'(pod: "nonroot_default({uid})", container: c)')
    pod = await wait_phase(client, "unsafe-sysctl", "Failed")
    assert pod.status.reason == "SysctlForbidden"
    assert pod.status.message == 'Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted'

    async def failed_mount():
        events, _ = await client.list_all("Event", "default")
        return [e for e in events if e.involved_object.name == "nfs" and e.reason == "FailedMount"]
    await eventually(failed_mount, timeout=30, what="FailedMount for an nfs volume")
    events = await failed_mount()
    assert 'volume "share"' in events[0].message and "nfs" in events[0].message
    assert (await get_pod(client, "nfs")).status.phase == "Pending"
    if not host_apparmor_enabled():
        await client.create(pod_manifest("apparmor", node, [busybox("c", "sleep 3600")], securityContext={
            "appArmorProfile": {"type": "RuntimeDefault"}}))
        pod = await wait_phase(client, "apparmor", "Failed")
        assert (pod.status.reason, pod.status.message) == (
            "AppArmor", "Pod was rejected: Cannot enforce AppArmor: AppArmor is not enabled on the host")
        await delete_and_wait(client, "apparmor")
    for name in ("nonroot", "unsafe-sysctl", "nfs"):
        await delete_and_wait(client, name)


async def test_host_users_false_as_the_runtime_allows(client: Client, node_env, cri: CRI):
    """A pod with its own user namespace: where the runtime reports it can make one, root inside is
    a range of unprivileged host IDs; where it cannot (containerd before 2.0), the pod never gets a
    sandbox and carries the kubelet's event."""
    agent, _ = node_env
    await client.create(pod_manifest("userns", agent.node_name, [busybox("c", "sleep 3600")], hostUsers=False))
    if await userns.handler_supports(cri):
        pod = await wait_ready(client, "userns")
        uid_map = (await exec_in(cri, pod, "c", ["cat", "/proc/self/uid_map"])).split()
        assert uid_map[0] == "0" and int(uid_map[1]) >= userns.FIRST_ID and uid_map[2] == str(userns.LENGTH), uid_map
    else:
        async def refused():
            events, _ = await client.list_all("Event", "default")
            return [e for e in events if e.involved_object.name == "userns" and e.reason == "FailedCreatePodSandBox"]
        await eventually(refused, timeout=30, what="FailedCreatePodSandBox for hostUsers: false")
        events = await refused()
        assert events[0].type == "Warning"
        assert events[0].message == ("Failed to create pod sandbox: can't set `spec.hostUsers: false`, "
                                     "runtime does not support user namespaces")
        pod = await get_pod(client, "userns")
        assert pod.status.phase == "Pending"
        sandboxes = await cri.list_pod_sandboxes()
        assert not [s for s in sandboxes if s.metadata.uid == pod.metadata.uid]
    await delete_and_wait(client, "userns")


async def test_service_links_dns_policies_and_added_capabilities(client: Client, node_env, cri: CRI):
    """enableServiceLinks: false, dnsPolicy Default and ClusterFirstWithHostNet, capabilities.add."""
    agent, _ = node_env
    await client.create(from_dict({"apiVersion": "v1", "kind": "Service",
                                   "metadata": {"name": "linked", "namespace": "default"},
                                   "spec": {"selector": {"app": "none"}, "ports": [{"port": 8080}]}}))
    await client.create(pod_manifest("nolinks", agent.node_name, [busybox("c", "sleep 3600", securityContext={
        "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}})], enableServiceLinks=False, dnsPolicy="Default"))
    await client.create(pod_manifest("hostdns", agent.node_name, [busybox("c", "sleep 3600")], hostNetwork=True,
                                     dnsPolicy="ClusterFirstWithHostNet"))
    pod = await wait_ready(client, "nolinks")
    environ = await exec_in(cri, pod, "c", ["env"])
    assert "LINKED_SERVICE_HOST" not in environ and "LINKED_PORT" not in environ, environ
    resolv = await exec_in(cri, pod, "c", ["cat", "/etc/resolv.conf"])
    assert "10.96.0.10" not in resolv and "svc.cluster.local" not in resolv, resolv  # the node's resolver
    caps = cap_bits(await exec_in(cri, pod, "c", ["cat", "/proc/self/status"]), "CapEff")
    assert caps == 1 << CAP_NET_ADMIN, hex(caps)  # ALL dropped, NET_ADMIN added
    hostdns = await wait_ready(client, "hostdns")
    resolv = await exec_in(cri, hostdns, "c", ["cat", "/etc/resolv.conf"])
    assert "nameserver 10.96.0.10" in resolv and "search default.svc.cluster.local" in resolv, resolv
    for name in ("nolinks", "hostdns"):
        await delete_and_wait(client, name)
    await client.delete("Service", "linked", "default")
