"""The Vagrant lab driven from a test: the offline box (scripts/build-box), `vagrant up` on libvirt (software
emulation where there is no KVM), `ssh` into the VMs, skiffctl with the lab's admin config, and what a lab
leaves behind on the host once destroyed. tests/vm/test_vagrant_*.py each boot one."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vm import libvirt_host

ROOT = Path(__file__).resolve().parents[2]
VAGRANT_DIR = ROOT / "vagrant"
SKIFFCTL = str(ROOT / ".venv" / "bin" / "skiffctl")
NETWORK = "192.168.56"


class Lab:
    """One Vagrant lab: `vagrant` and `ssh` into its VMs, skiffctl with its admin config."""

    def __init__(self, workdir: Path, box: str, workers: int = 2, control_planes: int = 1) -> None:
        self.workdir = workdir
        self.pki = workdir / "pki"
        self.env = {**{k: v for k, v in os.environ.items() if k != "SKIFFCONFIG"},
                    "SKIFF_BOX": box, "SKIFF_WORKERS": str(workers), "SKIFF_NETWORK": NETWORK,
                    "SKIFF_CONTROL_PLANES": str(control_planes),
                    "SKIFF_CPUS": "1", "SKIFF_MEMORY": "1536", "SKIFF_PKI_DIR": str(self.pki),
                    "VAGRANT_DOTFILE_PATH": str(workdir / "dot"), "VAGRANT_DEFAULT_PROVIDER": "libvirt",
                    "VAGRANT_CHECKPOINT_DISABLE": "1", "VAGRANT_NO_COLOR": "1"}
        self.ssh_config = workdir / "ssh_config"
        self.times: dict[str, float] = {}
        self.up_started = 0.0
        self.daemons: list[str] = []  # the libvirt daemons this test started (and stops)
        self.before = libvirt_host.Snapshot()
        self.host_before = libvirt_host.HostSnapshot()

    def vagrant(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        # In a session of its own: a timeout ends Vagrant's rsync and ssh children too, not Vagrant alone.
        with subprocess.Popen(["vagrant", *args], cwd=VAGRANT_DIR, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True) as proc:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
                raise AssertionError(f"vagrant {' '.join(args)}: no end after {timeout:.0f} s\n{out[-3000:]}\n"
                                     f"{err[-3000:]}") from None
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        if check and result.returncode != 0:
            raise AssertionError(f"vagrant {' '.join(args)}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def ssh(self, vm: str, command: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        if not self.ssh_config.exists():
            self.ssh_config.write_text(self.vagrant("ssh-config").stdout)
        result = subprocess.run(["ssh", "-F", str(self.ssh_config), vm, command], capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{vm}: {command}: rc={result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    def run_skiffctl(self, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([SKIFFCTL, *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                              env={**self.env, "SKIFFCONFIG": str(self.pki / "cluster" / "admin.conf")})

    def skiffctl(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        result = self.run_skiffctl(*args, stdin=stdin, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"skiffctl {' '.join(args)}: {result.stderr}")
        return result.stdout

    def get(self, *args: str) -> dict:
        return json.loads(self.skiffctl("get", *args, "-o", "json"))

    def node_ready(self, name: str) -> bool:
        conditions = self.get("node", name)["status"].get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def running_pods(self) -> list[dict]:
        return [p for p in self.get("pods", "-l", "app=whoami")["items"]
                if not p["metadata"].get("deletionTimestamp") and p.get("status", {}).get("phase") == "Running"
                and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]


def _unavailable(reason: str) -> None:
    """A missing tool breaks the run; it never hides the test."""
    pytest.fail(f"the Vagrant lab test cannot run: {reason}")


def _build_box() -> str:
    built = subprocess.run([str(ROOT / "scripts" / "build-box")], capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
    return built.stdout.strip().splitlines()[-1]


def booted(tmp_path_factory: pytest.TempPathFactory, workers: int, control_planes: int = 1,
           up_timeout: float = 1500) -> Iterator[Lab]:
    """A lab of the offline box, up and provisioned; destroyed afterwards, also on failure (a module's
    fixture yields from this)."""
    if os.geteuid() != 0:
        _unavailable("the Vagrant lab needs root (libvirt, loop devices for the box)")
    missing = libvirt_host.missing_tools()
    if missing:
        _unavailable(f"missing {', '.join(missing)} (scripts/install-deps installs them)")
    host_before = libvirt_host.snapshot_host()
    daemons = libvirt_host.start_daemons()
    lab = Lab(tmp_path_factory.mktemp("vagrant-lab"), "", workers, control_planes)
    lab.daemons, lab.host_before = daemons, host_before
    started = time.monotonic()
    try:
        lab.env["SKIFF_BOX"] = _build_box()
        lab.times["build-box"] = time.monotonic() - started
        lab.before = libvirt_host.snapshot()
        lab.up_started = time.monotonic()
        lab.vagrant("up", "--provider=libvirt", timeout=up_timeout)
        lab.times["vagrant up (provisioned)"] = time.monotonic() - lab.up_started
        yield lab
    finally:
        lab.vagrant("destroy", "-f", timeout=300, check=False)
        if lab.daemons:  # a libvirtd that ran before the test keeps its chains (it would fail without them)
            libvirt_host.stop_daemons(lab.daemons)
            libvirt_host.remove_iptables_chains(libvirt_host.iptables_chains() - host_before.chains)
        lab.times["whole test"] = time.monotonic() - started
        print("\nVagrant lab timings (s):", {k: round(v) for k, v in lab.times.items()})


def destroy_leaves_nothing_behind(lab: Lab) -> None:
    """`vagrant destroy -f`, then nothing of the lab is left on the host."""
    lab.vagrant("destroy", "-f", timeout=300)
    after = libvirt_host.snapshot()
    before = lab.before
    assert after.domains - before.domains == set()
    assert after.networks - before.networks == set()
    box_images = {v for v in after.volumes if "_vagrant_box_image_" in v}  # Vagrant's cache of the box
    assert after.volumes - before.volumes - box_images == set()
    if not lab.daemons:
        return  # libvirtd ran before the test and goes on running, with its chains
    libvirt_host.stop_daemons(lab.daemons)
    libvirt_host.remove_iptables_chains(libvirt_host.iptables_chains() - lab.host_before.chains)
    host = libvirt_host.snapshot_host()
    assert host.chains - lab.host_before.chains == set()
    assert host.processes - lab.host_before.processes == set()
    lab.daemons = []
