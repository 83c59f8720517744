"""Bringing the lab's control plane and nodes up and down, through the same install scripts and units as a VM."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

from lablib import host, ingress, procs, registry
from lablib.config import (
    APISERVER,
    APISERVER_PORT,
    CLUSTER_DNS,
    DEFAULT_TOLERATION_SECONDS,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    HOST_IP,
    LB_POOL,
    NODE_MONITOR_GRACE_PERIOD,
    POD_CIDR,
    REGISTRY_PORT,
    REST_PORT,
    ROOT,
    SERVICE_CIDR,
    STATE_DIR,
    VETH_PREFIX,
    Node,
    control_plane_dirs,
    pki_dir,
)
from lablib.controlplanes import apiserver_target
from lablib.units import command_line, expand, read_unit, unit_environment

CONTROL_PLANE_UNITS = ("etcd", "skiff-apiserver", "skiff-scheduler", "skiff-controller-manager")


def _script(name: str, *args: str) -> None:
    result = subprocess.run([os.path.join(ROOT, "scripts", name), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/{name} failed:\n{result.stderr.strip()}")


def _port_open(hostname: str, port: int) -> bool:
    try:
        with socket.create_connection((hostname, port), timeout=0.3):
            return True
    except OSError:
        return False


def _start_unit(name: str, unit_path: str, netns: str | None = None) -> None:
    """Runs the unit's ExecStartPre= lines, then its ExecStart=, as systemd would (minus systemd)."""
    if procs.running_pid(name) is not None:
        return
    unit = read_unit(unit_path)
    env = unit_environment(unit)
    for pre in unit.exec_start_pre:
        result = host.run(*expand(pre, env), check=False, netns=netns)
        if result.returncode != 0 and not pre.startswith("-"):
            raise RuntimeError(f"{unit_path}: ExecStartPre {pre} failed: {result.stderr.strip()}")
    procs.start(name, command_line(unit_path), netns=netns)


start_unit = _start_unit  # for the members of an HA control plane (lablib.controlplanes)


def _record_nodes(nodes: list[Node]) -> None:
    with open(os.path.join(STATE_DIR, "lab.json"), "w") as f:
        json.dump({"nodes": sorted(n.index for n in nodes)}, f)


def recorded_nodes() -> list[Node]:
    """Nodes the lab made: recorded ones plus any left with a state directory."""
    indexes: set[int] = set()
    with contextlib.suppress(OSError, ValueError):
        with open(os.path.join(STATE_DIR, "lab.json")) as f:
            indexes.update(json.load(f)["nodes"])
    with contextlib.suppress(FileNotFoundError):
        for name in os.listdir(os.path.join(STATE_DIR, "nodes")):
            if name.startswith("node-") and name[5:].isdigit():
                indexes.add(int(name[5:]))
    # A node whose state is gone still has its veth on the host (sklab-node-N).
    for line in host.run("ip", "-br", "link", check=False).stdout.splitlines():
        link = line.split("@")[0].split()[0] if line.strip() else ""
        if link.startswith(f"{VETH_PREFIX}node-") and link.rsplit("-", 1)[1].isdigit():
            indexes.add(int(link.rsplit("-", 1)[1]))
    return [Node(i) for i in sorted(indexes)]


# ---- control plane ----

def make_pki(nodes: list[Node], servers: list[str] = (APISERVER,)) -> None:
    """The cluster CA and every certificate and kubeconfig, before anything that needs them starts.
    Existing files are kept, so the CA of a running lab survives `up` again and new nodes join it.
    The kubeconfigs list every apiserver in `servers`."""
    os.makedirs(pki_dir(), mode=0o700, exist_ok=True)
    node_args = [a for n in nodes for a in ("--node", n.name)]
    server_args = [a for s in servers for a in ("--server", s)]
    ips = [a for s in servers for a in ("--ip", s.rsplit(":", 1)[0])]
    _python_script("certs", pki_dir(), "cluster", *server_args, "--ip", HOST_IP, *ips, *node_args)


