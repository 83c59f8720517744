"""The address pool of LoadBalancer Services: `--loadbalancer-ip-range`, parsed once.

A pool is a comma-separated list of CIDRs (`172.31.250.192/27`; its network and broadcast
addresses are left out when it has them) and first-last ranges (`172.31.250.200-172.31.250.250`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressPool:
    def __init__(self, spec: str) -> None:
        self.spec = spec.strip()
        self.ranges: list[tuple[Address, Address]] = [_parse(part.strip())
                                                      for part in self.spec.split(",") if part.strip()]

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(first.version == addr.version and first <= addr <= last for first, last in self.ranges)

    def __iter__(self) -> Iterator[str]:
        for first, last in self.ranges:
            for n in range(int(first), int(last) + 1):
                yield str(ipaddress.ip_address(n) if first.version == 4 else ipaddress.IPv6Address(n))

    def size(self) -> int:
        return sum(int(last) - int(first) + 1 for first, last in self.ranges)

    def first_free(self, used: set[str]) -> str | None:
        return next((ip for ip in self if ip not in used), None)


def _parse(part: str) -> tuple[Address, Address]:
    if "/" in part:
        net = ipaddress.ip_network(part, strict=False)
        if net.num_addresses > 2 and net.version == 4:
            return net.network_address + 1, net.broadcast_address - 1
        return net.network_address, net.broadcast_address
    if "-" in part:
        a, b = (ipaddress.ip_address(s.strip()) for s in part.split("-", 1))
        if a.version != b.version or a > b:
            raise ValueError(f"invalid address range {part!r}: the first address must not be after the last")
        return a, b
    addr = ipaddress.ip_address(part)
    return addr, addr
