"""The node's CNI configuration: a bridge on the node's podCIDR.

The conflist goes into the runtime's CNI conf dir (containerd loads the
first file by name). `bridge` makes the node the pods' gateway; ipMasq is off
because masquerading of traffic leaving the cluster network is done once,
in the proxy's nftables table, so that pod-to-pod traffic across nodes keeps
its source address. `loopback` gets its own file, as containerd's classic
setup has it: chained after `bridge` it would act on the pod's eth0.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from typing import Any

CNI_VERSION = "1.0.0"  # Debian 12's plugins (1.1.1) and containerd 1.6 both speak 1.0.0
NETWORK_NAME = "skiff"
CONFLIST_NAME = "10-skiff.conflist"
LOOPBACK_NAME = "99-loopback.conf"


def conflist(pod_cidr: str, bridge: str = "cni0", mtu: int = 0, data_dir: str = "") -> dict[str, Any]:
    subnet = ipaddress.ip_network(pod_cidr, strict=True)
    ipam: dict[str, Any] = {
        "type": "host-local",
        "ranges": [[{"subnet": str(subnet), "gateway": str(subnet.network_address + 1)}]],
        "routes": [{"dst": "0.0.0.0/0"}],
    }
    if data_dir:
        ipam["dataDir"] = data_dir
    plugin: dict[str, Any] = {
        "type": "bridge", "bridge": bridge, "isGateway": True, "isDefaultGateway": False,
        "ipMasq": False, "hairpinMode": True, "ipam": ipam,
    }
    if mtu:
        plugin["mtu"] = mtu
    return {"cniVersion": CNI_VERSION, "name": NETWORK_NAME, "plugins": [plugin]}


def loopback() -> dict[str, Any]:
    return {"cniVersion": CNI_VERSION, "name": "lo", "type": "loopback"}


def _write_atomically(path: str, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)  # the runtime never sees a half-written file


def write_config(conf_dir: str, pod_cidr: str, bridge: str = "cni0", mtu: int = 0,
                 data_dir: str = "") -> str:
    """Writes the conflist (and loopback conf); returns the conflist's path. Idempotent."""
    os.makedirs(conf_dir, exist_ok=True)
    path = os.path.join(conf_dir, CONFLIST_NAME)
    wanted = conflist(pod_cidr, bridge, mtu, data_dir)
    try:
        with open(path) as f:
            if json.load(f) == wanted:
                return path
    except (OSError, ValueError):
        pass
    _write_atomically(os.path.join(conf_dir, LOOPBACK_NAME), loopback())
    _write_atomically(path, wanted)
    return path
