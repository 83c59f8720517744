"""skiffctl's config file, argument parsing and resource arguments."""

from __future__ import annotations

import pytest

from control.cli.config import DEFAULT_SERVER, ConfigError, Overrides, load_config, resolve
from control.cli.context import parse_resources
from control.cli.errors import CommandError
from control.cli.main import parse_args
from control.client.kinds import UnknownKindError
from control.client.kubeconfig import failover_target


def test_config_file_env_and_overrides(tmp_path, monkeypatch):
    path = tmp_path / "config"
    path.write_text("server: 10.0.0.1:6443\nnamespace: team\ntoken: abc\n")
    monkeypatch.setenv("SKIFFCONFIG", str(path))
    cfg = load_config()
    assert (cfg.server, cfg.namespace, cfg.token) == ("10.0.0.1:6443", "team", "abc")
    cfg = resolve("127.0.0.1:1", "other")
    assert (cfg.server, cfg.namespace) == ("127.0.0.1:1", "other")
    monkeypatch.setenv("SKIFFCONFIG", str(tmp_path / "missing"))
    assert (load_config().server, load_config().namespace) == (DEFAULT_SERVER, "default")


def test_credential_flags_override_the_file(tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.write_text("server: 10.0.0.2:6443\ncertificate-authority: ca.crt\ntoken: from-file\n")
    monkeypatch.setenv("SKIFFCONFIG", str(tmp_path / "missing"))
    monkeypatch.chdir(tmp_path)
    cfg = resolve(None, None, Overrides(kubeconfig=str(other), token="t", client_certificate="me.crt",
                                        client_key="/k/me.key"))
    assert (cfg.server, cfg.token, cfg.certificate_authority) == ("10.0.0.2:6443", "t", str(tmp_path / "ca.crt"))
    assert (cfg.client_certificate, cfg.client_key) == (str(tmp_path / "me.crt"), "/k/me.key")
    args = parse_args(["get", "po", "--kubeconfig", "k", "--token", "x", "--certificate-authority", "c",
                       "--client-certificate", "cc", "--client-key", "ck"])
    assert (args.kubeconfig, args.token, args.certificate_authority, args.client_certificate,
            args.client_key) == ("k", "x", "c", "cc", "ck")


def test_bad_config(tmp_path):
    path = tmp_path / "config"
    path.write_text("server: [a, {b: 1}]\n")
    with pytest.raises(ConfigError, match="server: must be HOST:PORT or a list of them"):
        load_config(str(path))
    path.write_text("server: {a: b}\n")
    with pytest.raises(ConfigError, match="server: must be a non-empty string"):
        load_config(str(path))
    path.write_text("- just a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(str(path))


def test_several_servers(tmp_path):
    path = tmp_path / "config"
    path.write_text("server: [10.0.0.1:6443, 'https://10.0.0.2:6443']\n")
    assert load_config(str(path)).target == "10.0.0.1:6443,10.0.0.2:6443"
    path.write_text("server: 10.0.0.1:6443, 10.0.0.2:6443\n")
    assert load_config(str(path)).target == "10.0.0.1:6443,10.0.0.2:6443"
    def addresses(target: str) -> tuple[str, set[str]]:
        scheme, _, rest = target.partition(":")
        return scheme, set(rest.split(","))
    assert addresses(failover_target("10.0.0.1:6443,[::1]:6443,10.0.0.2:1")) == (
        "ipv4", {"10.0.0.1:6443", "10.0.0.2:1"})
    assert addresses(failover_target("[::1]:6443,[::2]:6443")) == ("ipv6", {"[::1]:6443", "[::2]:6443"})
    # Clients spread over the servers: each shuffles the order pick_first tries them in.
    firsts = {failover_target(",".join(f"10.0.0.{i}:6443" for i in range(1, 4))).split(",")[0] for _ in range(60)}
    assert len(firsts) == 3
    with pytest.raises(ConfigError, match="expected HOST:PORT"):
        failover_target("10.0.0.1,10.0.0.2:1")


def test_resource_arguments():
    assert [(k.kind, n) for k, n in parse_resources(["po"])] == [("Pod", None)]
    assert [(k.kind, n) for k, n in parse_resources(["deploy", "a", "b"])] == [("Deployment", "a"),
                                                                               ("Deployment", "b")]
    assert [(k.kind, n) for k, n in parse_resources(["svc/a", "deployment.apps/b"])] == [("Service", "a"),
                                                                                          ("Deployment", "b")]
    assert [k.kind for k, _ in parse_resources(["cm,secret,ep,ns,no,rs,ev,leases"])] == [
        "ConfigMap", "Secret", "Endpoints", "Namespace", "Node", "ReplicaSet", "Event", "Lease"]
    assert [k.kind for k, _ in parse_resources(["all"])] == ["Pod", "Service", "DaemonSet", "Deployment",
        "ReplicaSet", "StatefulSet", "HorizontalPodAutoscaler", "CronJob", "Job"]
    with pytest.raises(UnknownKindError):
        parse_resources(["gizmo"])
    with pytest.raises(CommandError):
        parse_resources(["po,svc", "x"])
    with pytest.raises(CommandError):
        parse_resources(["po/"])


def test_flags_before_and_after_the_verb_and_exec_command():
    assert parse_args(["-n", "a", "get", "po"]).namespace == "a"
    assert parse_args(["get", "po", "-n", "b"]).namespace == "b"
    assert parse_args(["get", "po", "-A"]).all_namespaces
    args = parse_args(["exec", "web", "-c", "c1", "--", "ls", "-l", "-n", "x"])
    assert (args.pod, args.container, args.command, args.namespace) == ("web", "c1", ["ls", "-l", "-n", "x"], None)
    assert parse_args(["delete", "po", "x", "--wait=false", "--timeout", "1m30s"]).timeout == 90
    with pytest.raises(SystemExit) as e:
        parse_args(["get", "po", "-o", "table"])
    assert e.value.code == 1
