import ipaddress
import random

import pytest

from control.apiserver.allocators import (
    AllocationError,
    ClusterIPAllocator,
    NodePortAllocator,
    RangeFullError,
)


def test_cluster_ip_requested_is_honoured_once():
    a = ClusterIPAllocator("10.96.0.0/12")
    assert a.allocate("10.96.0.5") == "10.96.0.5"
    with pytest.raises(AllocationError) as e:
        a.allocate("10.96.0.5")
    assert str(e.value) == 'spec.clusterIP: Invalid value: "10.96.0.5": provided IP is already allocated'
    assert e.value.field == "spec.clusterIP"


def test_cluster_ip_out_of_range_and_garbage():
    a = ClusterIPAllocator("10.96.0.0/12")
    with pytest.raises(AllocationError, match="The range of valid IPs is 10.96.0.0/12"):
        a.allocate("10.112.0.1")
    with pytest.raises(AllocationError, match='spec.clusterIPs\\[0\\]: Invalid value: "banana"'):
        a.allocate("banana", field="spec.clusterIPs[0]")
    for special in ("10.96.0.0", "10.111.255.255"):  # network and broadcast addresses
        with pytest.raises(AllocationError, match="not in the valid range"):
            a.allocate(special)


def test_dns_address_is_reservable_and_not_taken_dynamically():
    a = ClusterIPAllocator("10.96.0.0/24", rng=random.Random(1))
    dns = a.dns_address()
    assert dns == "10.96.0.10"
    # Dynamic allocation fills the upper band before the static one.
    static = {f"10.96.0.{i}" for i in range(1, 17)}
    taken = {a.allocate() for _ in range(254 - 16)}
    assert not taken & static
    assert a.allocate(dns) == dns


def test_cluster_ip_never_hands_out_network_or_broadcast_and_fills_up():
    a = ClusterIPAllocator("192.168.7.0/28", rng=random.Random(7))
    got = {a.allocate() for _ in range(14)}
    assert got == {f"192.168.7.{i}" for i in range(1, 15)}
    with pytest.raises(RangeFullError, match="range is full"):
        a.allocate()
    a.release("192.168.7.9")
    assert a.allocate() == "192.168.7.9"


def test_cluster_ip_release_and_load():
    a = ClusterIPAllocator()
    a.load(["10.96.0.1", "None", "", "1.2.3.4", "10.100.1.1"])
    assert "10.96.0.1" in a and "10.100.1.1" in a and "1.2.3.4" not in a
    with pytest.raises(AllocationError, match="already allocated"):
        a.allocate("10.100.1.1")
    a.release("10.100.1.1")
    a.release("None")
    assert a.allocate("10.100.1.1") == "10.100.1.1"
    assert a.free() == (1 << 20) - 2 - 2


def test_cluster_ip_dynamic_addresses_are_valid_and_distinct():
    a = ClusterIPAllocator("10.96.0.0/12", rng=random.Random(3))
    net = ipaddress.ip_network("10.96.0.0/12")
    ips = [a.allocate() for _ in range(2000)]
    assert len(set(ips)) == 2000
    assert all(ipaddress.ip_address(ip) in net for ip in ips)


def test_node_port_requested_and_messages():
    a = NodePortAllocator((30000, 32767))
    assert a.allocate(30080) == 30080
    with pytest.raises(AllocationError) as e:
        a.allocate(30080)
    assert str(e.value) == "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
    with pytest.raises(AllocationError) as e:
        a.allocate(80, field="spec.ports[2].nodePort")
    assert str(e.value) == ("spec.ports[2].nodePort: Invalid value: 80: provided port is not in the valid "
                            "range. The range of valid ports is 30000-32767")
    assert e.value.field == "spec.ports[2].nodePort"


def test_node_port_dynamic_fills_range_then_full():
    a = NodePortAllocator((31000, 31019), rng=random.Random(5))
    got = {a.allocate(None) for _ in range(20)}
    assert got == set(range(31000, 31020))
    with pytest.raises(RangeFullError):
        a.allocate()
    a.release(31005)
    assert 31005 not in a
    assert a.allocate() == 31005


def test_node_port_load_ignores_out_of_range():
    a = NodePortAllocator()
    a.load([30000, 80, 32767, 40000])
    assert 30000 in a and 32767 in a and 80 not in a
    assert a.free() == 2768 - 2


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError):
        NodePortAllocator((32767, 30000))
    with pytest.raises(ValueError):
        ClusterIPAllocator("10.96.0.1/12")
