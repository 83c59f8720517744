"""Crash-only agent: kill -9, start again, and it adopts what containerd runs without restarting it."""

from __future__ import annotations

import pytest

from control.client.client import Client
from node.cri import CRI, POD_UID_LABEL
from tests.fixtures.agent import agent_node, busybox, get_pod, pod_manifest, wait_ready
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.procs import eventually, require_host


@pytest.fixture(scope="module", autouse=True)
def _host_has_what_it_needs() -> None:
    require_host("containerd")


@pytest.fixture(scope="module")
def node_env(apiserver: ApiServer):
    with agent_node(apiserver, "skar", "10.124.0.0/24") as node:
        yield node


async def test_kill9_and_restart_adopts_containers(client: Client, node_env):
    agent, ctrd = node_env
    cri = CRI(ctrd.address)
    try:
        await client.create(pod_manifest("steady", agent.node_name, [busybox("c", "sleep 3600")]))
        await client.create(pod_manifest("doomed", agent.node_name, [busybox("c", "sleep 3600")]))
        await client.create(pod_manifest("flappy", agent.node_name, [busybox("c", "sleep 0.5; exit 1")]))
        steady = await wait_ready(client, "steady")
        doomed = await wait_ready(client, "doomed")

        async def flapped():
            return (await get_pod(client, "flappy")).status.container_statuses[0].restart_count >= 2
        await eventually(flapped, timeout=40, what="flappy restarted twice")
        steady_id = steady.status.container_statuses[0].container_id
        flappy_restarts = (await get_pod(client, "flappy")).status.container_statuses[0].restart_count

        agent.kill9()
        # Deleted for good while the agent is down: its sandbox is now an orphan.
        await client.delete("Pod", "doomed", "default", grace_period_seconds=0)
        agent.start()

        async def orphan_removed():
            return await cri.list_pod_sandboxes({POD_UID_LABEL: doomed.metadata.uid}) == []
        await eventually(orphan_removed, timeout=30, what="the deleted pod's sandbox removed")

        async def flapping_on():
            cs = (await get_pod(client, "flappy")).status.container_statuses[0]
            return cs.restart_count > flappy_restarts
        await eventually(flapping_on, timeout=40, what="flappy's restart count continuing")

        steady = await wait_ready(client, "steady")
        cs = steady.status.container_statuses[0]
        assert cs.container_id == steady_id and cs.restart_count == 0
        uid = steady.metadata.uid
        assert len(await cri.list_pod_sandboxes({POD_UID_LABEL: uid})) == 1
        assert [c.id for c in await cri.list_containers({POD_UID_LABEL: uid})] == [steady_id.split("://")[1]]
        # The restarted agent still carries pods through graceful deletion.
        await client.delete("Pod", "steady", "default")

        async def steady_gone():
            return await cri.list_pod_sandboxes({POD_UID_LABEL: uid}) == []
        await eventually(steady_gone, timeout=30, what="steady removed")
        await client.delete("Pod", "flappy", "default")
    finally:
        await cri.close()


async def test_agent_rides_out_an_apiserver_restart(client: Client, node_env, apiserver: ApiServer):
    agent, _ = node_env
    apiserver.restart()
    async with Client(apiserver.target) as fresh:
        await fresh.create(pod_manifest("after", agent.node_name, [busybox("c", "sleep 3600")]))
        pod = await wait_ready(fresh, "after", timeout=40)
        assert pod.status.container_statuses[0].restart_count == 0
        lease = await fresh.get("Lease", agent.node_name, "kube-node-lease")
        renewed = lease.spec.renew_time.ToNanoseconds()

        async def lease_renewed():
            again = await fresh.get("Lease", agent.node_name, "kube-node-lease")
            return again.spec.renew_time.ToNanoseconds() > renewed
        await eventually(lease_renewed, timeout=15, what="the lease renewed after the restart")
        await fresh.delete("Pod", "after", "default")
