"""A pod's DNS configuration (the kubelet's network/dns): the node's resolv.conf and the dnsPolicy
(ClusterFirst, ClusterFirstWithHostNet, Default, None) with the pod's dnsConfig merged in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cri.runtime.v1 import api_pb2 as cri_pb
from skiff.v1 import pod_pb2

MAX_DNS_SEARCHES, MAX_DNS_NAMESERVERS = 32, 3


@dataclass
class ResolvConf:
    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


def parse_resolv_conf(text: str) -> ResolvConf:
    conf = ResolvConf()
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            conf.nameservers.append(words[1])
        elif words[0] in ("search", "domain"):
            conf.searches = words[1:]
        elif words[0] == "options":
            conf.options.extend(words[1:])
    return conf


def _merge_options(base: list[str], extra: Sequence[pod_pb2.PodDNSConfigOption]) -> list[str]:
    merged: dict[str, str] = {}
    for opt in base:
        name, _, value = opt.partition(":")
        merged[name] = opt
    for opt in extra:
        merged[opt.name] = f"{opt.name}:{opt.value}" if opt.HasField("value") else opt.name
    return list(merged.values())


def _dedup(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def pod_dns_config(pod: pod_pb2.Pod, cluster_dns: Sequence[str], cluster_domain: str,
                   host: ResolvConf) -> cri_pb.DNSConfig:
    """The kubelet's DNS policies: ClusterFirst (default), ClusterFirstWithHostNet, Default, None."""
    policy = pod.spec.dns_policy or "ClusterFirst"
    if policy == "ClusterFirst" and pod.spec.host_network:
        policy = "Default"
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and not cluster_dns:
        policy = "Default"  # no cluster DNS configured: the node's own resolver, as the kubelet falls back
    if policy == "None":
        servers, searches, options = [], [], []
    elif policy == "Default":
        servers, searches, options = list(host.nameservers), list(host.searches), list(host.options)
    else:
        ns = pod.metadata.namespace
        servers = list(cluster_dns)
        searches = [f"{ns}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain, *host.searches]
        options = ["ndots:5"]
    cfg = pod.spec.dns_config
    servers = _dedup([*servers, *cfg.nameservers])[:MAX_DNS_NAMESERVERS]
    searches = _dedup([*searches, *cfg.searches])[:MAX_DNS_SEARCHES]
    return cri_pb.DNSConfig(servers=servers, searches=searches, options=_merge_options(options, cfg.options))
