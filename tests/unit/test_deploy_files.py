"""The deployment files: systemd units as the install scripts render them, the Vagrantfile, shell scripts, certs."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from control.client.client import Client
from control.client.kubeconfig import ClientConfig, load_client_config
from tests.fixtures.procs import eventually, free_port, port_open, stop, wait_for
from tests.fixtures.rest import kubectl_binary

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from lablib.units import command_line, undefined_variables  # noqa: E402

UNITS = sorted(p.stem for p in (ROOT / "scripts" / "systemd").glob("*.service"))
SHELL_SCRIPTS = ["scripts/install-deps", "scripts/test", "scripts/install-control-plane",
                 "scripts/install-node", "scripts/gen-proto", "scripts/lock", ".ci/run",
                 "vagrant/provision/control-plane.sh", "vagrant/provision/node.sh",
                 "vagrant/provision/registry-images.sh", "scripts/build-box"]
# Which module serves each console script, to tell "not written yet" from "wrong flags".
MODULES = {"skiff-apiserver": "control.apiserver.main", "skiff-scheduler": "control.scheduler.main",
           "skiff-controller-manager": "control.controllers.main", "skiff-agent": "node.main",
           "skiff-ingress-controller": "control.ingress.main"}


def _run(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every unit as install-control-plane and install-node write it (in their --no-systemd mode)."""
    base = tmp_path_factory.mktemp("deploy")
    cp = _run(str(ROOT / "scripts/install-control-plane"), "--no-systemd", "--skip-deps",
              "--config-dir", str(base / "cp-etc"), "--state-dir", str(base / "cp-var"),
              "--advertise-address", "192.168.56.10", "--node", "node-1")
    assert cp.returncode == 0, cp.stderr
    node = _run(str(ROOT / "scripts/install-node"), "--no-systemd", "--skip-deps",
                "--config-dir", str(base / "node-etc"), "--state-dir", str(base / "node-var"),
                "--apiserver", "192.168.56.10:6443", "--node-ip", "192.168.56.11", "--node-name", "node-1",
                "--kubeconfig", str(base / "cp-etc" / "pki" / "node-node-1.conf"),
                "--registry-mirror", "http://192.168.56.1:5000",
                "--ingress-kubeconfig", str(base / "cp-etc" / "pki" / "node-node-1.conf"),
                "--ingress-publish-address", "192.168.56.11", "--ingress-publish-address", "192.168.56.12")
    assert node.returncode == 0, node.stderr
    units = list((base / "cp-etc" / "units").glob("*.service")) + list((base / "node-etc" / "units").glob("*.service"))
    return {p.stem: p for p in units}


def help_flags(help_text: str) -> set[str]:
    """The long options a --help text lists, as whole tokens (so --node does not match --node-ip)."""
    return set(re.findall(r"(?<![\w-])(--[A-Za-z0-9][A-Za-z0-9-]*)", help_text))


def _unknown_flags(argv: list[str]) -> list[str]:
    result = _run(str(argv[0]), "--help")
    assert result.returncode == 0, f"{argv[0]} --help failed: {result.stderr}"
    listed = help_flags(result.stdout)
    return [a for a in argv[1:] if a.startswith("--") and a.split("=", 1)[0] not in listed]


def _require_module(unit: str) -> None:
    probe = _run(sys.executable, "-c", f"import {MODULES[unit]}", cwd=ROOT)
    assert probe.returncode == 0, f"{unit}: {MODULES[unit]} does not import:\n{probe.stderr}"


def _require_tool(name: str, why: str = "scripts/install-deps installs it") -> None:
    if shutil.which(name) is None:
        pytest.fail(f"{name} is not installed ({why})")


def test_help_flags_are_whole_tokens() -> None:
    listed = help_flags("usage: x [--node-ip NODE_IP] [--kubeconfig=PATH]\n  --v, --log-level LEVEL")
    assert listed == {"--node-ip", "--kubeconfig", "--v", "--log-level"}
    assert "--node" not in listed


def test_install_scripts_render_every_unit(rendered: dict[str, Path]) -> None:
    assert sorted(rendered) == UNITS
    assert len(UNITS) == 7


