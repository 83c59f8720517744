"""skiffctl's configuration: ~/.skiff/config (or $SKIFFCONFIG) plus command-line overrides."""

from __future__ import annotations

import os
from dataclasses import dataclass

import yaml

DEFAULT_SERVER = "127.0.0.1:6443"
DEFAULT_NAMESPACE = "default"


class ConfigError(ValueError):
    pass


@dataclass
class Config:
    server: str = DEFAULT_SERVER
    namespace: str = DEFAULT_NAMESPACE
    token: str = ""


def config_path() -> str:
    return os.environ.get("SKIFFCONFIG") or os.path.join(os.path.expanduser("~"), ".skiff", "config")


def load_config(path: str | None = None) -> Config:
    """Reads the config file; a missing file means the defaults."""
    path = path or config_path()
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except FileNotFoundError:
        return Config()
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"error loading config file \"{path}\": {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f'error loading config file "{path}": expected a mapping')
    return _from_mapping(data, path)


def _from_mapping(data: dict, path: str) -> Config:
    cfg = Config()
    for key in ("server", "namespace", "token"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise ConfigError(f'error loading config file "{path}": {key}: must be a non-empty string')
        setattr(cfg, key, value)
    return cfg


def resolve(server: str | None, namespace: str | None) -> Config:
    """The config file with --server and -n applied on top."""
    cfg = load_config()
    if server:
        cfg.server = server
    if namespace:
        cfg.namespace = namespace
    return cfg
