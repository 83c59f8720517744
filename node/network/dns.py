"""Cluster DNS served by every node from the informer caches (dnslib).

Answers, as Kubernetes' DNS specification asks:
- `<svc>.<ns>.svc.<domain>` A: the ClusterIP; for headless Services the
  ready endpoints' addresses;
- `<hostname-or-dashed-ip>.<svc>.<ns>.svc.<domain>` A: one headless endpoint;
- `_<port>._<proto>.<svc>.<ns>.svc.<domain>` SRV for named ports;
- `<a-b-c-d>.<ns>.pod.<domain>` A;
- ExternalName Services: a CNAME to their externalName (never followed here).
Unknown names in the cluster domain get NXDOMAIN, known names of another
type an empty NOERROR, both with the zone's SOA; every other name is
REFUSED: this resolver never forwards anywhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import struct
from collections.abc import Mapping

from dnslib import CNAME, QTYPE, RCODE, RR, SOA, SRV, A, DNSLabel, DNSRecord

from skiff.v1 import core_pb2

log = logging.getLogger(__name__)

TTL = 30  # CoreDNS' kubernetes plugin default
UDP_LIMIT = 512


class ClusterDNS:
    """Resolution only; `services`/`endpoints` map "ns/name" to the cached objects."""

    def __init__(self, services: Mapping[str, core_pb2.Service], endpoints: Mapping[str, core_pb2.Endpoints],
                 domain: str = "cluster.local") -> None:
        self.services = services
        self.endpoints = endpoints
        self.domain = domain.strip(".").lower()
        self._zone = DNSLabel(self.domain)

    def handle(self, request: DNSRecord) -> DNSRecord:
        reply = request.reply()
        reply.header.ra = 0
        q = request.q
        name = str(q.qname).rstrip(".").lower()
        if not (name == self.domain or name.endswith("." + self.domain)):
            reply.header.aa = 0
            reply.header.rcode = RCODE.REFUSED
            return reply
        records = self.lookup(name[: -len(self.domain)].rstrip("."))
        if records is None:
            reply.header.rcode = RCODE.NXDOMAIN
        answers = [rr for rr in (records or [])
                   if rr.rtype in (q.qtype, QTYPE.CNAME) or q.qtype == QTYPE.ANY]
        for rr in answers:
            reply.add_answer(rr)
        if not answers:
            reply.add_auth(self._soa())
        for rr in answers:
            if rr.rtype == QTYPE.SRV:
                for extra in self.lookup(self._relative(str(rr.rdata.target))) or []:
                    if extra.rtype == QTYPE.A:
                        reply.add_ar(extra)
        return reply

    def _relative(self, fqdn: str) -> str:
        return fqdn.rstrip(".").lower()[: -len(self.domain)].rstrip(".")

    def _soa(self) -> RR:
        soa = SOA(f"ns.dns.{self.domain}", f"hostmaster.{self.domain}", (1, 7200, 1800, 86400, TTL))
        return RR(self._zone, QTYPE.SOA, rdata=soa, ttl=TTL)

    def lookup(self, rel: str) -> list[RR] | None:
        """Records for a name relative to the domain; None if the name doesn't exist."""
        labels = rel.split(".") if rel else []
        if not labels:
            return [self._soa()]
        if labels[-1] == "pod" and len(labels) == 3:
            return self._pod(labels[0], labels[1])
        if labels[-1] != "svc" or len(labels) < 3:
            return None
        svc_labels, ns, svc_name = labels[:-3], labels[-2], labels[-3]
        svc = self.services.get(f"{ns}/{svc_name}")
        if svc is None:
            return None
        fqdn = f"{svc_name}.{ns}.svc.{self.domain}"
        if svc.spec.type == "ExternalName":  # a CNAME; resolving its target is the client's business
            if svc_labels or not svc.spec.external_name:
                return None
            return [RR(fqdn, QTYPE.CNAME, rdata=CNAME(svc.spec.external_name), ttl=TTL)]
        if not svc_labels:
            return self._service_a(svc, fqdn)
        if len(svc_labels) == 2 and svc_labels[0].startswith("_") and svc_labels[1].startswith("_"):
            return self._srv(svc, fqdn, svc_labels[0][1:], svc_labels[1][1:])
        if len(svc_labels) == 1:
            return self._endpoint_a(svc, fqdn, svc_labels[0])
        return None

    def _pod(self, dashed: str, ns: str) -> list[RR] | None:
        try:
            ip = ipaddress.IPv4Address(dashed.replace("-", "."))
        except ValueError:
            return None
        return [RR(f"{dashed}.{ns}.pod.{self.domain}", QTYPE.A, rdata=A(str(ip)), ttl=TTL)]

    def _addresses(self, svc: core_pb2.Service) -> list[core_pb2.EndpointAddress]:
        eps = self.endpoints.get(f"{svc.metadata.namespace}/{svc.metadata.name}")
        seen: dict[str, core_pb2.EndpointAddress] = {}
        for subset in eps.subsets if eps is not None else []:
            for addr in subset.addresses:
                seen.setdefault(addr.ip, addr)
        return [seen[ip] for ip in sorted(seen)]

    def _service_a(self, svc: core_pb2.Service, fqdn: str) -> list[RR] | None:
        if svc.spec.cluster_ip not in ("", "None"):
            return [RR(fqdn, QTYPE.A, rdata=A(svc.spec.cluster_ip), ttl=TTL)]
        addrs = self._addresses(svc)
        if not addrs:
            return None
        return [RR(fqdn, QTYPE.A, rdata=A(a.ip), ttl=TTL) for a in addrs]

    @staticmethod
    def _endpoint_label(addr: core_pb2.EndpointAddress) -> str:
        return addr.hostname or addr.ip.replace(".", "-")

    def _endpoint_a(self, svc: core_pb2.Service, fqdn: str, label: str) -> list[RR] | None:
        if svc.spec.cluster_ip not in ("", "None"):
            return None
        matches = [a for a in self._addresses(svc) if self._endpoint_label(a) == label]
        return [RR(f"{label}.{fqdn}", QTYPE.A, rdata=A(a.ip), ttl=TTL) for a in matches] or None

    def _srv(self, svc: core_pb2.Service, fqdn: str, port_name: str, proto: str) -> list[RR] | None:
        ports = [p for p in svc.spec.ports
                 if p.name and p.name == port_name and (p.protocol or "TCP").lower() == proto]
        if not ports:
            return None
        name = f"_{port_name}._{proto}.{fqdn}"
        if svc.spec.cluster_ip not in ("", "None"):
            return [RR(name, QTYPE.SRV, rdata=SRV(0, 100, ports[0].port, fqdn), ttl=TTL)]
        out = []
        for addr in self._addresses(svc):
            port = self._endpoint_port(svc, port_name, proto)
            if port:
                target = f"{self._endpoint_label(addr)}.{fqdn}"
                out.append(RR(name, QTYPE.SRV, rdata=SRV(0, 100, port, target), ttl=TTL))
        return out or None

    def _endpoint_port(self, svc: core_pb2.Service, port_name: str, proto: str) -> int:
        eps = self.endpoints.get(f"{svc.metadata.namespace}/{svc.metadata.name}")
        for subset in eps.subsets if eps is not None else []:
            for p in subset.ports:
                if p.name == port_name and (p.protocol or "TCP").lower() == proto:
                    return p.port
        return 0

    def answer(self, data: bytes, limit: int | None = UDP_LIMIT) -> bytes | None:
        """Wire in, wire out; None for packets that aren't queries we can parse."""
        try:
            request = DNSRecord.parse(data)
        except Exception:  # noqa: BLE001 - dnslib raises several types for garbage
            return None
        if request.header.qr or not request.questions:
            return None
        reply = self.handle(request)
        packed = reply.pack()
        if limit is not None and len(packed) > self._udp_limit(request, limit):
            packed = reply.truncate().pack()
        return packed

    @staticmethod
    def _udp_limit(request: DNSRecord, limit: int) -> int:
        for rr in request.ar:
            if rr.rtype == QTYPE.OPT:
                return max(limit, rr.rclass)  # EDNS0 carries the client's UDP size in the class
        return limit


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, dns: ClusterDNS) -> None:
        self.dns = dns
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        reply = self.dns.answer(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def _serve_tcp(dns: ClusterDNS, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            size = struct.unpack("!H", await reader.readexactly(2))[0]
            reply = dns.answer(await reader.readexactly(size), limit=None)
            if reply is None:
                break
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


class DNSServer:
    """UDP and TCP listeners on one address."""

    def __init__(self, dns: ClusterDNS, host: str, port: int = 53) -> None:
        self.dns, self.host, self.port = dns, host, port
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._udp, _ = await loop.create_datagram_endpoint(lambda: _UDP(self.dns),
                                                           local_addr=(self.host, self.port))
        if self.port == 0:
            self.port = self._udp.get_extra_info("sockname")[1]
        self._tcp = await asyncio.start_server(lambda r, w: _serve_tcp(self.dns, r, w),
                                               self.host, self.port, reuse_address=True)
        log.info("cluster DNS listening on %s:%d (udp, tcp)", self.host, self.port)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
            self._tcp = None

    async def serve_forever(self, retry_interval: float = 2.0) -> None:
        """Keeps trying to bind (the address may not be up yet) instead of failing the agent."""
        while True:
            try:
                await self.start()
                break
            except OSError as e:
                await self.stop()
                log.error("cluster DNS cannot listen on %s:%d: %s; retrying", self.host, self.port, e)
                await asyncio.sleep(retry_interval)
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