@pytest.mark.parametrize("unit", UNITS)
def test_unit_passes_systemd_analyze_verify(rendered: dict[str, Path], unit: str) -> None:
    _require_tool("systemd-analyze")
    result = _run("systemd-analyze", "verify", str(rendered[unit]))
    assert result.returncode == 0 and "rror" not in result.stderr, result.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_unit_command_line_is_complete(rendered: dict[str, Path], unit: str) -> None:
    assert undefined_variables(str(rendered[unit])) == []
    argv = command_line(str(rendered[unit]))
    assert os.access(argv[0], os.X_OK), f"{argv[0]} is not executable"
    assert not [a for a in argv if "$" in a or "@" in a], argv


@pytest.mark.parametrize("unit", [u for u in UNITS if u.startswith("skiff-")])
def test_unit_flags_exist_in_the_component(rendered: dict[str, Path], unit: str) -> None:
    _require_module(unit)
    unknown = _unknown_flags(command_line(str(rendered[unit])))
    assert not unknown, f"{unit}: --help does not list {unknown}"


def test_units_run_everything_with_tls_and_own_identities(rendered: dict[str, Path]) -> None:
    api = command_line(str(rendered["skiff-apiserver"]))
    pki = rendered["skiff-apiserver"].parents[1] / "pki"
    for flag, file in (("--tls-cert-file", "apiserver.crt"), ("--client-ca-file", "ca.crt"),
                       ("--kubelet-client-certificate", "kube-apiserver-kubelet-client.crt")):
        assert api[api.index(flag) + 1] == str(pki / file)
        assert (pki / file).exists(), file
    assert "--insecure-dev" not in api
    for unit, conf in (("skiff-scheduler", "scheduler.conf"), ("skiff-controller-manager", "controller-manager.conf"),
                       ("skiff-agent", "node-node-1.conf")):
        argv = command_line(str(rendered[unit]))
        assert argv[argv.index("--kubeconfig") + 1] == str(pki / conf), unit


def test_install_node_refuses_to_run_without_a_kubeconfig(tmp_path: Path) -> None:
    node = _run(str(ROOT / "scripts/install-node"), "--no-systemd", "--skip-deps", "--no-build-images",
                "--config-dir", str(tmp_path / "etc"), "--state-dir", str(tmp_path / "var"),
                "--apiserver", "192.168.56.10:6443", "--node-ip", "192.168.56.11", "--node-name", "node-1")
    assert node.returncode != 0
    assert "--kubeconfig" in node.stderr and "node-node-1.conf" in node.stderr


async def test_control_plane_runs_from_its_units_with_etcd_tls(tmp_path: Path) -> None:
    """The Vagrant control plane's etcd (client TLS), TLS apiserver and scheduler, started with the units'
    command lines: the admin's config works, and so does kubectl with the admin's kubeconfig (the REST
    port), a plaintext client is refused, the scheduler (its own identity, bootstrap RBAC) takes its
    leader lease."""
    _require_module("skiff-apiserver")
    etcd_port, peer_port, api_port, rest_port = free_port(), free_port(), free_port(), free_port()
    cp = _run(str(ROOT / "scripts/install-control-plane"), "--no-systemd", "--skip-deps", "--etcd-tls",
              "--config-dir", str(tmp_path / "etc"), "--state-dir", str(tmp_path / "var"),
              "--etcd-client-port", str(etcd_port), "--etcd-peer-port", str(peer_port),
              "--apiserver-port", str(api_port), "--rest-port", str(rest_port))
    assert cp.returncode == 0, cp.stderr
    units = tmp_path / "etc" / "units"
    etcd_argv = command_line(str(units / "etcd.service"))
    assert "--client-cert-auth" in etcd_argv
    assert etcd_argv[etcd_argv.index("--listen-client-urls") + 1] == f"https://127.0.0.1:{etcd_port}"
    log = open(tmp_path / "control-plane.log", "w")
    started = [subprocess.Popen(etcd_argv, stdout=log, stderr=subprocess.STDOUT)]
    try:
        wait_for(lambda: port_open(etcd_port), timeout=15, what="etcd with TLS")
        started.append(subprocess.Popen(command_line(str(units / "skiff-apiserver.service")),
                                        stdout=log, stderr=subprocess.STDOUT))
        wait_for(lambda: port_open(api_port) or started[1].poll() is not None, timeout=30, what="apiserver")
        assert started[1].poll() is None, (tmp_path / "control-plane.log").read_text()
        admin = load_client_config(str(tmp_path / "etc" / "skiffctl.yaml"))
        async with Client(f"127.0.0.1:{api_port}", config=admin) as client:
            namespaces, _ = await client.list_all("namespaces")
            assert "kube-system" in {n.metadata.name for n in namespaces}
            wait_for(lambda: port_open(rest_port), timeout=15, what="the REST port")
            kubeconfig = tmp_path / "etc" / "admin.kubeconfig"
            kubectl = _run(kubectl_binary(), "get", "namespaces", "-o", "name",
                           env={**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)})
            assert "namespace/kube-system" in kubectl.stdout.split(), kubectl.stderr
            started.append(subprocess.Popen(command_line(str(units / "skiff-scheduler.service")),
                                            stdout=log, stderr=subprocess.STDOUT))
            await eventually(lambda: _lease_holder(client, "kube-scheduler"), timeout=30,
                             what="the scheduler's leader lease")
        async with Client(f"127.0.0.1:{api_port}", config=ClientConfig(insecure=True)) as plain:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await plain.list("namespaces")
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        for proc in reversed(started):
            stop(proc)
        log.close()


