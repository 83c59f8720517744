"""Clients of the real TLS apiserver: skiffctl's credential flags and config file, Client(config=...)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import grpc
import pytest

from control.client.client import Client
from tests.fixtures.skiffctl import run_skiffctl

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from lablib import pki as pkilib  # noqa: E402


@pytest.fixture(scope="module")
def foreign_ca(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("foreign-ca")
    pkilib.make_ca(str(d))
    return str(d / "ca.crt")


def env_with(tmp_path: Path, pki, server: str, **config) -> dict[str, str]:
    path = pki.write_config(tmp_path / "config", server, **config)
    return {**os.environ, "SKIFFCONFIG": str(path)}


async def test_skiffctl_as_admin_token_user_and_flags(apiserver, pki, tmp_path):
    admin = env_with(tmp_path, pki, apiserver.target)
    result = await run_skiffctl(admin, "get", "ns", "default", "-o", "name")
    assert (result.code, result.out.strip()) == (0, "namespace/default"), result.err
    # --token replaces the file's identity; alice holds no rights unless RBAC grants them.
    nobody = env_with(tmp_path, pki, apiserver.target, cert=None)
    result = await run_skiffctl(nobody, "get", "pods", "-n", "dev", f"--token={pki.tokens['alice']}")
    assert result.code == 1
    assert 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace ' \
           '"dev"' in result.err
    # --client-certificate/--client-key/--certificate-authority: the admin again, from a bare config.
    bare = env_with(tmp_path, pki, apiserver.target, cert=None, **{"certificate-authority": None})
    result = await run_skiffctl(bare, "get", "ns", "default", "-o", "name", "--certificate-authority", pki.ca,
                                "--client-certificate", pki.file("admin.crt"), "--client-key", pki.file("admin.key"))
    assert (result.code, result.out.strip()) == (0, "namespace/default"), result.err


async def test_skiffctl_explains_a_wrong_ca_and_no_credentials(apiserver, pki, tmp_path, foreign_ca):
    wrong = env_with(tmp_path, pki, apiserver.target, **{"certificate-authority": foreign_ca})
    result = await run_skiffctl(wrong, "get", "ns")
    assert result.code == 1 and "Traceback" not in result.err
    assert "Unable to connect to the server: tls: failed to verify certificate" in result.err
    anonymous = env_with(tmp_path, pki, apiserver.target, cert=None)
    result = await run_skiffctl(anonymous, "get", "ns")
    assert (result.code, result.err.strip()) == (1, "error: You must be logged in to the server (Unauthorized)")


async def test_client_config_identities(apiserver, pki):
    async with Client(apiserver.target) as admin:  # $SKIFFCONFIG: the session's admin
        assert (await admin.get("ns", "default")).metadata.name == "default"
    async with Client(apiserver.target, config=pki.user_config("bob")) as bob:
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await bob.get("ns", "default")
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert 'User "bob" cannot get resource "namespaces"' in e.value.details()
