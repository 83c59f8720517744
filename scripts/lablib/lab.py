"""scripts/lab's commands: up, down, status, exec, stop-node, start-node, kill-control-plane, start-control-plane."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pwd
import shutil
import sys
import threading
import time

from lablib import cluster, controlplanes, cpstatus, demo, host, ingress, procs, registry
from lablib.config import (
    BRIDGE,
    CONFIG_MARKER,
    HOST_IP,
    INGRESS_CLASS,
    LAB_RANGES,
    LB_POOL,
    MAX_NODES,
    NFT_TABLE,
    STATE_DIR,
    Node,
    admin_config,
    admin_kubeconfig,
    node_named,
    pki_dir,
)

# Seconds since the command started (scripts/lab notes the time before it re-executes in .venv).
_T0 = time.monotonic() - max(0.0, time.time() - float(os.environ.get("SKIFF_LAB_STARTED", time.time())))


def _step(text: str) -> None:
    print(f"==> [{time.monotonic() - _T0:5.1f}s] {text}", flush=True)


def _client_config_paths() -> list[str]:
    homes = [os.path.expanduser("~")]
    sudo_user = os.environ.get("SUDO_USER")
    if sudo_user and sudo_user != "root":
        with contextlib.suppress(KeyError):
            homes.append(pwd.getpwnam(sudo_user).pw_dir)
    return [os.path.join(h, ".skiff", "config") for h in dict.fromkeys(homes)]


def _ours(path: str) -> bool:
    with contextlib.suppress(OSError), open(path) as f:
        return CONFIG_MARKER in f.read()
    return False


# The admin's credentials beside the config (its paths are relative to its directory), as kubeadm
# suggests copying admin.conf to ~/.kube/config: (name in ~/.skiff, name in the PKI, mode).
_CREDENTIALS = (("lab-ca.crt", "ca.crt", 0o644), ("lab-admin.crt", "admin.crt", 0o644),
                ("lab-admin.key", "admin.key", 0o600))


def _client_config_text() -> str:
    servers = controlplanes.apiservers()
    server = servers[0] if len(servers) == 1 else f"[{', '.join(servers)}]"
    return (f"{CONFIG_MARKER}; removed by scripts/lab down\nserver: {server}\n"
            "certificate-authority: lab-ca.crt\nclient-certificate: lab-admin.crt\nclient-key: lab-admin.key\n"
            "tls-server-name: kubernetes\n")


def write_client_config() -> None:
    """skiffctl with no flags talks to the lab as its admin; a config the lab didn't write is left alone."""
    for path in _client_config_paths():
        if os.path.exists(path) and not _ours(path):
            print(f"  note: {path} exists and was not written by the lab; left as it is "
                  f"(use: SKIFFCONFIG={admin_config()} skiffctl)")
            continue
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        written = [path]
        for name, source, mode in _CREDENTIALS:
            target = os.path.join(directory, name)
            _copy_with_mode(os.path.join(pki_dir(), source), target, mode)
            written.append(target)
        with open(path, "w") as f:
            f.write(_client_config_text())
        _give_to_sudo_user(path, [directory, *written])


def _copy_with_mode(source: str, target: str, mode: int) -> None:
    """The copy never exists with a wider mode than `mode` (the admin's key)."""
    with open(source, "rb") as f:
        data = f.read()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)
        out.write(data)


def _give_to_sudo_user(path: str, paths: list[str]) -> None:
    sudo_user = os.environ.get("SUDO_USER")
    if sudo_user and sudo_user != "root" and not path.startswith(os.path.expanduser("~")):
        with contextlib.suppress(KeyError, OSError):
            user = pwd.getpwnam(sudo_user)
            for p in paths:
                os.chown(p, user.pw_uid, user.pw_gid)


def remove_client_config() -> None:
    for path in _client_config_paths():
        if _ours(path):
            os.remove(path)
            for name, _, _ in _CREDENTIALS:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(os.path.dirname(path), name))


def _in_background(target, *args) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(*args)
        except BaseException as e:  # noqa: BLE001 - re-raised by _join
            errors.append(e)
    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _join(work: tuple[threading.Thread, list[BaseException]]) -> None:
    work[0].join()
    if work[1]:
        raise work[1][0]


def _start_registry(archives: dict[str, str]) -> None:
    registry.start()
    registry.push_images(archives)


def _check_control_planes(wanted: int) -> None:
    """The control plane's shape is set when the lab is made: its PKI and etcd cluster depend on it."""
    have = controlplanes.count()
    made = os.path.exists(os.path.join(STATE_DIR, "lab.json"))
    if made and have != wanted:
        raise RuntimeError(f"this lab runs {have} control plane(s); run scripts/lab down first to change it "
                           f"to --control-planes {wanted}")