def _python_script(name: str, *args: str) -> None:
    result = subprocess.run([os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "scripts", name),
                             *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/{name} failed:\n{result.stderr.strip()}")


def control_plane_up() -> None:
    etc, var = control_plane_dirs()
    _script("install-control-plane", "--no-systemd", "--skip-deps", "--config-dir", etc, "--state-dir", var,
            "--advertise-address", HOST_IP, "--apiserver-port", str(APISERVER_PORT), "--rest-port", str(REST_PORT),
            "--etcd-client-port", str(ETCD_CLIENT_PORT), "--etcd-peer-port", str(ETCD_PEER_PORT),
            "--service-cidr", SERVICE_CIDR, "--cluster-cidr", POD_CIDR,
            "--node-monitor-grace-period", NODE_MONITOR_GRACE_PERIOD,
            "--default-toleration-seconds", str(DEFAULT_TOLERATION_SECONDS), "--loadbalancer-ip-range", LB_POOL)
    units = os.path.join(etc, "units")
    _start_unit("etcd", os.path.join(units, "etcd.service"))
    procs.must_wait(lambda: _port_open("127.0.0.1", ETCD_CLIENT_PORT), 20, "etcd", log="etcd")
    _start_unit("skiff-apiserver", os.path.join(units, "skiff-apiserver.service"))
    procs.must_wait(lambda: _port_open(HOST_IP, APISERVER_PORT) or procs.running_pid("skiff-apiserver") is None,
                    30, "skiff-apiserver", log="skiff-apiserver")
    if procs.running_pid("skiff-apiserver") is None:
        procs.must_wait(lambda: False, 0, "skiff-apiserver (it exited)", log="skiff-apiserver")
    for name in ("skiff-scheduler", "skiff-controller-manager"):
        _start_unit(name, os.path.join(units, f"{name}.service"))


def control_plane_down() -> None:
    for name in reversed(CONTROL_PLANE_UNITS):
        procs.stop(name)


# ---- nodes ----

def _unit(node: Node, name: str) -> str:
    return os.path.join(node.config_dir, "units", f"{name}.service")


def _containerd_socket(node: Node) -> str:
    return os.path.join(node.state_dir, "containerd", "containerd.sock")


def _containerd_up(node: Node) -> bool:
    sock = _containerd_socket(node)
    if not os.path.exists(sock):
        return False
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sock)
        return True
    except OSError:
        return False
    finally:
        s.close()


def prepare_node(node: Node, images_dir: str) -> None:
    """Everything of a node but its agent, which needs the apiserver: this overlaps the control plane's start."""
    host.ensure_node_network(node)
    _script("install-node", "--no-systemd", "--skip-deps", "--config-dir", node.config_dir,
            "--state-dir", node.state_dir, "--images-dir", images_dir, "--apiserver", apiserver_target(),
            "--kubeconfig", os.path.join(pki_dir(), f"node-{node.name}.conf"),
            "--node-name", node.name, "--node-ip", node.ip, "--cluster-dns", CLUSTER_DNS,
            "--registry-mirror", f"http://{HOST_IP}:{REGISTRY_PORT}", "--no-build-images",
            # Ready shows at the first status update after the pod network is up: update often.
            "--agent-args", "--node-status-update 2")
    start_runtime(node)


def start_runtime(node: Node) -> None:
    host.set_node_link(node, up=True)
    fresh = procs.running_pid(f"{node.name}-containerd") is None
    _start_unit(f"{node.name}-containerd", _unit(node, "containerd"), netns=node.netns)
    procs.must_wait(lambda: _containerd_up(node), 30, f"{node.name}'s containerd", log=f"{node.name}-containerd")
    if fresh:
        _script("install-node", "--import-images", "--config-dir", node.config_dir,
                "--state-dir", node.state_dir, "--images-dir", registry.images_dir())


def start_agent(node: Node) -> None:
    _start_unit(f"{node.name}-agent", _unit(node, "skiff-agent"), netns=node.netns)


def start_node_processes(node: Node) -> None:
    start_runtime(node)
    start_agent(node)


def prepare_nodes(nodes: list[Node]) -> None:
    """Prepares the nodes in parallel; the images must be built (registry.build_images) first."""
    os.makedirs(os.path.join(STATE_DIR, "nodes"), exist_ok=True)
    _record_nodes(sorted(set(recorded_nodes()) | set(nodes), key=lambda n: n.index))
    with ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
        for future in [pool.submit(prepare_node, n, registry.images_dir()) for n in nodes]:
            future.result()


def stop_node(node: Node) -> None:
    """Like a node losing power: agent and containers gone, the node unreachable."""
    procs.stop(f"{node.name}-agent", sig=signal.SIGKILL)
    ingress.stop(node)
    _remove_pods(node)
    _stop_containerd(node)
    host.set_node_link(node, up=False)


def _remove_pods(node: Node) -> list[str]:
    """Stops and removes every sandbox through CRI; returns their network namespace paths."""
    if not _containerd_up(node):
        return []
    from lablib.cri import remove_all_sandboxes
    try:
        return remove_all_sandboxes(_containerd_socket(node))
    except Exception as e:  # noqa: BLE001 - teardown goes on; leftovers are swept below
        print(f"  warning: {node.name}: removing pods through CRI failed: {e}")
        return []


def _stop_containerd(node: Node) -> None:
    procs.stop(f"{node.name}-containerd")
    sock = _containerd_socket(node)
    runc_root = os.path.join(node.state_dir, "containerd", "runc")
    if os.path.isdir(runc_root):
        for ns in os.listdir(runc_root):
            listed = host.run("runc", "--root", os.path.join(runc_root, ns), "list", "-q", check=False)
            for cid in listed.stdout.split():
                host.run("runc", "--root", os.path.join(runc_root, ns), "delete", "--force", cid, check=False)
    for pid in procs.pids_with_arg(sock, "containerd-shim"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def remove_node(node: Node) -> None:
    procs.stop(f"{node.name}-agent")
    ingress.stop(node)
    netns_paths = _remove_pods(node)
    _stop_containerd(node)
    for path in netns_paths:
        if os.path.exists(path):
            host.run("umount", "-l", path, check=False)
            with contextlib.suppress(OSError):
                os.remove(path)
    host.unmount_under(node.dir)
    host.remove_node_network(node)
    shutil.rmtree(node.dir, ignore_errors=True)
