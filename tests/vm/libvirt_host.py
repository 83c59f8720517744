"""The host side of the Vagrant lab's test: libvirt's daemons (started by hand where systemd is not PID 1)
and a snapshot of what a lab can leave behind on the host (domains, networks, volumes, iptables chains,
processes)."""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass, field

from tests.fixtures.procs import wait_for

DAEMONS = {"virtlogd": "/run/virtlogd.pid", "libvirtd": "/run/libvirtd.pid"}
QEMU_USER = "libvirt-qemu"
SOCKET = "/run/libvirt/libvirt-sock"
TOOLS = ("vagrant", "virsh", "libvirtd", "virtlogd", "qemu-system-x86_64", "qemu-img", "debootstrap", "sfdisk")


def missing_tools() -> list[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    plugins = subprocess.run(["vagrant", "plugin", "list"], capture_output=True, text=True).stdout \
        if "vagrant" not in missing else ""
    if "vagrant" not in missing and "vagrant-libvirt" not in plugins:
        missing.append("vagrant-libvirt")
    return missing


def _running(pidfile: str) -> int | None:
    try:
        pid = int(open(pidfile).read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def allow_kvm_device() -> None:
    """Puts libvirt's qemu user in the group of /dev/kvm where that is not its own (a container's foreign
    gid). libvirtd's probe of qemu finds KVM, its check of /dev/kvm for that user would not, and then it
    throws the capabilities away and probes qemu again at every lookup: minutes of every `vagrant up`."""
    try:
        gid = os.stat("/dev/kvm").st_gid
        user = pwd.getpwnam(QEMU_USER)
    except (OSError, KeyError):
        return
    if gid != user.pw_gid and user.pw_name not in grp.getgrgid(gid).gr_mem:
        subprocess.run(["usermod", "--append", "--groups", str(gid), QEMU_USER], check=True, capture_output=True)


def start_daemons() -> list[str]:
    """Starts virtlogd and libvirtd unless they run; returns the ones this call started."""
    allow_kvm_device()
    started = []
    for name, pidfile in DAEMONS.items():
        if _running(pidfile) is None:
            subprocess.run([name, "-d"], check=True, capture_output=True, timeout=30)
            wait_for(lambda p=pidfile: _running(p) is not None, timeout=30, what=f"{name} to start")
            started.append(name)
    wait_for(lambda: virsh("version").returncode == 0, timeout=60, interval=0.5, what="libvirtd to answer")
    return started


def stop_daemons(names: list[str]) -> None:
    for name in reversed(names):
        pid = _running(DAEMONS[name])
        if pid is None:
            continue
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda p=pid: not _alive(p), timeout=30, interval=0.2, what=f"{name} to exit")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"  # a zombie has exited
    except OSError:
        return False


def virsh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["virsh", "-c", "qemu:///system", *args], capture_output=True, text=True, timeout=60)


def _names(*args: str) -> set[str]:
    result = virsh(*args, "--name")
    return {line.strip() for line in result.stdout.splitlines() if line.strip()} if result.returncode == 0 else set()


def iptables_chains() -> set[str]:
    chains = set()
    for table in ("filter", "nat", "mangle"):
        out = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True).stdout
        chains |= {f"{table}/{m}" for m in re.findall(r"^-N (LIBVIRT_\S+)", out, re.M)}
    return chains


def remove_iptables_chains(chains: set[str]) -> None:
    """Drops the LIBVIRT_* chains libvirtd made (it never removes them): the jumps to them, then them."""
    for entry in sorted(chains):
        table, chain = entry.split("/")
        rules = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True).stdout
        for rule in rules.splitlines():
            if rule.startswith("-A ") and f"-j {chain}" in rule:
                subprocess.run(["iptables", "-t", table, "-D", *rule.split()[1:]], capture_output=True)
    for entry in sorted(chains):
        table, chain = entry.split("/")
        subprocess.run(["iptables", "-t", table, "-F", chain], capture_output=True)
    for entry in sorted(chains):
        table, chain = entry.split("/")
        subprocess.run(["iptables", "-t", table, "-X", chain], capture_output=True)


def _processes() -> set[str]:
    procs = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if int(pid) != os.getpid() and _alive(int(pid)) and re.search(r"qemu-system|libvirt|virtlogd|dnsmasq", cmd):
            procs.add(f"{pid} {cmd}")
    return procs


@dataclass
class Snapshot:
    """libvirt's objects (libvirtd must run)."""
    domains: set[str] = field(default_factory=set)
    networks: set[str] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)


@dataclass
class HostSnapshot:
    """What outlives libvirtd: iptables chains and processes."""
    chains: set[str] = field(default_factory=set)
    processes: set[str] = field(default_factory=set)


def snapshot() -> Snapshot:
    volumes = set()
    for pool in _names("pool-list", "--all"):
        out = virsh("vol-list", pool).stdout.splitlines()[2:]
        volumes |= {f"{pool}/{line.split()[0]}" for line in out if line.strip()}
    return Snapshot(domains=_names("list", "--all"), networks=_names("net-list", "--all"), volumes=volumes)


def snapshot_host() -> HostSnapshot:
    return HostSnapshot(chains=iptables_chains(), processes=_processes())
