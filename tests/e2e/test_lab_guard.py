"""The local lab's nftables guard, loaded in a namespace standing in for the host: lab ranges routed out
of the host are dropped, while traffic between machines on one of libvirt's bridges (the Vagrant lab,
same ranges) passes. Where br_netfilter is loaded, bridged frames cross the guard's forward hook."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from lablib.host import guard_ruleset  # noqa: E402

TAG = f"g{os.getpid() % 100000}"
HOST, VM1, VM2, OUTSIDE = (f"{TAG}-{n}" for n in ("host", "vm1", "vm2", "out"))


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def connects(source: str, address: str) -> bool:
    probe = f"import socket; socket.create_connection(({address!r}, 8080), timeout=2)"
    return subprocess.run(["ip", "netns", "exec", source, sys.executable, "-c", probe],
                          capture_output=True).returncode == 0


def serve(netns: str, address: str) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-m", "http.server", "8080",
                             "--bind", address], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def host() -> Iterator[None]:
    for ns in (HOST, VM1, VM2, OUTSIDE):
        sh("ip", "netns", "add", ns)
    servers: list[subprocess.Popen] = []
    try:
        sh("ip", "-n", HOST, "link", "add", "virbr9", "type", "bridge")
        sh("ip", "-n", HOST, "addr", "add", "10.244.0.1/16", "dev", "virbr9")
        sh("ip", "-n", HOST, "link", "set", "virbr9", "up")
        for ns, address in ((VM1, "10.244.1.2/16"), (VM2, "10.244.2.2/16")):
            port = f"p{ns[-1]}"
            sh("ip", "-n", HOST, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "-n", HOST, "link", "set", port, "master", "virbr9", "up")
            sh("ip", "-n", ns, "addr", "add", address, "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "route", "add", "default", "via", "10.244.0.1")
        sh("ip", "-n", HOST, "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", OUTSIDE)
        sh("ip", "-n", HOST, "addr", "add", "198.18.0.1/24", "dev", "uplink")
        sh("ip", "-n", HOST, "link", "set", "uplink", "up")
        sh("ip", "-n", OUTSIDE, "addr", "add", "198.18.0.2/24", "dev", "eth0")
        sh("ip", "-n", OUTSIDE, "link", "set", "eth0", "up")
        sh("ip", "-n", OUTSIDE, "route", "add", "10.244.0.0/16", "via", "198.18.0.1")
        sh("ip", "netns", "exec", HOST, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        if os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
            sh("ip", "netns", "exec", HOST, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1")
        subprocess.run(["ip", "netns", "exec", HOST, "nft", "-f", "-"], input=guard_ruleset(), text=True,
                       check=True, capture_output=True)
        servers = [serve(VM2, "10.244.2.2"), serve(OUTSIDE, "198.18.0.2")]
        sh("ip", "-n", OUTSIDE, "link", "set", "lo", "up")
        yield
    finally:
        for server in servers:
            server.kill()
            server.wait()
        for ns in (HOST, VM1, VM2, OUTSIDE):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def eventually_connects(source: str, address: str, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if connects(source, address):
            return True
        time.sleep(0.2)
    return False


def test_machines_on_a_libvirt_bridge_reach_each_other(host: None) -> None:
    assert eventually_connects(VM1, "10.244.2.2")


def test_lab_ranges_routed_out_of_the_host_are_dropped(host: None) -> None:
    assert eventually_connects(VM1, "10.244.2.2")  # the bridge passes
    assert eventually_connects(OUTSIDE, "198.18.0.2")  # its server is up
    assert not connects(VM1, "198.18.0.2")
