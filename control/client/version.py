"""Skiff's version in Kubernetes' terms (k8s.io/apimachinery's version.Info): the Kubernetes minor
whose API and behaviour it follows, `-skiff` marking the implementation. The apiserver serves it
(`Version.Get`, and GET /version on the REST port), skiffctl prints it as `version`'s client and server halves,
and agents report it as their kubelet version.

The Go-specific fields carry their Python counterparts: goVersion is the interpreter's version,
compiler its implementation."""

from __future__ import annotations

import platform
import sys
from typing import Any

# kubectl on some machines is a dispatcher choosing its release by the server's minor version.
MAJOR, MINOR = "1", "32"
GIT_VERSION = f"v{MAJOR}.{MINOR}.0+skiff"
_MACHINES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


def version_info() -> dict[str, Any]:
    """version.Info as JSON, for this process."""
    machine = platform.machine().lower()
    return {"major": MAJOR, "minor": MINOR, "gitVersion": GIT_VERSION, "gitCommit": "", "gitTreeState": "",
            "buildDate": "", "goVersion": f"python{platform.python_version()}",
            "compiler": sys.implementation.name, "platform": f"{sys.platform}/{_MACHINES.get(machine, machine)}"}
