"""The node agent's configuration (the kubelet's KubeletConfiguration, the part Skiff has)."""

from __future__ import annotations

from dataclasses import dataclass, field

from node.runtime.security import NodeSecurity


@dataclass
class AgentConfig:
    node_name: str
    root_dir: str
    node_ip: str = ""
    hostname: str = ""
    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = "cluster.local"
    resolv_conf: str = "/etc/resolv.conf"
    hosts_file: str = "/etc/hosts"  # what hostNetwork pods see, with their hostAliases
    restart_backoff_base: float = 10.0
    restart_backoff_max: float = 300.0
    relist_period: float = 1.0
    memory_capacity: int = 0
    allocatable: dict[str, str] = field(default_factory=dict)
    security: NodeSecurity = field(default_factory=NodeSecurity)
