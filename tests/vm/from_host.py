"""Requests from the host to the Vagrant lab's addresses: plain HTTP and HTTPS with SNI, checked against a CA
of the test's own (scripts/certs)."""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def serving_cert(directory: Path, host: str) -> tuple[Path, Path, Path]:
    """(CA certificate, certificate, key) for `host`, signed by a CA made in `directory`."""
    for args in (["ca"], ["apiserver", "--dns", host]):
        subprocess.run([sys.executable, str(ROOT / "scripts" / "certs"), str(directory), *args], check=True,
                       capture_output=True, timeout=60)
    return directory / "ca.crt", directory / "apiserver.crt", directory / "apiserver.key"


def get(ip: str, port: int = 80, host: str = "", *, cafile: Path | None = None) -> tuple[int, str, str]:
    """(status, Location, body) of GET / on ip:port with Host `host`; with `cafile` over TLS with SNI `host`,
    the server's certificate verified for that name. A failed connection is status 0."""
    try:
        sock = socket.create_connection((ip, port), timeout=5)
        if cafile is not None:
            sock = ssl.create_default_context(cafile=str(cafile)).wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPConnection(ip, port, timeout=5)
        conn.sock = sock
        conn.request("GET", "/", headers={"Host": host or ip})
        response = conn.getresponse()
        return response.status, response.getheader("Location") or "", response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return 0, "", str(e)