def up(count: int, with_demo: bool = True, control_planes: int = 1) -> int:
    started = _T0
    nodes = [Node(i) for i in range(1, count + 1)]
    _check_control_planes(control_planes)
    os.makedirs(STATE_DIR, exist_ok=True)
    controlplanes.record(control_planes)
    _step(f"network: bridge {BRIDGE} ({HOST_IP}), nftables guard table inet {NFT_TABLE} "
          f"keeping {', '.join(LAB_RANGES)} on the bridge")
    host.ensure_bridge()
    host.apply_guard()
    _step("cluster PKI: CA, apiserver, admin, scheduler, controller-manager and node certificates")
    cluster.make_pki(sorted(set(cluster.recorded_nodes()) | set(nodes), key=lambda n: n.index),
                     controlplanes.apiservers())
    ingress.make_credentials()
    archives = registry.build_images()
    _step("registry localhost:5000 with busybox:1, whoami:1, pause:1 (in the background)")
    pushing = _in_background(_start_registry, archives)
    _step(f"nodes: {', '.join(n.name for n in nodes)}: namespace and containerd each (in the background)")
    preparing = _in_background(cluster.prepare_nodes, nodes)
    if control_planes > 1:
        _step(f"control plane: {control_planes} members (cp-1 … cp-{control_planes}), each etcd (one cluster, "
              "peer and client TLS), skiff-apiserver, skiff-scheduler, skiff-controller-manager")
        controlplanes.up(control_planes)
    else:
        _step("control plane: etcd, skiff-apiserver, skiff-scheduler, skiff-controller-manager")
        cluster.control_plane_up()
    _join(preparing)
    for extra in [n for n in cluster.recorded_nodes() if n.index > count]:
        _step(f"removing {extra.name} (--nodes {count})")
        cluster.remove_node(extra)
        demo.skiffctl("delete", "node", extra.name, check=False)
    _step("skiff-agent on every node")
    for node in nodes:
        cluster.start_agent(node)
    write_client_config()
    _step(f"ingress: skiff-ingress-controller and nginx on every node's :80 and :443, IngressClass "
          f"{INGRESS_CLASS} (default); LoadBalancer pool {LB_POOL} routed to the nodes")
    demo.skiffctl("apply", "-f", "-", stdin=ingress.MANIFEST)
    for node in nodes:
        ingress.start(node, nodes)
    host.route_load_balancers(nodes)
    asyncio.run(demo.wait_for_nodes(nodes))
    _join(pushing)
    if not with_demo:
        print(f"lab up in {time.monotonic() - started:.1f}s")
        return 0
    _step("demo: Deployment whoami (3 replicas, readiness probe) + Service whoami")
    manifest = os.path.join(STATE_DIR, "whoami.yaml")
    with open(manifest, "w") as f:
        f.write(demo.DEMO)
    answer = asyncio.run(demo.run_demo(nodes))
    elapsed = time.monotonic() - started
    print(f"\nThe Service answered from {nodes[0].name}:\n  " + "\n  ".join(answer.strip().splitlines()[:3]))
    print(f"\nlab up to demo answering in {elapsed:.1f}s\n")
    demo.print_state()
    cluster_ip = demo.skiffctl("get", "service", "whoami", "-o", "jsonpath={.spec.clusterIP}", check=False)
    print(demo.next_steps(cluster_ip.strip() if cluster_ip.strip()[:1].isdigit() else "<clusterIP>", manifest))
    print(f"kubectl (Kubernetes' REST API): KUBECONFIG=$(sudo scripts/lab kubeconfig) kubectl get pods   "
          f"# {admin_kubeconfig()}")
    return 0


def kubeconfig() -> int:
    """Prints the path of the lab admin's standard kubeconfig (the REST port), for KUBECONFIG=... kubectl."""
    path = admin_kubeconfig()
    if not os.path.exists(path):
        print("scripts/lab kubeconfig: the lab is not up (sudo scripts/lab up)", file=sys.stderr)
        return 1
    print(path)
    return 0


def down() -> int:
    for node in cluster.recorded_nodes():
        _step(f"removing {node.name}")
        cluster.remove_node(node)
    _step("stopping the control plane and the registry")
    controlplanes.down()
    cluster.control_plane_down()
    for name in procs.names():
        procs.stop(name)
    _step("removing the bridge, the guard table, mounts and state")
    host.unmount_under(STATE_DIR)
    host.remove_guard()
    host.remove_bridge()
    remove_client_config()
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    print("lab removed")
    return 0


