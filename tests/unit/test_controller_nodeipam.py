"""Node IPAM's reconcile(key) on the fake client."""

from __future__ import annotations

import pytest

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.nodeipam import NodeIpamController


def node(name: str, pod_cidr: str = "") -> object:
    return from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                      "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr] if pod_cidr else []}})


async def cidr(run, name: str) -> tuple[str, list[str]]:
    n = await run.client.get("Node", name)
    return n.spec.pod_cidr, list(n.spec.pod_cidrs)


async def test_each_node_gets_its_own_cidr_from_the_cluster_cidr() -> None:
    async with on_fake(NodeIpamController, node("a"), node("b"), node("taken", "10.9.0.0/24"),
                       cluster_cidr="10.9.0.0/16", node_cidr_mask_size=24) as run:
        await run.controller.reconcile("a")  # no waiting for the informer: pending CIDRs still count
        await run.controller.reconcile("b")
        assert await cidr(run, "a") == ("10.9.1.0/24", ["10.9.1.0/24"])
        assert await cidr(run, "b") == ("10.9.2.0/24", ["10.9.2.0/24"])


async def test_a_deleted_nodes_cidr_is_free_again() -> None:
    async with on_fake(NodeIpamController, node("old", "10.9.0.0/24"), node("new"),
                       cluster_cidr="10.9.0.0/16") as run:
        await run.client.delete("Node", "old")
        await run.reconcile("new")
        assert (await cidr(run, "new"))[0] == "10.9.0.0/24"


async def test_an_exhausted_range_is_an_error_and_an_event() -> None:
    async with on_fake(NodeIpamController, node("a", "10.9.0.0/24"), node("b"),
                       cluster_cidr="10.9.0.0/24", node_cidr_mask_size=24) as run:
        await run.synced()
        with pytest.raises(RuntimeError, match="no pod CIDR left"):
            await run.controller.reconcile("b")
        assert ("Warning", "CIDRNotAvailable", "Node b status is now: CIDRNotAvailable") in await run.events()


async def test_nothing_is_allocated_unless_enabled() -> None:
    async with on_fake(NodeIpamController, node("a"), allocate_node_cidrs=False) as run:
        await run.reconcile("a")
        assert (await cidr(run, "a"))[0] == ""


async def test_a_mask_shorter_than_the_cluster_cidr_is_refused() -> None:
    with pytest.raises(ValueError, match="node-cidr-mask-size"):
        async with on_fake(NodeIpamController, cluster_cidr="10.9.0.0/16", node_cidr_mask_size=8):
            pass
