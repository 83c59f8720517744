"""Channels from make_channel against a real TLS gRPC server, and skiffctl's TLS errors.

The server is a small grpc.aio server on loopback that answers with what it saw of the caller:
the CN of its client certificate and its authorization metadata.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path

import grpc
import pytest

from control.cli.main import main as skiffctl
from control.client.kubeconfig import ClientConfig, make_channel

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from lablib import pki  # noqa: E402

METHOD = "/skiff.test.Echo/Who"


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tls-pki")
    pki.make_apiserver(str(d))
    pki.make_client(str(d), "alice", "alice", ["dev"])
    other = d / "other"
    pki.make_ca(str(other))  # a CA that signed nothing the server has
    return d


async def _who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    pems = context.auth_context().get("x509_common_name", [])
    metadata = dict(context.invocation_metadata() or ())
    return json.dumps({"cn": [p.decode() for p in pems], "authorization": metadata.get("authorization", "")}).encode()


def _credentials(certs: Path, require_client_auth: bool) -> grpc.ServerCredentials:
    pair = ((certs / "apiserver.key").read_bytes(), (certs / "apiserver.crt").read_bytes())
    if not require_client_auth:
        return grpc.ssl_server_credentials([pair])
    return grpc.ssl_server_credentials([pair], root_certificates=(certs / "ca.crt").read_bytes(),
                                       require_client_auth=True)


@pytest.fixture
async def server(certs: Path):
    """Ports: mutual TLS (client certificate from the CA required), server-only TLS, plaintext."""
    handler = grpc.method_handlers_generic_handler("skiff.test.Echo",
                                                   {"Who": grpc.unary_unary_rpc_method_handler(_who)})
    s = grpc.aio.server()
    s.add_generic_rpc_handlers((handler,))
    ports = (s.add_secure_port("127.0.0.1:0", _credentials(certs, True)),
             s.add_secure_port("127.0.0.1:0", _credentials(certs, False)),
             s.add_insecure_port("127.0.0.1:0"))
    await s.start()
    yield ports
    await s.stop(None)


async def call(target: str, config: ClientConfig) -> dict:
    async with make_channel(target, config) as channel:
        return json.loads(await channel.unary_unary(METHOD)(b"", timeout=10))


def config(certs: Path, **kw) -> ClientConfig:
    return ClientConfig(certificate_authority=str(certs / "ca.crt"), **kw)


async def test_right_ca_with_client_cert_and_token(certs, server):
    alice = config(certs, client_certificate=str(certs / "alice.crt"), client_key=str(certs / "alice.key"))
    assert await call(f"127.0.0.1:{server[0]}", alice) == {"cn": ["alice"], "authorization": ""}
    got = await call(f"127.0.0.1:{server[0]}", config(certs, client_certificate=alice.client_certificate,
                                                       client_key=alice.client_key, token="both"))
    assert got == {"cn": ["alice"], "authorization": "Bearer both"}
    got = await call(f"127.0.0.1:{server[1]}", config(certs, token="s3cret"))
    assert got == {"cn": [], "authorization": "Bearer s3cret"}
    with pytest.raises(grpc.aio.AioRpcError) as e:  # mutual TLS: no client certificate, no connection
        await call(f"127.0.0.1:{server[0]}", config(certs, token="s3cret"))
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_server_name_override_verifies_another_name(certs, server):
    # "localhost" and "kubernetes" are in the serving cert; "elsewhere" is not.
    assert await call(f"localhost:{server[1]}", config(certs)) == {"cn": [], "authorization": ""}
    assert (await call(f"127.0.0.1:{server[1]}", config(certs, tls_server_name="kubernetes")))["cn"] == []
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call(f"127.0.0.1:{server[1]}", config(certs, tls_server_name="elsewhere"))
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_wrong_ca_fails(certs, server):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call(f"127.0.0.1:{server[1]}", ClientConfig(certificate_authority=str(certs / "other" / "ca.crt")))
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_tls_client_to_plaintext_server_fails_and_insecure_sends_the_token(certs, server):
    with pytest.raises(grpc.aio.AioRpcError):
        await call(f"127.0.0.1:{server[2]}", config(certs))
    got = await call(f"127.0.0.1:{server[2]}", ClientConfig(insecure=True, token="dev"))
    assert got == {"cn": [], "authorization": "Bearer dev"}


def test_skiffctl_explains_tls_and_file_errors(certs, tmp_path, monkeypatch, capsys):
    # The TLS server runs on its own loop in a thread: skiffctl's main() runs its own asyncio.run.
    ready, stop = threading.Event(), threading.Event()
    ports: list[int] = []

    def serve() -> None:
        async def run() -> None:
            s = grpc.aio.server()
            ports.append(s.add_secure_port("127.0.0.1:0", _credentials(certs, False)))
            await s.start()
            ready.set()
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)
            await s.stop(None)
        asyncio.run(run())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        conf = tmp_path / "config"
        conf.write_text(f"server: 127.0.0.1:{ports[0]}\ncertificate-authority: {certs / 'other' / 'ca.crt'}\n")
        monkeypatch.setenv("SKIFFCONFIG", str(conf))
        assert skiffctl(["get", "ns"]) == 1
        err = capsys.readouterr().err
        assert "Unable to connect to the server: tls: failed to verify certificate" in err
        assert "Traceback" not in err
        assert skiffctl(["get", "ns", "--client-certificate", str(tmp_path / "nope.crt"),
                         "--client-key", str(tmp_path / "nope.key")]) == 1
        err = capsys.readouterr().err
        assert f'unable to read client-certificate "{tmp_path / "nope.crt"}"' in err and "Traceback" not in err
    finally:
        stop.set()
        thread.join(10)
