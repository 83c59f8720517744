"""Reads systemd units the way systemd would start them, so the lab runs the units' own command lines."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Unit:
    path: str
    exec_start: str
    exec_start_pre: list[str] = field(default_factory=list)
    environment_files: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)


def read_env_file(path: str) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments, optional quotes)."""
    env: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")) or "=" not in line:
                continue
            key, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def _service_lines(path: str) -> list[tuple[str, str]]:
    section, pairs, pending = "", [], ""
    with open(path) as f:
        for raw in f:
            line = pending + raw.rstrip("\n")
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            stripped = line.strip()
            if stripped.startswith("[") and stripped.endswith("]"):
                section = stripped[1:-1]
            elif section == "Service" and "=" in stripped and not stripped.startswith(("#", ";")):
                key, value = stripped.split("=", 1)
                pairs.append((key.strip(), value.strip()))
    return pairs


def read_unit(path: str) -> Unit:
    unit = Unit(path=path, exec_start="")
    for key, value in _service_lines(path):
        if key == "ExecStart":
            unit.exec_start = value
        elif key == "ExecStartPre":
            unit.exec_start_pre.append(value)
        elif key == "EnvironmentFile":
            unit.environment_files.append(value)
        elif key == "Environment":
            for word in shlex.split(value):
                name, _, val = word.partition("=")
                unit.environment[name] = val
    if not unit.exec_start:
        raise ValueError(f"{path}: no ExecStart= in [Service]")
    return unit


def unit_environment(unit: Unit) -> dict[str, str]:
    env = dict(unit.environment)
    for spec in unit.environment_files:
        optional = spec.startswith("-")
        path = spec.lstrip("-")
        if optional and not os.path.exists(path):
            continue
        env.update(read_env_file(path))
    return env


def expand(command: str, env: dict[str, str]) -> list[str]:
    """systemd's rules: "$VAR" as a whole word splits into words; "${VAR}" stays one word."""
    command = command.lstrip("-@+!:")
    argv: list[str] = []
    for word in shlex.split(command):
        whole = _WHOLE_VAR.fullmatch(word)
        if whole:
            argv.extend(env.get(whole.group(1), "").split())
            continue
        argv.append(_VAR.sub(lambda m: env.get(m.group(1), ""), word))
    return argv


def command_line(path: str) -> list[str]:
    """The argv systemd would run for the unit's ExecStart=."""
    unit = read_unit(path)
    return expand(unit.exec_start, unit_environment(unit))


def undefined_variables(path: str) -> list[str]:
    """Variables the unit's ExecStart= uses that neither Environment= nor its EnvironmentFile= set."""
    unit = read_unit(path)
    env = unit_environment(unit)
    used = set(_VAR.findall(unit.exec_start)) | set(_WHOLE_VAR.findall(unit.exec_start))
    return sorted(used - env.keys())
