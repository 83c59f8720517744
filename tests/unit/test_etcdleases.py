"""The lease manager: one etcd lease serves writes within the reuse window, and never expires early."""

from __future__ import annotations

from control.apiserver.etcdleases import LeaseManager


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_writes_in_the_window_share_a_lease_and_later_ones_get_a_new_one():
    grants: list[int] = []

    async def grant(ttl: int) -> int:
        grants.append(ttl)
        return len(grants)

    clock = FakeClock()
    leases = LeaseManager(grant, clock)
    first = await leases.lease_for(3600)
    clock.now += 59
    assert await leases.lease_for(3600) == first  # 3600 + 60 s lease still covers a full hour
    clock.now += 2
    assert await leases.lease_for(3600) != first  # would expire before this write's hour is up
    assert grants == [3660, 3660]


async def test_short_ttls_reuse_for_five_percent_and_each_ttl_has_its_own_lease():
    granted: dict[int, int] = {}

    async def grant(ttl: int) -> int:
        granted[len(granted) + 1] = ttl
        return len(granted)

    clock = FakeClock()
    leases = LeaseManager(grant, clock)
    a = await leases.lease_for(100)
    b = await leases.lease_for(200)
    assert a != b
    assert granted[a] == 105 and granted[b] == 210
    clock.now += 6
    assert await leases.lease_for(100) != a
