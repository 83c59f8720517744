"""ClusterIP and NodePort allocation for Services: pure bookkeeping.

The apiserver owns one allocator of each kind, rebuilds the used set from the
stored Services at start (`load`) and calls `allocate`/`release` from
Service Create/Update/Delete. As in Kubernetes, each range is split into a
small static band at the bottom (for addresses users pick, such as the
cluster DNS address) and the rest; dynamic allocation prefers the upper band
so that it rarely takes an address someone is about to ask for.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable


class AllocationError(ValueError):
    """A requested value was refused; `field` is the path it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RangeFullError(AllocationError):
    """Nothing is left to hand out (Kubernetes answers with an internal error)."""


class AlreadyAllocatedError(AllocationError):
    """The requested value is taken."""


def _static_band_size(size: int) -> int:
    # Kubernetes: size/16, at least 16, at most 256 (KEP-3070 / KEP-3668).
    return min(max(16, size // 16), 256)


class _Range:
    """Allocation over the integers [first, last] with a lower static band."""

    def __init__(self, first: int, last: int, rng: random.Random | None = None) -> None:
        self.first, self.last = first, last
        self.used: set[int] = set()
        self.rng = rng or random.Random()
        size = last - first + 1
        self.upper_start = first + min(_static_band_size(size), size - 1 if size > 1 else 0)

    def contains(self, value: int) -> bool:
        return self.first <= value <= self.last

    def free(self) -> int:
        return self.last - self.first + 1 - len(self.used)

    def pick(self) -> int | None:
        """A free value: random in the upper band first, then the static band."""
        for lo, hi in ((self.upper_start, self.last), (self.first, self.upper_start - 1)):
            value = self._pick_in(lo, hi)
            if value is not None:
                return value
        return None

    def _pick_in(self, lo: int, hi: int) -> int | None:
        if hi < lo:
            return None
        span = hi - lo + 1
        start = self.rng.randrange(span)
        for i in range(span):  # a scan from a random offset, as Kubernetes' bitmap does
            value = lo + (start + i) % span
            if value not in self.used:
                return value
        return None


class ClusterIPAllocator:
    """Service ClusterIPs from a CIDR; never the network or broadcast address."""

    def __init__(self, cidr: str = "10.96.0.0/12", rng: random.Random | None = None) -> None:
        self.network = ipaddress.ip_network(cidr, strict=True)
        if self.network.num_addresses < 4:
            raise ValueError(f"service CIDR {cidr} is too small")
        first = int(self.network.network_address) + 1
        last = int(self.network.broadcast_address) - 1
        self._range = _Range(first, last, rng)

    @property
    def cidr(self) -> str:
        return str(self.network)

    def dns_address(self, index: int = 10) -> str:
        """Kubernetes' convention: the cluster DNS Service takes the tenth address."""
        return str(self.network.network_address + index)

    def free(self) -> int:
        return self._range.free()

    def __contains__(self, ip: str) -> bool:
        try:
            return int(ipaddress.ip_address(ip)) in self._range.used
        except ValueError:
            return False

    def allocate(self, requested: str | None = None, field: str = "spec.clusterIP") -> str:
        if not requested:
            value = self._range.pick()
            if value is None:
                raise RangeFullError(field, "Internal error occurred: failed to allocate a serviceIP: "
                                            "range is full")
            self._range.used.add(value)
            return str(ipaddress.ip_address(value))
        value = self._parse(requested, field)
        if value in self._range.used:
            raise AlreadyAllocatedError(field, f'{field}: Invalid value: "{requested}": '
                                               "provided IP is already allocated")
        self._range.used.add(value)
        return str(ipaddress.ip_address(value))

    def _parse(self, requested: str, field: str) -> int:
        try:
            ip = ipaddress.ip_address(requested)
        except ValueError:
            raise AllocationError(field, f'{field}: Invalid value: "{requested}": '
                                         "must be a valid IP address") from None
        if ip.version != self.network.version or not self._range.contains(int(ip)):
            raise AllocationError(field, f'{field}: Invalid value: "{requested}": provided IP is not in '
                                         f"the valid range. The range of valid IPs is {self.network}")
        return int(ip)

    def release(self, ip: str) -> None:
        try:
            self._range.used.discard(int(ipaddress.ip_address(ip)))
        except ValueError:
            pass  # "None", "" or garbage: nothing was ever allocated for it

    def load(self, used: Iterable[str]) -> None:
        """Replaces the used set, ignoring values outside the range (e.g. "None")."""
        self._range.used.clear()
        for ip in used:
            try:
                value = int(ipaddress.ip_address(ip))
            except ValueError:
                continue
            if self._range.contains(value):
                self._range.used.add(value)


def parse_port_range(text: str) -> tuple[int, int]:
    """`30000-32767` as --service-node-port-range writes it."""
    low, _, high = text.partition("-")
    return int(low), int(high)


class NodePortAllocator:
    """Service NodePorts from an inclusive port range."""

    def __init__(self, range: tuple[int, int] = (30000, 32767), rng: random.Random | None = None) -> None:
        first, last = range
        if not 0 < first <= last <= 65535:
            raise ValueError(f"invalid node port range {first}-{last}")
        self._range = _Range(first, last, rng)

    @property
    def range(self) -> tuple[int, int]:
        return self._range.first, self._range.last

    def free(self) -> int:
        return self._range.free()

    def __contains__(self, port: int) -> bool:
        return port in self._range.used

    def allocate(self, requested: int | None = None, field: str = "spec.ports[0].nodePort") -> int:
        if not requested:
            value = self._range.pick()
            if value is None:
                raise RangeFullError(field, "Internal error occurred: failed to allocate a nodePort: "
                                            "range is full")
            self._range.used.add(value)
            return value
        if not self._range.contains(requested):
            raise AllocationError(field, f"{field}: Invalid value: {requested}: provided port is not in the "
                                         f"valid range. The range of valid ports is "
                                         f"{self._range.first}-{self._range.last}")
        if requested in self._range.used:
            raise AlreadyAllocatedError(field, f"{field}: Invalid value: {requested}: "
                                               "provided port is already allocated")
        self._range.used.add(requested)
        return requested

    def release(self, port: int) -> None:
        self._range.used.discard(port)

    def load(self, used: Iterable[int]) -> None:
        self._range.used = {p for p in used if self._range.contains(p)}
