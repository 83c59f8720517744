"""control/client/kubeconfig.py: the client config file every client reads, and the credentials built from it."""

from __future__ import annotations

import os

import pytest

from control.client.kubeconfig import (
    DEFAULT_NAMESPACE,
    DEFAULT_SERVER,
    ClientConfig,
    ConfigError,
    channel_credentials,
    load_client_config,
)


def write(tmp_path, text: str) -> str:
    path = tmp_path / "config"
    path.write_text(text)
    return str(path)


def test_every_key_and_paths_relative_to_the_file(tmp_path):
    path = write(tmp_path, "server: 10.0.0.1:6443\nnamespace: team\ncertificate-authority: pki/ca.crt\n"
                           "client-certificate: /abs/admin.crt\nclient-key: ~/admin.key\ntoken: abc\n"
                           "tls-server-name: kubernetes\ninsecure: false\n")
    cfg = load_client_config(path)
    assert cfg == ClientConfig(server="10.0.0.1:6443", namespace="team",
                               certificate_authority=str(tmp_path / "pki" / "ca.crt"),
                               client_certificate="/abs/admin.crt",
                               client_key=os.path.expanduser("~/admin.key"), token="abc",
                               tls_server_name="kubernetes", insecure=False)


def test_missing_or_empty_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("SKIFFCONFIG", str(tmp_path / "missing"))
    assert load_client_config() == ClientConfig()
    assert (ClientConfig().server, ClientConfig().namespace) == (DEFAULT_SERVER, DEFAULT_NAMESPACE)
    assert load_client_config(write(tmp_path, "")) == ClientConfig()


def test_skiffconfig_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SKIFFCONFIG", write(tmp_path, "server: a:1\ninsecure: true\n"))
    cfg = load_client_config()
    assert (cfg.server, cfg.insecure, cfg.target) == ("a:1", True, "a:1")
    assert ClientConfig(server="https://b:2").target == "b:2"


@pytest.mark.parametrize("text, message", [
    ("server: [a, {b: 1}]\n", "server: must be HOST:PORT or a list of them"),
    ("namespace: ''\n", "namespace: must be a non-empty string"),
    ("token: 12\n", "token: must be a non-empty string"),
    ("client-key: {a: 1}\n", "client-key: must be a non-empty string"),
    ("insecure: 'yes'\n", "insecure: must be true or false"),
    ("certificate-authorty: ca.crt\n", "unknown key 'certificate-authorty'"),
    ("- just a list\n", "expected a mapping"),
    ("server: [\n", "error loading config file"),
])
def test_bad_config_names_the_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as e:
        load_client_config(path)
    assert path in str(e.value)


def test_credentials_need_readable_files(tmp_path):
    with pytest.raises(ConfigError, match=r'unable to read certificate-authority ".*/nope.crt"'):
        channel_credentials(ClientConfig(certificate_authority=str(tmp_path / "nope.crt")))
    with pytest.raises(ConfigError, match="client-certificate and client-key must be given together"):
        channel_credentials(ClientConfig(client_certificate=str(tmp_path / "a.crt")))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a pem, but readable")
    with pytest.raises(ConfigError, match='certificate-authority ".*garbage.pem": .* any valid PEM certificate'):
        channel_credentials(ClientConfig(certificate_authority=str(garbage)))


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from lablib import pki
    d = tmp_path_factory.mktemp("pki")
    pki.make_client(str(d), "alice", "alice")
    pki.make_client(str(d), "bob", "bob")
    return d


def test_client_pair_is_checked(pki_dir, tmp_path):
    ca, alice_crt, alice_key = (str(pki_dir / n) for n in ("ca.crt", "alice.crt", "alice.key"))
    assert channel_credentials(ClientConfig(certificate_authority=ca, client_certificate=alice_crt,
                                            client_key=alice_key, token="t")) is not None
    with pytest.raises(ConfigError, match='client-key ".*bob.key" does not match client-certificate ".*alice.crt"'):
        channel_credentials(ClientConfig(client_certificate=alice_crt, client_key=str(pki_dir / "bob.key")))
    with pytest.raises(ConfigError, match="unable to read client-key"):
        channel_credentials(ClientConfig(client_certificate=alice_crt, client_key=str(tmp_path / "missing.key")))
    with pytest.raises(ConfigError, match="does not contain a valid unencrypted PEM private key"):
        channel_credentials(ClientConfig(client_certificate=alice_crt, client_key=alice_crt))


def test_components_read_kubeconfig_and_apiserver_overrides(tmp_path, monkeypatch):
    from control.client.component import client_config
    from control.controllers.main import parse_args as controller_manager_args
    from control.scheduler.main import parse_args as scheduler_args
    from node.main import parse_args as agent_args
    from node.network.__main__ import parse_args as network_args

    monkeypatch.delenv("SKIFF_APISERVER", raising=False)
    conf = write(tmp_path, "server: 10.0.0.9:6443\ncertificate-authority: ca.crt\ntoken: t\n")
    parsers = [scheduler_args, controller_manager_args, agent_args, lambda a: network_args(a + ["--node-name", "n"])[0]]
    for parse in parsers:
        cfg = client_config(parse(["--kubeconfig", conf]))
        assert (cfg.server, cfg.token, cfg.certificate_authority) == ("10.0.0.9:6443", "t", str(tmp_path / "ca.crt"))
        assert client_config(parse(["--kubeconfig", conf, "--apiserver", "127.0.0.1:7"])).server == "127.0.0.1:7"
    monkeypatch.setenv("SKIFFCONFIG", conf)
    assert client_config(scheduler_args([])).server == "10.0.0.9:6443"
    bad = write(tmp_path, "sever: x\n")
    with pytest.raises(SystemExit, match="--kubeconfig: .*unknown key 'sever'"):
        client_config(agent_args(["--kubeconfig", bad]))


def test_embedded_credentials_are_checked(pki_dir):
    alice_crt, alice_key, bob_key = ((pki_dir / n).read_bytes() for n in ("alice.crt", "alice.key", "bob.key"))
    ca = (pki_dir / "ca.crt").read_bytes()
    assert channel_credentials(ClientConfig(certificate_authority_data=b"junk before\n" + ca,
                                            client_certificate_data=alice_crt, client_key_data=alice_key))
    with pytest.raises(ConfigError, match="does not match client-certificate"):
        channel_credentials(ClientConfig(client_certificate_data=alice_crt, client_key_data=bob_key))
    with pytest.raises(ConfigError, match="client-key-data: the file does not contain a valid unencrypted PEM"):
        channel_credentials(ClientConfig(client_certificate_data=alice_crt, client_key_data=alice_crt))
    with pytest.raises(ConfigError, match="client-certificate-data: the file does not contain any valid PEM"):
        channel_credentials(ClientConfig(client_certificate_data=alice_key, client_key_data=alice_key))
    broken = ca.replace(b"\n", b"\n!", 3)  # a PEM block whose contents do not parse
    with pytest.raises(ConfigError, match="certificate-authority-data: the file does not contain any valid PEM"):
        channel_credentials(ClientConfig(certificate_authority_data=broken))


def test_encrypted_client_key_is_refused_without_asking_for_a_passphrase(pki_dir):
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key((pki_dir / "alice.key").read_bytes(), None)
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"secret"))
    with pytest.raises(ConfigError, match="does not contain a valid unencrypted PEM private key"):
        channel_credentials(ClientConfig(client_certificate_data=(pki_dir / "alice.crt").read_bytes(),
                                         client_key_data=encrypted))
