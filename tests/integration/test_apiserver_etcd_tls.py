"""The apiserver reaching etcd over client TLS (as in the Vagrant lab), with certs from scripts/certs.

etcd's PKI is its own (`scripts/certs DIR etcd`); the apiserver serves its clients with the session's."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile

from control.client.client import Client
from control.client.convert import from_dict
from tests.fixtures.pki import session_pki
from tests.fixtures.procs import free_port, port_open, stop, wait_for


async def test_apiserver_over_etcd_tls():
    work = tempfile.mkdtemp(prefix="skiff-etcd-tls-")
    certs = os.path.join(work, "pki")
    subprocess.run([sys.executable, "scripts/certs", certs, "etcd", "--ip", "127.0.0.1"], check=True,
                   capture_output=True)
    port, peer, api_port = free_port(), free_port(), free_port()
    url = f"https://127.0.0.1:{port}"
    etcd = subprocess.Popen(
        ["etcd", "--data-dir", os.path.join(work, "data"), "--listen-client-urls", url,
         "--advertise-client-urls", url, "--listen-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"default=http://127.0.0.1:{peer}",
         "--cert-file", f"{certs}/etcd-server.crt", "--key-file", f"{certs}/etcd-server.key",
         "--trusted-ca-file", f"{certs}/ca.crt", "--client-cert-auth", "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    key_file = os.path.join(work, "enc.key")
    with open(key_file, "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode())
    api = None
    try:
        wait_for(lambda: port_open(port), timeout=15, what="etcd with TLS")
        api = subprocess.Popen(
            [sys.executable, "-m", "control.apiserver.main", "--etcd-servers", url,
             "--listen", f"127.0.0.1:{api_port}", "--encryption-key-file", key_file,
             "--etcd-cafile", f"{certs}/ca.crt", "--etcd-certfile", f"{certs}/apiserver-etcd-client.crt",
             "--etcd-keyfile", f"{certs}/apiserver-etcd-client.key", *session_pki().apiserver_args(work)],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "apiserver.log"), "w"))
        wait_for(lambda: port_open(api_port) or api.poll() is not None, timeout=20, what="apiserver")
        assert api.poll() is None, open(os.path.join(work, "apiserver.log")).read()
        async with Client(f"127.0.0.1:{api_port}") as c:
            await c.create(from_dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tls"}}))
            assert (await c.get("cm", "tls", "default")).metadata.name == "tls"
        # without a client certificate etcd refuses the apiserver
        bad = subprocess.run(
            [sys.executable, "-m", "control.apiserver.main", "--etcd-servers", url, "--listen",
             f"127.0.0.1:{free_port()}", "--encryption-key-file", key_file, "--etcd-cafile", f"{certs}/ca.crt",
             "--storage-initialization-timeout", "3s", *session_pki().apiserver_args(work)],
            capture_output=True, text=True, timeout=60)
        assert bad.returncode != 0 and "cannot reach etcd" in bad.stderr
    finally:
        if api:
            stop(api)
        stop(etcd)
        subprocess.run(["rm", "-rf", work])
