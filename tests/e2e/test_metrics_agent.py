"""skiff-agent's /metrics, scraped over HTTP from a real agent running a real pod on containerd."""

from __future__ import annotations

import pytest

from control.client.client import Client
from tests.fixtures.agent import agent_node, busybox, delete_and_wait, pod_manifest, wait_phase
from tests.fixtures.apiserver import ApiServer
from tests.fixtures.metrics import Scrape, scrape
from tests.fixtures.procs import eventually, free_port


@pytest.fixture(scope="module")
def node_env(apiserver: ApiServer):
    port = free_port()
    with agent_node(apiserver, "skmt", "10.124.0.0/24", ["--metrics-bind-address", f"127.0.0.1:{port}"]) as node:
        yield node.agent, port


async def test_pod_start_pleg_and_running_pods_and_containers(client: Client, node_env):
    agent, port = node_env
    await eventually(lambda: _relisted(port), timeout=30, what="the agent's first PLEG relist")
    before = await scrape(port)
    assert before.value("kubelet_running_pods") == 0

    await client.create(pod_manifest("metrics-web", agent.node_name,
                                     [busybox("app", "sleep 3600"), busybox("side", "sleep 3600")]))
    await wait_phase(client, "metrics-web", "Running", timeout=60)

    async def counted() -> bool:
        s = await scrape(port)
        return s.value("kubelet_running_pods") == 1 and \
            s.value("kubelet_running_containers", container_state="running") == 2
    await eventually(counted, timeout=15, what="one running pod with two running containers")
    s = await scrape(port)
    assert s.value("kubelet_pod_start_duration_seconds_count") == 1
    assert 0 < s.value("kubelet_pod_start_duration_seconds_sum") < 60
    assert s.types["kubelet_pod_start_duration_seconds"] == "histogram"
    assert s.value("kubelet_pleg_relist_duration_seconds_count") > \
        before.value("kubelet_pleg_relist_duration_seconds_count")
    assert s.label_values("kubelet_running_containers", "container_state") == \
        {"created", "running", "exited", "unknown"}

    await delete_and_wait(client, "metrics-web", timeout=60)

    async def gone() -> bool:
        s = await scrape(port)
        return s.value("kubelet_running_pods") == 0 and \
            s.value("kubelet_running_containers", container_state="running") == 0
    await eventually(gone, timeout=15, what="no running pod left")
    assert (await scrape(port)).value("kubelet_pod_start_duration_seconds_count") == 1


async def _relisted(port: int) -> bool:
    s: Scrape = await scrape(port)
    return s.value("kubelet_pleg_relist_duration_seconds_count") > 0
