"""The LoadBalancer service controller's reconcile(key) on the fake client, and its address pool."""

from __future__ import annotations

import pytest

from control.client.convert import from_dict
from control.client.testing import on_fake
from control.controllers.lbpool import AddressPool
from control.controllers.servicelb import ServiceLBController

POOL = "10.20.0.10-10.20.0.11"


def svc(name: str, type_: str = "LoadBalancer", ip: str = "", requested: str = "", lb_class: str = "",
        created: str = "2026-01-01T00:00:00Z") -> object:
    spec = {"type": type_, "clusterIP": "10.96.0.5", "ports": [{"port": 80}]}
    if requested:
        spec["loadBalancerIP"] = requested
    if lb_class:
        spec["loadBalancerClass"] = lb_class
    status = {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}} if ip else {}
    return from_dict({"apiVersion": "v1", "kind": "Service", "spec": spec, "status": status,
                      "metadata": {"name": name, "namespace": "default", "creationTimestamp": created}})


async def address(run, name: str) -> list[str]:
    s = await run.client.get("Service", name, "default")
    return [i.ip for i in s.status.load_balancer.ingress]


def test_pool_parses_cidrs_and_ranges() -> None:
    assert list(AddressPool("10.0.0.0/30")) == ["10.0.0.1", "10.0.0.2"]
    assert list(AddressPool("10.0.0.5-10.0.0.7, 10.1.0.1")) == ["10.0.0.5", "10.0.0.6", "10.0.0.7", "10.1.0.1"]
    pool = AddressPool("192.168.1.0/24")
    assert "192.168.1.9" in pool and "192.168.2.1" not in pool and "nonsense" not in pool
    assert pool.size() == 254 and not AddressPool("")
    with pytest.raises(ValueError):
        AddressPool("10.0.0.9-10.0.0.1")


async def test_each_service_gets_its_own_address_then_the_pool_is_exhausted() -> None:
    async with on_fake(ServiceLBController, svc("a"), svc("b"), svc("c"), svc("plain", "ClusterIP"),
                       loadbalancer_ip_range=POOL) as run:
        for name in ("a", "b", "c", "plain"):
            await run.controller.reconcile(f"default/{name}")  # pending writes count before they are seen
        assert await address(run, "a") == ["10.20.0.10"]
        assert await address(run, "b") == ["10.20.0.11"]
        assert await address(run, "c") == [] and await address(run, "plain") == []
        s = await run.client.get("Service", "a", "default")
        assert s.status.load_balancer.ingress[0].ip_mode == "VIP"
        events = await run.events()
        assert ("Normal", "EnsuredLoadBalancer", "Ensured load balancer") in events
        assert ("Warning", "SyncLoadBalancerFailed", "Error syncing load balancer: failed to ensure load "
                f"balancer: no available IPs in the address pool {POOL}") in events


async def test_a_deleted_service_frees_its_address_for_one_waiting() -> None:
    async with on_fake(ServiceLBController, svc("a", ip="10.20.0.10"), svc("b", ip="10.20.0.11"), svc("c"),
                       loadbalancer_ip_range=POOL) as run:
        await run.reconcile("default/c")
        assert await address(run, "c") == []
        run.forget_queued()
        await run.client.delete("Service", "a", "default")
        await run.synced()
        assert "default/c" in run.queued()  # waiting Services are tried again
        await run.reconcile("default/c")
        assert await address(run, "c") == ["10.20.0.10"]


async def test_a_type_change_releases_the_address_and_clears_the_status() -> None:
    async with on_fake(ServiceLBController, svc("a", type_="ClusterIP", ip="10.20.0.10"), svc("b"),
                       loadbalancer_ip_range="10.20.0.10/32") as run:
        await run.reconcile("default/a")
        assert await address(run, "a") == []
        await run.reconcile("default/b")
        assert await address(run, "b") == ["10.20.0.10"]
        assert ("Normal", "DeletedLoadBalancer", "Deleted load balancer") in await run.events()


async def test_a_requested_address_is_honoured_and_checked() -> None:
    async with on_fake(ServiceLBController, svc("want", requested="10.20.0.11"),
                       svc("outside", requested="10.99.0.1"), svc("clash", requested="10.20.0.11"),
                       loadbalancer_ip_range=POOL) as run:
        for name in ("want", "outside", "clash"):
            await run.reconcile(f"default/{name}")
        assert await address(run, "want") == ["10.20.0.11"]
        assert await address(run, "outside") == [] and await address(run, "clash") == []
        events = {m for _, reason, m in await run.events() if reason == "SyncLoadBalancerFailed"}
        prefix = "Error syncing load balancer: failed to ensure load balancer: requested IP"
        assert f"{prefix} 10.99.0.1 is not in the address pool {POOL}" in events
        assert f"{prefix} 10.20.0.11 is already allocated to default/want" in events


async def test_another_class_is_left_alone() -> None:
    async with on_fake(ServiceLBController, svc("theirs", lb_class="example.com/lb"),
                       svc("ours", lb_class="skiff.io/lb"), loadbalancer_ip_range=POOL,
                       loadbalancer_class="skiff.io/lb") as run:
        await run.reconcile("default/theirs")
        await run.reconcile("default/ours")
        assert await address(run, "theirs") == [] and await address(run, "ours") == ["10.20.0.10"]


async def test_a_restart_keeps_stored_addresses_and_resolves_a_double_claim() -> None:
    # As after a failover that saw a write late: two Services hold one address; the older keeps it.
    async with on_fake(ServiceLBController, svc("old", ip="10.20.0.10", created="2026-01-01T00:00:00Z"),
                       svc("new", ip="10.20.0.10", created="2026-01-02T00:00:00Z"), svc("third"),
                       loadbalancer_ip_range=POOL) as run:
        await run.reconcile("default/third")
        await run.reconcile("default/new")
        await run.reconcile("default/old")
        assert await address(run, "old") == ["10.20.0.10"]
        assert await address(run, "third") == ["10.20.0.11"]
        assert await address(run, "new") == []  # given up; the pool has nothing else


async def test_without_a_pool_services_stay_pending() -> None:
    async with on_fake(ServiceLBController, svc("a")) as run:
        await run.reconcile("default/a")
        assert await address(run, "a") == []
