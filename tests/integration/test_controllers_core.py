"""Endpoints, garbage collector, namespace, node IPAM and node lifecycle against a real apiserver.

Nodes are hollow: API objects whose status and Lease the test writes itself.
"""

from __future__ import annotations

import time

import grpc
import pytest
from google.protobuf import timestamp_pb2

from control.client.convert import from_dict
from control.client.kinds import KINDS
from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually


def pod(name: str, labels: dict, ip: str = "", ready: bool = True, ports=None, namespace: str = "default"):
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": namespace, "labels": labels},
                      "spec": {"containers": [{"name": "c", "image": "i", "ports": ports or []}]}})


async def run_pod(client, obj, node: str, ip: str, ready: bool = True):
    created = await client.create(obj)
    bound = await client.bind(created.metadata.namespace, created.metadata.name, node)
    bound.status.phase = "Running"
    bound.status.pod_ip = ip
    bound.status.conditions.add(type="Ready", status="True" if ready else "False")
    return await client.update_status(bound)


async def gone(client, kind, name, namespace="default") -> bool:
    try:
        await client.get(kind, name, namespace)
        return False
    except grpc.aio.AioRpcError as e:
        return e.code() == grpc.StatusCode.NOT_FOUND


async def test_endpoints_follow_ready_pods_and_named_ports(apiserver, client):
    async with running_controllers(apiserver.target, ["endpoints"]):
        svc = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                         "spec": {"selector": {"app": "web"},
                                  "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
        await client.create(svc)
        ports = [{"name": "http", "containerPort": 8080}]
        await run_pod(client, pod("web-1", {"app": "web"}, ports=ports), "n1", "10.244.1.5")
        await run_pod(client, pod("web-2", {"app": "web"}, ports=ports), "n2", "10.244.2.5", ready=False)
        await run_pod(client, pod("other", {"app": "other"}, ports=ports), "n1", "10.244.1.9")

        async def converged() -> bool:
            ep = await client.get("ep", "web", "default")
            if len(ep.subsets) != 1:
                return False
            s = ep.subsets[0]
            return ([a.ip for a in s.addresses] == ["10.244.1.5"]
                    and [a.ip for a in s.not_ready_addresses] == ["10.244.2.5"]
                    and [(p.name, p.port) for p in s.ports] == [("http", 8080)]
                    and s.addresses[0].target_ref.name == "web-1" and s.addresses[0].node_name == "n1")

        await eventually(converged, timeout=10, what="endpoints of web")
        # a deleted pod leaves the endpoints
        await client.delete("pod", "web-1", "default", grace_period_seconds=0)

        async def dropped() -> bool:
            ep = await client.get("ep", "web", "default")
            return all(a.ip != "10.244.1.5" for s in ep.subsets for a in s.addresses)

        await eventually(dropped, timeout=10, what="endpoint removal")
        await client.delete("svc", "web", "default")
        await eventually(lambda: gone(client, "ep", "web"), timeout=10, what="endpoints deleted with service")


def owned(name: str, owner) -> object:
    obj = from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    obj.metadata.owner_references.add(api_version=owner.api_version, kind=owner.kind, name=owner.metadata.name,
                                      uid=owner.metadata.uid, controller=True, block_owner_deletion=True)
    return obj


async def test_garbage_collector_background_orphan_foreground(apiserver, client):
    async with running_controllers(apiserver.target, ["garbagecollector"]):
        for policy in ("Background", "Orphan", "Foreground"):
            owner = await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                                   "metadata": {"name": f"owner-{policy.lower()}"}}))
            dep = await client.create(owned(f"dep-{policy.lower()}", owner))
            await client.delete("cm", owner.metadata.name, "default", propagation_policy=policy)
            await eventually(lambda o=owner: gone(client, "cm", o.metadata.name), timeout=10,
                             what=f"owner gone ({policy})")
            if policy == "Orphan":
                kept = await client.get("cm", dep.metadata.name, "default")
                assert not kept.metadata.owner_references
            else:
                await eventually(lambda d=dep: gone(client, "cm", d.metadata.name), timeout=10,
                                 what=f"dependent collected ({policy})")


async def test_dependent_of_missing_owner_is_collected(apiserver, client):
    async with running_controllers(apiserver.target, ["garbagecollector"]):
        ghost = from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"}})
        ghost.metadata.uid = "00000000-0000-0000-0000-000000000000"
        await client.create(owned("orphaned", ghost))
        await eventually(lambda: gone(client, "cm", "orphaned"), timeout=10, what="orphan collected")


async def test_namespace_deletion_empties_it_first(apiserver, client):
    async with running_controllers(apiserver.target, ["namespace"]):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tmp"}}))
        for i in range(3):
            await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                           "metadata": {"name": f"c{i}", "namespace": "tmp"}}))
        await client.create(pod("p", {"a": "b"}, namespace="tmp"))
        await client.delete("ns", "tmp")
        await eventually(lambda: gone(client, "ns", "tmp", ""), timeout=15, what="namespace removed")
        items, _ = await client.list_all("cm", "tmp")
        assert items == []


