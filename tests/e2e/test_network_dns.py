"""Cluster DNS: the real UDP/TCP server on loopback, answering from cache dicts."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from dnslib import EDNS0, QTYPE, RCODE, DNSRecord

from node.network.dns import ClusterDNS, DNSServer
from skiff.v1 import core_pb2, meta_pb2


def service(name: str, ns: str, cluster_ip: str, ports=(("http", 80, "TCP"),), type_: str = "ClusterIP"):
    svc = core_pb2.Service(metadata=meta_pb2.ObjectMeta(name=name, namespace=ns))
    svc.spec.cluster_ip, svc.spec.type = cluster_ip, type_
    for pname, port, proto in ports:
        svc.spec.ports.add(name=pname, port=port, protocol=proto)
    return svc


def endpoints(name: str, ns: str, addrs, port=("http", 8080, "TCP")):
    eps = core_pb2.Endpoints(metadata=meta_pb2.ObjectMeta(name=name, namespace=ns))
    subset = eps.subsets.add()
    for ip, hostname in addrs:
        subset.addresses.add(ip=ip, hostname=hostname)
    subset.not_ready_addresses.add(ip="10.244.9.9")
    subset.ports.add(name=port[0], port=port[1], protocol=port[2])
    return eps


@pytest.fixture
def caches():
    services = {
        "default/web": service("web", "default", "10.96.0.20"),
        "prod/db": service("db", "prod", "None", ports=(("pg", 5432, "TCP"),)),
        "prod/ext": service("ext", "prod", "", type_="ExternalName"),
        "prod/db-alias": service("db-alias", "prod", "", type_="ExternalName"),
    }
    services["prod/db-alias"].spec.external_name = "db.example.com"
    eps = {"prod/db": endpoints("db", "prod", [("10.244.1.5", "db-0"), ("10.244.2.6", "")], ("pg", 5432, "TCP"))}
    return services, eps


@pytest.fixture
def dns(caches) -> ClusterDNS:
    return ClusterDNS(*caches, domain="cluster.local")


def ask(dns: ClusterDNS, name: str, qtype: str = "A") -> DNSRecord:
    return DNSRecord.parse(dns.answer(DNSRecord.question(name, qtype).pack()))


def a_records(reply: DNSRecord) -> list[str]:
    return sorted(str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A)


def test_service_name_resolves_to_cluster_ip(dns):
    reply = ask(dns, "web.default.svc.cluster.local")
    assert reply.header.rcode == RCODE.NOERROR and reply.header.aa == 1
    assert a_records(reply) == ["10.96.0.20"]
    assert a_records(ask(dns, "WEB.Default.svc.cluster.local.")) == ["10.96.0.20"]


def test_headless_service_resolves_to_ready_pods_and_their_hostnames(dns):
    assert a_records(ask(dns, "db.prod.svc.cluster.local")) == ["10.244.1.5", "10.244.2.6"]
    assert a_records(ask(dns, "db-0.db.prod.svc.cluster.local")) == ["10.244.1.5"]
    assert a_records(ask(dns, "10-244-2-6.db.prod.svc.cluster.local")) == ["10.244.2.6"]


def test_srv_for_named_ports(dns):
    reply = ask(dns, "_http._tcp.web.default.svc.cluster.local", "SRV")
    (srv,) = reply.rr
    assert srv.rdata.port == 80 and str(srv.rdata.target) == "web.default.svc.cluster.local."
    assert a_records(DNSRecord(rr=reply.ar)) == ["10.96.0.20"]
    headless = ask(dns, "_pg._tcp.db.prod.svc.cluster.local", "SRV")
    assert sorted((str(r.rdata.target), r.rdata.port) for r in headless.rr) == [
        ("10-244-2-6.db.prod.svc.cluster.local.", 5432), ("db-0.db.prod.svc.cluster.local.", 5432)]
    assert ask(dns, "_pg._udp.db.prod.svc.cluster.local", "SRV").header.rcode == RCODE.NXDOMAIN


def test_external_name_is_a_cname_and_not_followed(dns):
    reply = ask(dns, "db-alias.prod.svc.cluster.local")
    assert reply.header.rcode == RCODE.NOERROR
    (rr,) = reply.rr
    assert rr.rtype == QTYPE.CNAME and str(rr.rdata) == "db.example.com."


def test_unknown_names_and_other_types(dns):
    for name in ("nope.default.svc.cluster.local", "ext.prod.svc.cluster.local", "web.other.svc.cluster.local",
                 "a.b.c.web.default.svc.cluster.local"):
        reply = ask(dns, name)
        assert reply.header.rcode == RCODE.NXDOMAIN, name
        assert reply.auth and reply.auth[0].rtype == QTYPE.SOA
    aaaa = ask(dns, "web.default.svc.cluster.local", "AAAA")
    assert aaaa.header.rcode == RCODE.NOERROR and not aaaa.rr  # exists, no IPv6 record
    assert a_records(ask(dns, "10-244-1-5.prod.pod.cluster.local")) == ["10.244.1.5"]


def test_names_outside_the_cluster_domain_are_refused_never_forwarded(dns):
    for name in ("example.com", "cluster.local.evil.org", "localhost"):
        reply = ask(dns, name)
        assert reply.header.rcode == RCODE.REFUSED and not reply.rr, name


def test_answers_follow_the_caches(dns, caches):
    services, _ = caches
    services["default/new"] = service("new", "default", "10.96.0.99")
    assert a_records(ask(dns, "new.default.svc.cluster.local")) == ["10.96.0.99"]
    del services["default/web"]
    assert ask(dns, "web.default.svc.cluster.local").header.rcode == RCODE.NXDOMAIN


def test_garbage_and_responses_are_ignored(dns):
    assert dns.answer(b"\x00\x01garbage") is None
    response = DNSRecord.question("web.default.svc.cluster.local").reply().pack()
    assert dns.answer(response) is None


def test_large_udp_answers_are_truncated_unless_edns_allows(caches):
    services, eps = caches
    big = endpoints("big", "prod", [(f"10.244.3.{i}", "") for i in range(1, 60)])
    services["prod/big"] = service("big", "prod", "None")
    eps["prod/big"] = big
    dns = ClusterDNS(services, eps)
    small = DNSRecord.parse(dns.answer(DNSRecord.question("big.prod.svc.cluster.local").pack()))
    assert small.header.tc == 1 and not small.rr
    q = DNSRecord.question("big.prod.svc.cluster.local")
    q.add_ar(EDNS0(udp_len=4096))
    assert len(DNSRecord.parse(dns.answer(q.pack())).rr) == 59


async def test_server_over_udp_and_tcp_on_loopback(dns):
    server = DNSServer(dns, "127.0.0.1", 0)
    await server.start()
    try:
        query = DNSRecord.question("web.default.svc.cluster.local").pack()
        udp = await asyncio.to_thread(_udp_query, server.port, query)
        assert a_records(DNSRecord.parse(udp)) == ["10.96.0.20"]
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        for _ in range(2):  # several queries on one connection
            writer.write(struct.pack("!H", len(query)) + query)
            size = struct.unpack("!H", await reader.readexactly(2))[0]
            assert a_records(DNSRecord.parse(await reader.readexactly(size))) == ["10.96.0.20"]
        writer.close()
    finally:
        await server.stop()


def _udp_query(port: int, query: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(query, ("127.0.0.1", port))
        return s.recv(4096)