async def _lease_holder(client: Client, name: str) -> bool:
    lease = await client.get("lease", name, "kube-system")
    return bool(lease.spec.holder_identity)


def test_node_env_pins_the_node_ip(rendered: dict[str, Path]) -> None:
    argv = command_line(str(rendered["skiff-agent"]))
    assert argv[argv.index("--node-ip") + 1] == "192.168.56.11"
    assert argv[argv.index("--node-name") + 1] == "node-1"
    hosts = rendered["skiff-agent"].parents[2] / "node-var" / "containerd" / "certs.d" / "localhost:5000"
    assert 'host."http://192.168.56.1:5000"' in (hosts / "hosts.toml").read_text()


def test_ingress_controller_unit_serves_the_node_address(rendered: dict[str, Path]) -> None:
    argv = command_line(str(rendered["skiff-ingress-controller"]))
    assert argv[argv.index("--address") + 1] == "192.168.56.11"
    assert (argv[argv.index("--http-port") + 1], argv[argv.index("--https-port") + 1]) == ("80", "443")
    published = [argv[i + 1] for i, a in enumerate(argv) if a == "--publish-address"]
    assert published == ["192.168.56.11", "192.168.56.12"]
    assert argv[argv.index("--controller-class") + 1] == "k8s.io/ingress-nginx"


def _vagrant(tmp_path: Path, workers: str, control_planes: str = "1") -> subprocess.CompletedProcess:
    _require_tool("vagrant", "scripts/install-deps installs Debian's")
    env = {**os.environ, "VAGRANT_HOME": str(tmp_path / "home"), "SKIFF_WORKERS": workers,
           "SKIFF_CONTROL_PLANES": control_planes,
           "VAGRANT_DOTFILE_PATH": str(tmp_path / "dot"), "VAGRANT_CHECKPOINT_DISABLE": "1"}
    return _run("vagrant", "validate", "--ignore-provider", cwd=ROOT / "vagrant", env=env)


def test_vagrantfile_validates(tmp_path: Path) -> None:
    result = _vagrant(tmp_path, "3")
    assert result.returncode == 0, result.stdout + result.stderr
    for machine in ("control-plane", "node-1", "node-2", "node-3"):
        assert f"{machine}:" in result.stdout


def test_vagrantfile_makes_three_control_plane_members(tmp_path: Path) -> None:
    result = _vagrant(tmp_path, "2", control_planes="3")
    assert result.returncode == 0, result.stdout + result.stderr
    for machine in ("control-plane", "control-plane-2", "control-plane-3", "node-1", "node-2"):
        assert f"{machine}:" in result.stdout
    even = _vagrant(tmp_path, "2", control_planes="2")
    assert even.returncode != 0 and "SKIFF_CONTROL_PLANES" in even.stdout + even.stderr