def status() -> int:
    if not os.path.isdir(STATE_DIR):
        print("no lab here (sudo scripts/lab up)")
        return 1
    print(f"{'PROCESS':28} {'PID':>8}  LOG")
    for name in procs.names():
        pid = procs.running_pid(name)
        print(f"{name:28} {pid if pid else 'DEAD':>8}  {procs.log_path(name)}")
    print()
    for node in cluster.recorded_nodes():
        net = "ok" if host.netns_exists(node.netns) else "MISSING"
        print(f"{node.name}: {node.ip}  namespace {node.netns} {net}")
    if controlplanes.members():
        print()
        cpstatus.print_control_planes()
    print()
    demo.print_state()
    return 0


def kill_control_plane(text: str) -> int:
    member = controlplanes.member_named(text)
    pids = controlplanes.kill(member)
    print(f"{member.name} killed (SIGKILL of {len(pids)} processes: etcd, apiserver, scheduler, controller "
          f"manager); sudo scripts/lab start-control-plane {member.index} brings it back")
    return 0


def start_control_plane(text: str) -> int:
    member = controlplanes.member_named(text)
    controlplanes.start(member)
    print(f"{member.name} started: its etcd member rejoins with its data")
    return 0


def exec_in(node_name: str, command: list[str]) -> int:
    node = _known_node(node_name)
    if not command:
        raise SystemExit("usage: scripts/lab exec NODE -- CMD...")
    # A host without wget or nslookup still has busybox-static (the lab installs it).
    if shutil.which(command[0]) is None and shutil.which("busybox"):
        command = ["busybox", *command]
    os.execvp("nsenter", ["nsenter", f"--net=/var/run/netns/{node.netns}", "--", *command])
    return 1  # not reached


def _known_node(name: str) -> Node:
    node = node_named(name)
    if node not in cluster.recorded_nodes() or not host.netns_exists(node.netns):
        raise SystemExit(f"no such node {name!r} in this lab (scripts/lab status lists them)")
    return node


def stop_node(name: str) -> int:
    node = _known_node(name)
    cluster.stop_node(node)
    print(f"{node.name} stopped: agent and containers gone, link down; the node-lifecycle controller "
          "marks it NotReady after 20 s and evicts its pods 30 s later")
    return 0


def start_node(name: str) -> int:
    node = _known_node(name)
    cluster.start_node_processes(node)
    ingress.start(node, cluster.recorded_nodes())
    print(f"{node.name} started")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/lab", description="A multi-node Skiff cluster on this host.")
    sub = p.add_subparsers(dest="command", required=True)
    up_p = sub.add_parser("up", help="install what is missing, start the cluster and the demo")
    up_p.add_argument("--nodes", type=int, default=3, help="number of nodes (default 3)")
    up_p.add_argument("--no-demo", action="store_true", help="don't deploy the whoami demo")
    up_p.add_argument("--control-planes", type=int, default=None,
                      help="control-plane members, each etcd + apiserver + scheduler + controller manager "
                           "in a namespace of its own (default: what the lab has, else 1: on the host)")
    sub.add_parser("down", help="remove everything the lab made")
    sub.add_parser("status", help="processes, nodes and cluster state")
    sub.add_parser("kubeconfig", help="print the path of the admin's kubeconfig for kubectl")
    ex = sub.add_parser("exec", help="run a command in a node's network namespace")
    ex.add_argument("node")
    ex.add_argument("cmd", nargs=argparse.REMAINDER)
    for verb in ("stop-node", "start-node"):
        sub.add_parser(verb).add_argument("node")
    for verb, text in (("kill-control-plane", "SIGKILL every process of member N, as a crash"),
                       ("start-control-plane", "start member N again (its etcd member rejoins)")):
        sub.add_parser(verb, help=text).add_argument("member", metavar="N")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "up":
            if not 1 <= args.nodes <= MAX_NODES:
                raise SystemExit(f"--nodes: must be between 1 and {MAX_NODES}")
            if args.control_planes is None:
                args.control_planes = controlplanes.count()
            if not 1 <= args.control_planes <= controlplanes.MAX_CONTROL_PLANES:
                raise SystemExit(f"--control-planes: must be between 1 and {controlplanes.MAX_CONTROL_PLANES}")
            return up(args.nodes, with_demo=not args.no_demo, control_planes=args.control_planes)
        if args.command == "down":
            return down()
        if args.command == "status":
            return status()
        if args.command == "kubeconfig":
            return kubeconfig()
        if args.command == "exec":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            return exec_in(args.node, cmd)
        if args.command == "stop-node":
            return stop_node(args.node)
        if args.command == "kill-control-plane":
            return kill_control_plane(args.member)
        if args.command == "start-control-plane":
            return start_control_plane(args.member)
        return start_node(args.node)
    except (RuntimeError, ValueError) as e:
        print(f"scripts/lab {args.command}: {e}", file=sys.stderr)
        return 1