def hollow_node(name: str):
    return from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                      "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}})


async def test_node_ipam_assigns_distinct_cidrs(apiserver, client):
    async with running_controllers(apiserver.target, ["nodeipam"], {"cluster_cidr": "10.244.0.0/16"}):
        for i in range(3):
            await client.create(hollow_node(f"ipam-{i}"))

        async def assigned() -> bool:
            nodes = [await client.get("node", f"ipam-{i}") for i in range(3)]
            return all(n.spec.pod_cidr for n in nodes)

        await eventually(assigned, timeout=10, what="podCIDRs")
        cidrs = [(await client.get("node", f"ipam-{i}")).spec.pod_cidr for i in range(3)]
        assert len(set(cidrs)) == 3 and all(c.startswith("10.244.") and c.endswith("/24") for c in cidrs)
        await client.delete("node", "ipam-0")
        await client.create(hollow_node("ipam-3"))

        async def reused() -> bool:
            return (await client.get("node", "ipam-3")).spec.pod_cidr == cidrs[0]

        await eventually(reused, timeout=10, what="freed CIDR reused")


async def test_node_failure_taints_and_evicts_after_toleration(apiserver, client):
    node = hollow_node("lc-1")
    node.status.conditions.add(type="Ready", status="True").last_heartbeat_time.FromSeconds(int(time.time()))
    await client.create(node)
    lease = KINDS["Lease"].new()
    lease.metadata.name, lease.metadata.namespace = "lc-1", "kube-node-lease"
    lease.spec.holder_identity = "lc-1"
    lease.spec.renew_time.CopyFrom(timestamp_pb2.Timestamp(seconds=int(time.time())))
    await client.create(lease)
    forever = pod("stays", {"a": "b"})
    forever.spec.tolerations.add(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute")
    await run_pod(client, forever, "lc-1", "10.244.9.1")
    short = pod("leaves", {"a": "b"})
    short.spec.tolerations.add(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute",
                               toleration_seconds=2)
    await run_pod(client, short, "lc-1", "10.244.9.2")
    options = {"node_monitor_period": 0.5, "node_monitor_grace_period": 3, "node_startup_grace_period": 3}
    async with running_controllers(apiserver.target, ["nodelifecycle"], options):
        async def unreachable() -> bool:
            n = await client.get("node", "lc-1")
            ready = next(c for c in n.status.conditions if c.type == "Ready")
            return ready.status == "Unknown" and any(
                t.key == "node.kubernetes.io/unreachable" and t.effect == "NoExecute" for t in n.spec.taints)

        await eventually(unreachable, timeout=15, what="node marked unreachable")
        stays = await client.get("pod", "stays", "default")
        assert next(c for c in stays.status.conditions if c.type == "Ready").status == "False"

        async def evicted() -> bool:
            p = await client.get("pod", "leaves", "default")
            return p.metadata.HasField("deletion_timestamp")

        await eventually(evicted, timeout=15, what="pod evicted after tolerationSeconds")
        assert not (await client.get("pod", "stays", "default")).metadata.HasField("deletion_timestamp")
        # the node comes back: the taint goes
        n = await client.get("node", "lc-1")
        ready = next(c for c in n.status.conditions if c.type == "Ready")
        ready.status, ready.reason = "True", "KubeletReady"
        ready.last_heartbeat_time.FromSeconds(int(time.time()))
        await client.update_status(n)
        lease = await client.get("lease", "lc-1", "kube-node-lease")
        lease.spec.renew_time.FromSeconds(int(time.time()))
        await client.update(lease)

        async def recovered() -> bool:
            n = await client.get("node", "lc-1")
            return not any(t.key.startswith("node.kubernetes.io/") for t in n.spec.taints)

        await eventually(recovered, timeout=10, what="taint removed on recovery")


async def test_default_tolerations_added_to_pods(client):
    created = await client.create(pod("tol", {"a": "b"}))
    keys = {(t.key, t.effect, t.toleration_seconds) for t in created.spec.tolerations}
    assert ("node.kubernetes.io/not-ready", "NoExecute", 300) in keys
    assert ("node.kubernetes.io/unreachable", "NoExecute", 300) in keys


@pytest.fixture(autouse=True)
def _register_controllers():
    """The manager must find these controllers (every Controller in control/controllers/)."""
    from control.controllers.manager import CONTROLLERS
    missing = {"endpoints", "garbagecollector", "namespace", "nodeipam", "nodelifecycle"} - set(CONTROLLERS)
    assert not missing, f"controllers not found: {missing}"


async def test_garbage_collector_collects_rbac_objects_of_a_deleted_owner(apiserver, client):
    async with running_controllers(apiserver.target, ["garbagecollector"]):
        owner = await client.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"name": "rbac-owner"}}))
        ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": owner.metadata.name, "uid": owner.metadata.uid}
        await client.create(from_dict({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "owned-role", "namespace": "default", "ownerReferences": [ref]},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}))
        await client.delete("cm", owner.metadata.name, "default")
        await eventually(lambda: gone(client, "Role", "owned-role"), timeout=10, what="owned Role collected")