def test_vagrant_pki_for_three_members_lists_every_apiserver(tmp_path: Path) -> None:
    _require_tool("ruby", "vagrant brings it")
    runner = tmp_path / "run.rb"
    runner.write_text("module Vagrant\n  def self.configure(_version); end\nend\nload ARGV[0]\nmake_skiff_pki\n")
    env = {**os.environ, "SKIFF_PKI_DIR": str(tmp_path / "pki"), "SKIFF_WORKERS": "1", "SKIFF_CONTROL_PLANES": "3"}
    result = _run("ruby", str(runner), str(ROOT / "vagrant" / "Vagrantfile"), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    config = load_client_config(str(tmp_path / "pki" / "node-1" / "node-node-1.conf"))
    assert config.server == "192.168.56.10:6443,192.168.56.9:6443,192.168.56.8:6443"
    key = tmp_path / "pki" / "cluster" / "encryption.key"
    assert len(base64.b64decode(key.read_text())) == 32 and oct(key.stat().st_mode & 0o777) == "0o600"


def test_vagrantfile_rejects_a_bad_worker_count(tmp_path: Path) -> None:
    result = _vagrant(tmp_path, "0")
    assert result.returncode != 0
    assert "SKIFF_WORKERS" in result.stdout + result.stderr


def test_shell_scripts_pass_shellcheck() -> None:
    _require_tool("shellcheck")
    result = _run("shellcheck", *SHELL_SCRIPTS, cwd=ROOT)
    assert result.returncode == 0, result.stdout


def test_etcd_serves_only_clients_with_the_generated_certs(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    made = _run(sys.executable, str(ROOT / "scripts/certs"), str(pki), "etcd", "--ip", "127.0.0.1")
    assert made.returncode == 0, made.stderr
    ca_before = (pki / "ca.crt").read_bytes()
    assert _run(sys.executable, str(ROOT / "scripts/certs"), str(pki), "etcd", "--ip", "127.0.0.1").returncode == 0
    assert (pki / "ca.crt").read_bytes() == ca_before, "a second run must keep the CA"
    assert oct((pki / "ca.key").stat().st_mode & 0o777) == "0o600"

    port, peer = free_port(), free_port()
    url = f"https://127.0.0.1:{port}"
    etcd = subprocess.Popen(
        ["etcd", "--name", "t", "--data-dir", str(tmp_path / "data"), "--listen-client-urls", url,
         "--advertise-client-urls", url, "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"t=http://127.0.0.1:{peer}", "--log-level", "error",
         "--cert-file", str(pki / "etcd-server.crt"), "--key-file", str(pki / "etcd-server.key"),
         "--client-cert-auth", "--trusted-ca-file", str(pki / "ca.crt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: port_open(port), timeout=15, what="etcd with TLS")
        base = ["etcdctl", "--endpoints", url, "--cacert", str(pki / "ca.crt"), "--dial-timeout", "3s"]
        env = {**os.environ, "ETCDCTL_API": "3"}
        with_cert = _run(*base, "--cert", str(pki / "apiserver-etcd-client.crt"),
                         "--key", str(pki / "apiserver-etcd-client.key"), "put", "k", "v", env=env)
        assert with_cert.returncode == 0, with_cert.stderr
        without = _run(*base, "--command-timeout", "3s", "get", "k", env=env)
        assert without.returncode != 0
    finally:
        stop(etcd)


def test_vagrant_pki_gives_each_worker_only_its_own_credentials(tmp_path: Path) -> None:
    """The Vagrantfile's `before :up` trigger, run with a stand-in Vagrant module: the control plane's
    folder holds the whole PKI, each worker's only the CA certificate and its node identity."""
    _require_tool("ruby", "vagrant brings it")
    runner = tmp_path / "run.rb"
    runner.write_text("module Vagrant\n  def self.configure(_version); end\nend\nload ARGV[0]\nmake_skiff_pki\n")
    env = {**os.environ, "SKIFF_PKI_DIR": str(tmp_path / "pki"), "SKIFF_WORKERS": "2"}

    def make() -> None:
        result = _run("ruby", str(runner), str(ROOT / "vagrant" / "Vagrantfile"), env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    make()
    cluster = tmp_path / "pki" / "cluster"
    ca = (cluster / "ca.crt").read_bytes()
    assert (cluster / "ca.key").exists() and (cluster / "admin.crt").exists()
    for node in ("node-1", "node-2"):
        bundle = tmp_path / "pki" / node
        assert sorted(p.name for p in bundle.iterdir()) == sorted(
            ["ca.crt", f"node-{node}.crt", f"node-{node}.key", f"node-{node}.conf",
             "ingress-controller.crt", "ingress-controller.key", "ingress-controller.conf"])
        ingress = load_client_config(str(bundle / "ingress-controller.conf"))
        cert = x509.load_pem_x509_certificate(Path(ingress.client_certificate).read_bytes())
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "skiff-ingress-controller"
        assert not cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)  # no group
        config = load_client_config(str(bundle / f"node-{node}.conf"))
        assert config.server == "192.168.56.10:6443"
        cert = x509.load_pem_x509_certificate(Path(config.client_certificate).read_bytes())
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"system:node:{node}"
    make()
    assert (cluster / "ca.crt").read_bytes() == ca, "a second `vagrant up` must keep the CA"
