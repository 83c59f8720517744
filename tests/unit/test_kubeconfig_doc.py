"""The kubeconfig document: contexts resolved to client settings, flat files converted, views."""

from __future__ import annotations

import base64

import pytest
import yaml

from control.client import kubeconfig_doc as kd
from control.client.kubeconfig import ConfigError, load_client_config

DOC = {"apiVersion": "v1", "kind": "Config", "current-context": "dev",
       "clusters": [{"name": "dev", "cluster": {"server": "https://10.0.0.1:6443", "tls-server-name": "kubernetes",
                                                "certificate-authority": "ca.crt"}},
                    {"name": "lab", "cluster": {"server": "http://127.0.0.1:8080",
                                                "certificate-authority-data": base64.b64encode(b"PEM").decode()}}],
       "users": [{"name": "jane", "user": {"token": "t0k"}},
                 {"name": "admin", "user": {"client-certificate": "/abs/admin.crt", "client-key": "admin.key"}}],
       "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": "jane", "namespace": "team"}},
                    {"name": "lab", "context": {"cluster": "lab", "user": "admin"}},
                    {"name": "broken", "context": {"cluster": "nowhere", "user": "jane"}}]}


def test_resolve_contexts():
    assert kd.resolve(DOC, "/etc/skiff") == {"namespace": "team", "server": "https://10.0.0.1:6443",
                                             "certificate-authority": "/etc/skiff/ca.crt",
                                             "tls-server-name": "kubernetes", "token": "t0k"}
    lab = kd.resolve(DOC, "/etc/skiff", "lab")
    assert lab == {"server": "http://127.0.0.1:8080", "insecure": True, "certificate-authority-data": b"PEM",
                   "client-certificate": "/abs/admin.crt", "client-key": "/etc/skiff/admin.key"}
    with pytest.raises(kd.DocumentError, match="context was not found for specified context: nope"):
        kd.resolve(DOC, "/", "nope")
    with pytest.raises(kd.DocumentError, match='cluster "nowhere" of context "broken" was not found'):
        kd.resolve(DOC, "/", "broken")
    assert kd.resolve(kd.normalized({"kind": "Config"}), "/") == {}


def test_load_client_config_from_either_shape(tmp_path):
    path = tmp_path / "config"
    path.write_text("server: 127.0.0.1:6443\nnamespace: ns1\ntoken: abc\n")
    flat = load_client_config(str(path))
    assert (flat.server, flat.namespace, flat.token) == ("127.0.0.1:6443", "ns1", "abc")
    assert load_client_config(str(path), "default").namespace == "ns1"  # the flat file's one context
    path.write_text(yaml.safe_dump(DOC))
    cfg = load_client_config(str(path))
    assert (cfg.server, cfg.target, cfg.namespace, cfg.token) == ("https://10.0.0.1:6443", "10.0.0.1:6443", "team",
                                                                  "t0k")
    assert cfg.certificate_authority == str(tmp_path / "ca.crt")
    assert load_client_config(str(path), "lab").certificate_authority_data == b"PEM"
    with pytest.raises(ConfigError, match="context was not found"):
        load_client_config(str(path), "nope")


def test_from_flat_and_views():
    doc = kd.from_flat({"server": ["a:6443", "b:6443"], "namespace": "x", "client-certificate": "c.crt",
                        "client-key": "c.key", "certificate-authority": "ca.crt"})
    assert doc["contexts"] == [{"context": {"cluster": "default", "user": "default", "namespace": "x"},
                                "name": "default"}]
    assert doc["clusters"][0]["cluster"]["server"] == "a:6443,b:6443"
    red = kd.redacted(DOC)
    assert red["users"][0]["user"]["token"] == "REDACTED"
    assert red["clusters"][1]["cluster"]["certificate-authority-data"] == "DATA+OMITTED"
    mini = kd.minified(DOC)
    assert [c["name"] for c in mini["clusters"]] == ["dev"] and [u["name"] for u in mini["users"]] == ["jane"]
    with pytest.raises(kd.DocumentError, match="current-context must exist in order to minify"):
        kd.minified(kd.normalized({}))
    printed = kd.for_printing(kd.normalized({}), json_order=False)
    assert printed["clusters"] is None and printed["current-context"] == ""
    assert [c["name"] for c in kd.for_printing(DOC, json_order=True)["contexts"]] == ["broken", "dev", "lab"]
