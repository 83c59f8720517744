"""skiffctl's configuration: the client config file (--kubeconfig, $SKIFFCONFIG, ~/.skiff/config) plus flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from control.client import kubeconfig
from control.client.kubeconfig import DEFAULT_NAMESPACE, DEFAULT_SERVER, ClientConfig, ConfigError, config_path

Config = ClientConfig

__all__ = ["DEFAULT_NAMESPACE", "DEFAULT_SERVER", "Config", "ConfigError", "Overrides", "config_path",
           "load_config", "resolve"]


def load_config(path: str | None = None) -> Config:
    return kubeconfig.load_client_config(path)


@dataclass
class Overrides:
    """Command-line flags that replace the file's values (kubectl's names); None = not given."""
    kubeconfig: str | None = None
    context: str | None = None
    server: str | None = None
    namespace: str | None = None
    token: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None


def resolve(server: str | None = None, namespace: str | None = None, overrides: Overrides | None = None) -> Config:
    """The config file with the flags applied on top (paths on the command line are relative to the cwd)."""
    o = overrides or Overrides()
    cfg = kubeconfig.load_client_config(o.kubeconfig, o.context or "")
    given = {"server": server or o.server, "namespace": namespace or o.namespace, "token": o.token}
    for key in ("certificate_authority", "client_certificate", "client_key"):
        path = getattr(o, key)
        given[key] = os.path.abspath(path) if path else None
    return replace(cfg, **{k: v for k, v in given.items() if v})
