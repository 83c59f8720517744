"""PodDisruptionBudgets end to end: the disruption controller's status, the Eviction subresource
refusing with 429 and allowing once a replacement is Ready, and `skiffctl drain` waiting on it."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from control.client.convert import from_dict
from tests.fixtures.controllers import running_controllers
from tests.fixtures.procs import eventually
from tests.fixtures.skiffctl import run_skiffctl, skiffctl_env

LABELS = {"app": "guarded"}


def pod(name: str) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": LABELS},
                      "spec": {"containers": [{"name": "c", "image": "busybox"}]}})


async def run_ready(client, name: str, node: str) -> None:
    created = await client.create(pod(name))
    bound = await client.bind("default", created.metadata.name, node)
    bound.status.phase = "Running"
    bound.status.conditions.add(type="Ready", status="True")
    await client.update_status(bound)


async def allowed(client, want: int) -> bool:
    pdb = await client.get("PodDisruptionBudget", "guard", "default")
    return pdb.status.observed_generation == pdb.metadata.generation and pdb.status.disruptions_allowed == want


@pytest.fixture
async def guarded(apiserver, client):
    for name in ("pdb-n1", "pdb-n2"):
        await client.create(from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}))
    await client.create(from_dict({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                                   "metadata": {"name": "guard"},
                                   "spec": {"minAvailable": 2, "selector": {"matchLabels": LABELS}}}))
    await run_ready(client, "g-1", "pdb-n1")
    await run_ready(client, "g-2", "pdb-n1")
    try:
        async with running_controllers(apiserver.target, ["disruption"]):
            await eventually(lambda: allowed(client, 0), timeout=10, what="budget status")
            yield client
    finally:
        for name in ("g-1", "g-2", "g-3", "g-4"):
            await _delete_quietly(client.delete("Pod", name, "default", grace_period_seconds=0))
        await _delete_quietly(client.delete("PodDisruptionBudget", "guard", "default"))
        for name in ("pdb-n1", "pdb-n2"):
            await _delete_quietly(client.delete("Node", name, ""))


async def _delete_quietly(call) -> None:
    try:
        await call
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise


async def test_eviction_is_refused_while_the_budget_is_met(guarded):
    client = guarded
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await client.evict("default", "g-1")
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert e.value.details() == "Cannot evict pod as it would violate the pod's disruption budget."
    assert not (await client.get("Pod", "g-1", "default")).metadata.HasField("deletion_timestamp")
    await run_ready(client, "g-3", "pdb-n2")
    await eventually(lambda: allowed(client, 1), timeout=10, what="one disruption allowed")
    await client.evict("default", "g-1")
    evicted = await client.get("Pod", "g-1", "default")
    assert evicted.metadata.HasField("deletion_timestamp")
    assert any(c.type == "DisruptionTarget" and c.reason == "EvictionByEvictionAPI" for c in evicted.status.conditions)
    with pytest.raises(grpc.aio.AioRpcError) as e:  # g-1 terminating is no longer healthy: 2 left, 2 needed
        await client.evict("default", "g-2")
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_drain_waits_for_the_budget(guarded, apiserver, tmp_path):
    client = guarded
    env = skiffctl_env(apiserver.target, tmp_path)
    drain = asyncio.ensure_future(run_skiffctl(env, "drain", "pdb-n1", "--force", "--timeout", "90s", timeout=100))
    await run_ready(client, "g-3", "pdb-n2")  # a replacement elsewhere lets one pod go at a time
    remaining, spare = {"g-1", "g-2"}, iter(["g-4"])
    found: list[str] = []
    while remaining:  # as the node's agent: a pod marked for deletion goes once its containers stop
        async def one_terminating() -> bool:
            found[:] = [n for n in sorted(remaining)
                        if (await client.get("Pod", n, "default")).metadata.HasField("deletion_timestamp")]
            return bool(found)
        await eventually(one_terminating, timeout=30, what="a pod evicted")
        name = found[0]
        await client.delete("Pod", name, "default", grace_period_seconds=0)
        remaining.discard(name)
        for replacement in spare:
            await run_ready(client, replacement, "pdb-n2")
            break
    result = await drain
    assert result.code == 0, (result.out, result.err)
    assert ("(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
            in result.err)
    assert "node/pdb-n1 drained" in result.out
